/*-------------------------------------------------------------------------
 *
 * trash.c
 *	  The recycle bin.  A policy rule with action soft_drop turns DROP TABLE
 *	  of a matching table into a move to the schema guarded_ddl_trash under
 *	  a unique name, with its indexes, constraints and owned sequences; the
 *	  client still sees DROP TABLE.  guarded_ddl.restore() moves it back,
 *	  guarded_ddl.purge_trash() drops old entries for real.
 *
 *	  What is not moved is dropped for real under the normal rules (where
 *	  soft_drop counts as require_backup): temporary tables, partitions and
 *	  partitioned tables, inheritance children, tables of extensions, and a
 *	  DROP ... CASCADE that would take other objects with it.  RESTRICT is
 *	  kept: a table other objects depend on fails to drop exactly as a real
 *	  DROP would, because a real DROP is tried first and rolled back.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "assess.h"
#include "audit.h"
#include "catalog.h"
#include "pipeline.h"
#include "policy.h"
#include "probe.h"
#include "settings.h"
#include "statement.h"
#include "trash.h"

/* Names given to an index or sequence on its way into the trash. */
typedef struct TrashRename
{
	char	   *from;
	char	   *to;
} TrashRename;

static bool soft_drop_eligible(const GuardStatement *stmt, Oid relid);
static char *trash_unique_name(const char *name, Oid relid);
static bool drop_would_succeed(Oid relid, bool rethrow);
static List *move_to_trash(Oid relid, Oid trash_nsp, char **trash_name);
static void record_trash_entry(GuardStatement *stmt, GuardIntent *intent,
							   const char *trash_name, List *renames);
static Datum names_array(List *renames, bool to);

/*
 * Called by the utility hook for DROP statements.  Returns the statement
 * that still has to run: pstmt itself when nothing is soft-dropped, a copy
 * naming only the tables dropped for real, or NULL when every table went to
 * the trash (qc then says DROP TABLE).
 */
PlannedStmt *
trash_soft_drop(PlannedStmt *pstmt, QueryCompletion *qc)
{
	DropStmt   *drop = (DropStmt *) pstmt->utilityStmt;
	GuardCatalog catalog;
	GuardStatement *stmt;
	MemoryContext oldcxt;
	List	   *soft = NIL;
	List	   *remaining = NIL;
	Oid			trash_nsp;
	ListCell   *lc;
	PlannedStmt *result = pstmt;

	if (drop->removeType != OBJECT_TABLE || drop->concurrent)
		return pstmt;
	if (!guard_catalog_lookup(&catalog) ||
		!policy_has_action(&catalog, GUARD_ACTION_SOFT_DROP))
		return pstmt;
	trash_nsp = get_namespace_oid(GUARD_TRASH_SCHEMA_NAME, true);
	if (!OidIsValid(trash_nsp))
		return pstmt;
	/* a dry run inside another command would feed its sql_drop list */
	if (statement_depth() > 0)
		return pstmt;

	stmt = statement_push(drop, "DROP TABLE", &catalog);
	pipeline_decide_only(stmt, (Node *) drop);
	oldcxt = MemoryContextSwitchTo(stmt->context);

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if (intent->action == GUARD_ACTION_SOFT_DROP &&
			soft_drop_eligible(stmt, intent->data_relid) &&
			drop_would_succeed(intent->data_relid,
							   drop->behavior == DROP_RESTRICT))
			soft = lappend(soft, intent);
	}
	if (soft == NIL)
	{
		MemoryContextSwitchTo(oldcxt);
		statement_pop(stmt);
		return pstmt;
	}

	/* the others run as a real DROP, judged again by the event triggers */
	foreach(lc, drop->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		bool		moved = false;
		ListCell   *slc;

		foreach(slc, soft)
		{
			if (((GuardIntent *) lfirst(slc))->data_relid == relid)
				moved = true;
		}
		if (!moved)
			remaining = lappend(remaining, lfirst(lc));
	}

	foreach(lc, soft)
	{
		GuardIntent *intent = lfirst(lc);
		char	   *trash_name;
		List	   *renames;

		renames = move_to_trash(intent->data_relid, trash_nsp, &trash_name);
		intent->decision = GUARD_SOFT_DROPPED;
		intent->reason = psprintf("moved to %s.%s",
								  GUARD_TRASH_SCHEMA_NAME,
								  quote_identifier(trash_name));
		intent->trash_name = trash_name;
		intent->trash_renames = renames;
	}
	/* only the soft-dropped intents are this statement's to audit */
	stmt->intents = soft;
	pipeline_finish(stmt);
	foreach(lc, soft)
	{
		GuardIntent *intent = lfirst(lc);

		record_trash_entry(stmt, intent, intent->trash_name,
						   intent->trash_renames);
		ereport(NOTICE,
				(errmsg("table \"%s\" was moved to the recycle bin as %s.%s",
						intent->object_identity, GUARD_TRASH_SCHEMA_NAME,
						quote_identifier(intent->trash_name)),
				 errhint("guarded_ddl.restore() brings it back; see guarded_ddl.trash.")));
	}
	MemoryContextSwitchTo(oldcxt);
	statement_pop(stmt);
	trash_apply_retention(&catalog);

	if (remaining == NIL)
	{
		if (qc)
			SetQueryCompletion(qc, CMDTAG_DROP_TABLE, 0);
		return NULL;
	}
	else
	{
		DropStmt   *rest = copyObject(drop);

		rest->objects = remaining;
		result = copyObject(pstmt);
		result->utilityStmt = (Node *) rest;
	}
	return result;
}

/*
 * A plain, permanent table that is no part of anything else.  Moving a
 * partition or an inheritance child would leave its rows visible through
 * the parent; a partitioned table would leave its partitions behind.
 */
