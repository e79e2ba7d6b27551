/*-------------------------------------------------------------------------
 *
 * event_triggers.c
 *	  The four event trigger functions: thin glue that runs the pipeline
 *
 *	  ddl_command_start  classify -> assess -> decide -> enforce -> (restore point)
 *	  table_rewrite      classify the rewrite -> decide -> enforce
 *	  sql_drop           classify what was really dropped -> decide -> enforce
 *	  ddl_command_end    record the audit rows
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/event_trigger.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "utils/fmgroids.h"
#include "utils/tuplestore.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "tcop/cmdtag.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "audit.h"
#include "catalog.h"
#include "classify.h"
#include "pipeline.h"
#include "settings.h"
#include "statement.h"
#include "temp_guard.h"

PG_FUNCTION_INFO_V1(guarded_ddl_ddl_command_start);
PG_FUNCTION_INFO_V1(guarded_ddl_sql_drop);
PG_FUNCTION_INFO_V1(guarded_ddl_table_rewrite);
PG_FUNCTION_INFO_V1(guarded_ddl_ddl_command_end);

static EventTriggerData *event_data(FunctionCallInfo fcinfo);
static GuardStatement *statement_for_event(EventTriggerData *trigdata);
static List *read_dropped_objects(GuardStatement *stmt);
static bool dropped_type_is(TupleTableSlot *slot, const char *type);
static char *dropped_text(TupleTableSlot *slot, int attno);
static void audit_other_commands(GuardStatement *stmt);
static Oid	rewrite_relid(int *reason);
static bool statement_changes_guard(GuardStatement *stmt);

/*
 * Before the command runs: decide everything the parse tree names, so a
 * refused statement does no work at all.
 */
Datum
guarded_ddl_ddl_command_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = event_data(fcinfo);
	GuardCatalog catalog;
	GuardStatement *stmt;

	if (guard_should_skip() || !classify_is_guarded_statement(trigdata->parsetree))
		PG_RETURN_VOID();
	/* denials still being committed from this backend's last refusal */
	audit_worker_wait_pending();
	/* the hook may have judged this very statement already */
	if (statement_find(trigdata->parsetree) != NULL)
		PG_RETURN_VOID();
	if (!guard_catalog_lookup(&catalog))
		PG_RETURN_VOID();

	stmt = statement_push(trigdata->parsetree,
						  GetCommandTagName(trigdata->tag), &catalog);
	pipeline_command_start(stmt, trigdata->parsetree);

	/*
	 * An overridden change to guarded_ddl itself may take the audit table
	 * away (rename, drop): record it while the table is still there.
	 */
	if (statement_changes_guard(stmt))
		pipeline_finish(stmt);
	PG_RETURN_VOID();
}

/*
 * A table is about to be rewritten.  ALTER COLUMN TYPE was decided at the
 * start; a rewrite nothing announced is decided now.
 */
Datum
guarded_ddl_table_rewrite(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = event_data(fcinfo);
	GuardStatement *stmt;
	Oid			relid;
	int			reason;

	if (guard_should_skip())
		PG_RETURN_VOID();
	stmt = statement_for_event(trigdata);
	if (stmt == NULL)
		PG_RETURN_VOID();

	relid = rewrite_relid(&reason);
	pipeline_rewrite(stmt, relid, reason);
	PG_RETURN_VOID();
}

/*
 * The objects are gone from the catalogs.  Everything the statement really
 * dropped that was not decided at the start -- CASCADE victims, schema
 * contents, an extension's tables -- is decided now, failing closed for data
 * nobody could probe beforehand.
 */
Datum
guarded_ddl_sql_drop(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = event_data(fcinfo);
	GuardStatement *stmt;
	List	   *dropped;

	if (guard_should_skip())
		PG_RETURN_VOID();
	stmt = statement_for_event(trigdata);
	if (stmt == NULL)
		PG_RETURN_VOID();

	dropped = read_dropped_objects(stmt);
	pipeline_dropped(stmt, dropped);
	PG_RETURN_VOID();
}