static bool
soft_drop_eligible(const GuardStatement *stmt, Oid relid)
{
	HeapTuple	tuple;
	Form_pg_class classform;
	bool		eligible;

	if (!OidIsValid(relid))
		return false;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return false;
	classform = (Form_pg_class) GETSTRUCT(tuple);
	eligible = classform->relkind == RELKIND_RELATION &&
		classform->relpersistence != RELPERSISTENCE_TEMP &&
		!classform->relispartition &&
		classform->relnamespace != stmt->catalog.schema_oid &&
		classform->relnamespace != get_namespace_oid(GUARD_TRASH_SCHEMA_NAME, true);
	ReleaseSysCache(tuple);

	return eligible && !has_superclass(relid) &&
		!OidIsValid(getExtensionOfObject(RelationRelationId, relid));
}

/*
 * Try the real DROP ... RESTRICT in a subtransaction and roll it back:
 * PostgreSQL itself says whether other objects depend on the table, with
 * its own message.  With rethrow that message becomes the statement's error
 * (RESTRICT kept); without, the table is dropped for real instead (CASCADE).
 */
static bool
drop_would_succeed(Oid relid, bool rethrow)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;
	ObjectAddress object;

	ObjectAddressSet(object, RelationRelationId, relid);
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		performDeletion(&object, DROP_RESTRICT, 0);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;

	if (edata != NULL && rethrow)
		ReThrowError(edata);
	return edata == NULL;
}

/*
 * Rename the table, its indexes and owned sequences to names unique in the
 * trash (suffix _gd<oid>), then move it there with everything it owns.
 * Internal calls: no event trigger sees the move, no privilege on the trash
 * schema is needed -- the caller's right to drop was checked by assess.
 * Returns the renames of indexes and sequences for restore().
 */
static List *
move_to_trash(Oid relid, Oid trash_nsp, char **trash_name)
{
	Relation	rel;
	Oid			old_nsp;
	List	   *parts = NIL;
	List	   *renames = NIL;
	ListCell   *lc;
	ObjectAddresses *moved;

	rel = relation_open(relid, NoLock);
	old_nsp = RelationGetNamespace(rel);
	parts = list_concat(RelationGetIndexList(rel), getOwnedSequences(relid));
	relation_close(rel, NoLock);

	foreach(lc, parts)
	{
		Oid			partid = lfirst_oid(lc);
		TrashRename *rename = palloc(sizeof(TrashRename));

		rename->from = get_rel_name(partid);
		/* each part's own oid: two long names cut alike still differ */
		rename->to = trash_unique_name(rename->from, partid);
		RenameRelationInternal(partid, rename->to, true,
							   get_rel_relkind(partid) == RELKIND_INDEX);
		CommandCounterIncrement();
		renames = lappend(renames, rename);
	}

	*trash_name = trash_unique_name(get_rel_name(relid), relid);
	RenameRelationInternal(relid, *trash_name, true, false);
	CommandCounterIncrement();

	rel = relation_open(relid, NoLock);
	moved = new_object_addresses();
	AlterTableNamespaceInternal(rel, old_nsp, trash_nsp, moved);
	free_object_addresses(moved);
	relation_close(rel, NoLock);
	CommandCounterIncrement();
	return renames;
}

/*
 * name + "_gd<oid>", cut (on a character boundary) to fit NAMEDATALEN.  The
 * oid belongs to the object renamed, so the result is unique in the trash.
 */
static char *
trash_unique_name(const char *name, Oid relid)
{
	char		suffix[16];
	int			room;
	int			len;

	snprintf(suffix, sizeof(suffix), "_gd%u", relid);
	room = NAMEDATALEN - 1 - (int) strlen(suffix);
	len = pg_mbcliplen(name, strlen(name), room);
	return psprintf("%.*s%s", len, name, suffix);
}

/* A name[] of the old (to = false) or new names of the renamed parts. */
static Datum
names_array(List *renames, bool to)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, renames)
	{
		TrashRename *rename = lfirst(lc);

		names = lappend(names, to ? rename->to : rename->from);
	}
	return guard_name_array(names);
}

/* One row of guarded_ddl.trash_bin, written as the extension owner. */
static void
record_trash_entry(GuardStatement *stmt, GuardIntent *intent,
				   const char *trash_name, List *renames)
{
	GuardOwnerContext saved;
	Oid			argtypes[8] = {TEXTOID, TEXTOID, TEXTOID, INT8OID, TEXTOID,
	INT8OID, NAMEARRAYOID, NAMEARRAYOID};
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	const char *dropped_by = GetUserNameFromId(GetUserId(), false);
	int			ret;

	values[0] = CStringGetTextDatum(intent->schema_name);
	values[1] = CStringGetTextDatum(intent->object_name);
	values[2] = CStringGetTextDatum(trash_name);
	values[3] = Int64GetDatum(intent->row_estimate);
	if (intent->row_estimate < 0)
		nulls[3] = 'n';
	values[4] = CStringGetTextDatum(dropped_by);
	values[5] = Int64GetDatum(intent->audit_id);
	if (intent->audit_id == 0)
		nulls[5] = 'n';
	values[6] = names_array(renames, false);
	values[7] = names_array(renames, true);

	guard_spi_connect_as_owner(&stmt->catalog, &saved);
	ret = SPI_execute_with_args("INSERT INTO guarded_ddl.trash_bin"
								" (original_schema, original_name, trash_name,"
								"  row_estimate, dropped_by, audit_id,"
								"  renamed_from, renamed_to)"
								" VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
								8, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "guarded_ddl: could not record the trash entry: %s",
			 SPI_result_code_string(ret));
	guard_spi_finish_as_owner(&saved);
}