/* The command succeeded: its intents go to the audit, in its transaction. */
Datum
guarded_ddl_ddl_command_end(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = event_data(fcinfo);
	GuardStatement *stmt = statement_find(trigdata->parsetree);
	GuardCatalog catalog;

	if (guard_should_skip())
	{
		if (stmt != NULL)
			statement_pop(stmt);
		PG_RETURN_VOID();
	}

	/* before anything is recorded: it may refuse the command */
	temp_guard_check(trigdata->parsetree);

	if (stmt == NULL)
	{
		if (guard_audit_level != GUARD_AUDIT_ALL || !guard_catalog_lookup(&catalog))
			PG_RETURN_VOID();
		stmt = statement_push(trigdata->parsetree,
							  GetCommandTagName(trigdata->tag), &catalog);
	}

	pipeline_finish(stmt);
	if (stmt->intents == NIL && guard_audit_level == GUARD_AUDIT_ALL)
		audit_other_commands(stmt);
	statement_pop(stmt);
	PG_RETURN_VOID();
}

static EventTriggerData *
event_data(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function must be called as an event trigger")));
	return (EventTriggerData *) fcinfo->context;
}

/*
 * The statement a mid-command event belongs to; created on the spot for
 * commands ddl_command_start had no reason to look at.
 */
static GuardStatement *
statement_for_event(EventTriggerData *trigdata)
{
	GuardStatement *stmt = statement_find(trigdata->parsetree);
	GuardCatalog catalog;

	if (stmt != NULL)
		return stmt;
	if (!guard_catalog_lookup(&catalog))
		return NULL;
	return statement_push(trigdata->parsetree,
						  GetCommandTagName(trigdata->tag), &catalog);
}

/*
 * pg_event_trigger_dropped_objects(), copied into the statement's memory:
 * the function is called directly, not through SQL, so nothing of it shows
 * up in pgaudit's log under the user's statement.  Internal parts (row
 * types, TOAST tables, indexes behind keys) belong to their owner's intent
 * and are skipped already, except relations, which may be partitions or
 * extension members; temporary objects hold nothing that outlives the
 * session.
 */
static List *
read_dropped_objects(GuardStatement *stmt)
{
	FmgrInfo	flinfo;
	ReturnSetInfo rsinfo;
	EState	   *estate = CreateExecutorState();
	TupleTableSlot *slot;
	List	   *result = NIL;
	LOCAL_FCINFO(fcinfo, 0);

	fmgr_info(F_PG_EVENT_TRIGGER_DROPPED_OBJECTS, &flinfo);
	memset(&rsinfo, 0, sizeof(rsinfo));
	rsinfo.type = T_ReturnSetInfo;
	rsinfo.econtext = CreateExprContext(estate);
	rsinfo.allowedModes = SFRM_Materialize;
	InitFunctionCallInfoData(*fcinfo, &flinfo, 0, InvalidOid, NULL,
							 (Node *) &rsinfo);
	(void) FunctionCallInvoke(fcinfo);
	if (rsinfo.setResult == NULL)
	{
		FreeExecutorState(estate);
		return NIL;
	}

	slot = MakeSingleTupleTableSlot(rsinfo.setDesc, &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(rsinfo.setResult, true, false, slot))
	{
		GuardDroppedObject *obj;
		MemoryContext oldcxt;
		bool		isnull;
		Datum		names;
		char	   *type;

		/*
		 * Most rows are internal parts (row types, indexes, constraints,
		 * defaults): told by the flags and the type, before anything is
		 * copied.
		 */
		if (DatumGetBool(slot_getattr(slot, 6, &isnull)) ||
			!(DatumGetBool(slot_getattr(slot, 4, &isnull)) ||
			  DatumGetBool(slot_getattr(slot, 5, &isnull)) ||
			  dropped_type_is(slot, "table") ||
			  dropped_type_is(slot, "materialized view")))
			continue;
		slot_getallattrs(slot);
		type = dropped_text(slot, 7);

		oldcxt = MemoryContextSwitchTo(stmt->context);
		obj = palloc0(sizeof(GuardDroppedObject));
		obj->address.classId = DatumGetObjectId(slot_getattr(slot, 1, &isnull));
		obj->address.objectId = DatumGetObjectId(slot_getattr(slot, 2, &isnull));
		obj->address.objectSubId = DatumGetInt32(slot_getattr(slot, 3, &isnull));
		obj->original = DatumGetBool(slot_getattr(slot, 4, &isnull));
		obj->normal = DatumGetBool(slot_getattr(slot, 5, &isnull));
		obj->is_temporary = false;
		obj->object_type = type ? pstrdup(type) : "?";
		obj->schema_name = dropped_text(slot, 8);
		obj->object_name = dropped_text(slot, 9);
		obj->object_identity = dropped_text(slot, 10);
		if (obj->object_identity == NULL)
			obj->object_identity = "?";

		names = slot_getattr(slot, 11, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *elemnulls;
			int			nelems;

			deconstruct_array(DatumGetArrayTypeP(names), TEXTOID, -1, false,
							  TYPALIGN_INT, &elems, &elemnulls, &nelems);
			for (int j = 0; j < nelems; j++)
				obj->address_names = lappend(obj->address_names,
											 elemnulls[j] ? pstrdup("")
											 : TextDatumGetCString(elems[j]));
		}
		result = lappend(result, obj);
		MemoryContextSwitchTo(oldcxt);
	}
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(rsinfo.setResult);
	FreeExecutorState(estate);
	return result;
}

/* Whether the object_type of the dropped-objects row is type. */
static bool
dropped_type_is(TupleTableSlot *slot, const char *type)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, 7, &isnull);
	text	   *t;

	if (isnull)
		return false;
	t = DatumGetTextPP(d);
	return VARSIZE_ANY_EXHDR(t) == strlen(type) &&
		memcmp(VARDATA_ANY(t), type, strlen(type)) == 0;
}

/* A text column of the dropped-objects row, palloc'd, or NULL. */
static char *
dropped_text(TupleTableSlot *slot, int attno)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, attno, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* audit = all: one row per object the command created or changed. */
static void
audit_other_commands(GuardStatement *stmt)
{
	List	   *objects = NIL;
	ListCell   *lc;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "guarded_ddl: SPI_connect failed");
	ret = SPI_execute("SELECT object_type, object_identity, schema_name"
					  "  FROM pg_catalog.pg_event_trigger_ddl_commands()",
					  true, 0);
	if (ret == SPI_OK_SELECT)
	{
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);
			char	  **row = palloc(sizeof(char *) * 3);

			row[0] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			row[1] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
			row[2] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
			objects = lappend(objects, row);
			MemoryContextSwitchTo(oldcxt);
		}
	}
	SPI_finish();

	if (objects == NIL)
		objects = list_make1(palloc0(sizeof(char *) * 3));
	foreach(lc, objects)
	{
		char	  **row = lfirst(lc);

		audit_record_command(stmt, row[0], row[1], row[2]);
	}
}

/*
 * pg_event_trigger_table_rewrite_oid() and _reason() take no arguments and
 * no flinfo: call them directly.
 */
static Oid
rewrite_relid(int *reason)
{
	LOCAL_FCINFO(fc, 0);

	InitFunctionCallInfoData(*fc, NULL, 0, InvalidOid, NULL, NULL);
	*reason = DatumGetInt32(pg_event_trigger_table_rewrite_reason(fc));
	InitFunctionCallInfoData(*fc, NULL, 0, InvalidOid, NULL, NULL);
	return DatumGetObjectId(pg_event_trigger_table_rewrite_oid(fc));
}

/* Whether an overridden intent of the statement targets guarded_ddl. */
static bool
statement_changes_guard(GuardStatement *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if (intent->refusal == GUARD_REFUSAL_SELF &&
			intent->decision == GUARD_OVERRIDDEN)
			return true;
	}
	return false;
}
