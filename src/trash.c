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

#include "guarded_ddl.h"
#include "intent.h"
#include "policy.h"
#include "trash.h"

PG_FUNCTION_INFO_V1(guarded_ddl_restore);
PG_FUNCTION_INFO_V1(guarded_ddl_purge_trash);

/* Names given to an index or sequence on its way into the trash. */
typedef struct TrashRename
{
	char	   *from;
	char	   *to;
} TrashRename;

static bool soft_drop_eligible(const GuardStatement *stmt, Oid relid);
static bool drop_would_succeed(Oid relid, bool rethrow);
static List *move_to_trash(Oid relid, Oid trash_nsp, char **trash_name);
static char *trash_unique_name(const char *name, Oid relid);
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
	oldcxt = MemoryContextSwitchTo(stmt->context);
	stmt->intents = classify_statement((Node *) drop);
	assess_statement(stmt, (Node *) drop);
	decide_all(stmt);

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
	audit_record_statement(stmt);
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

static Datum
names_array(List *renames, bool to)
{
	Datum	   *elems = palloc(sizeof(Datum) * (list_length(renames) + 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, renames)
	{
		TrashRename *rename = lfirst(lc);

		elems[n++] = DirectFunctionCall1(namein,
										 CStringGetDatum(to ? rename->to : rename->from));
	}
	return PointerGetDatum(construct_array(elems, n, NAMEOID, NAMEDATALEN,
										   false, TYPALIGN_CHAR));
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

/*
 * guarded_ddl.restore(trash_id, new_name): move a soft-dropped table back.
 * The caller must own the table and may create in the original schema.
 */
Datum
guarded_ddl_restore(PG_FUNCTION_ARGS)
{
	int64		trash_id;
	char	   *new_name = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	GuardCatalog catalog;
	GuardOwnerContext saved;
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	int			ret;
	char	   *original_schema;
	char	   *original_name;
	char	   *trash_name;
	Datum	   *from_names = NULL;
	Datum	   *to_names = NULL;
	int			nrenames = 0;
	bool		isnull;
	Oid			trash_nsp;
	Oid			target_nsp;
	Oid			relid;
	char	   *target;
	Relation	rel;
	ObjectAddresses *moved;
	MemoryContext callcxt = CurrentMemoryContext;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("trash_id must not be NULL")));
	trash_id = PG_GETARG_INT64(0);
	if (!guard_catalog_lookup(&catalog))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("guarded_ddl is not installed in this database")));

	guard_spi_connect_as_owner(&catalog, &saved);
	args[0] = Int64GetDatum(trash_id);
	ret = SPI_execute_with_args("SELECT original_schema, original_name, trash_name,"
								"       renamed_from, renamed_to"
								"  FROM guarded_ddl.trash_bin"
								" WHERE id OPERATOR(pg_catalog.=) $1"
								"   AND restored_at IS NULL AND purged_at IS NULL"
								"   FOR UPDATE",
								1, argtypes, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("recycle bin entry %lld does not exist", (long long) trash_id),
				 errhint("See guarded_ddl.trash for the tables that can be restored.")));
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callcxt);
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		d;

		original_schema = SPI_getvalue(tuple, desc, 1);
		original_name = SPI_getvalue(tuple, desc, 2);
		trash_name = SPI_getvalue(tuple, desc, 3);
		d = SPI_getbinval(tuple, desc, 4, &isnull);
		if (!isnull)
			deconstruct_array(DatumGetArrayTypePCopy(d), NAMEOID, NAMEDATALEN,
							  false, TYPALIGN_CHAR, &from_names, NULL, &nrenames);
		d = SPI_getbinval(tuple, desc, 5, &isnull);
		if (!isnull)
			deconstruct_array(DatumGetArrayTypePCopy(d), NAMEOID, NAMEDATALEN,
							  false, TYPALIGN_CHAR, &to_names, NULL, &nrenames);
		MemoryContextSwitchTo(spicxt);
	}
	guard_spi_finish_as_owner(&saved);

	trash_nsp = get_namespace_oid(GUARD_TRASH_SCHEMA_NAME, false);
	relid = get_relname_relid(trash_name, trash_nsp);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" is no longer in the recycle bin", trash_name)));
	LockRelationOid(relid, AccessExclusiveLock);
	if (!gd_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, original_name);

	target_nsp = get_namespace_oid(original_schema, true);
	if (!OidIsValid(target_nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", original_schema),
				 errhint("Create the schema again, then restore the table.")));
	if (gd_namespace_aclcheck(target_nsp, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_SCHEMA, original_schema);

	target = new_name ? new_name : original_name;
	if (strlen(target) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("table name \"%s\" is too long", target)));
	if (OidIsValid(get_relname_relid(target, target_nsp)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists in schema \"%s\"",
						target, original_schema),
				 errhint("Pass a new name: SELECT guarded_ddl.restore(%lld, 'new_name');",
						 (long long) trash_id)));

	rel = relation_open(relid, NoLock);
	moved = new_object_addresses();
	AlterTableNamespaceInternal(rel, trash_nsp, target_nsp, moved);
	free_object_addresses(moved);
	relation_close(rel, NoLock);
	CommandCounterIncrement();
	RenameRelationInternal(relid, target, false, false);
	CommandCounterIncrement();

	/* indexes and sequences get their names back where those are free */
	for (int i = 0; i < nrenames && from_names && to_names; i++)
	{
		char	   *from = NameStr(*DatumGetName(from_names[i]));
		char	   *to = NameStr(*DatumGetName(to_names[i]));
		Oid			partid = get_relname_relid(to, target_nsp);

		if (!OidIsValid(partid))
			continue;
		if (OidIsValid(get_relname_relid(from, target_nsp)))
		{
			ereport(NOTICE,
					(errmsg("\"%s\" keeps the name \"%s\": \"%s\" is taken", from, to, from)));
			continue;
		}
		RenameRelationInternal(partid, from, false,
							   get_rel_relkind(partid) == RELKIND_INDEX);
		CommandCounterIncrement();
	}

	guard_spi_connect_as_owner(&catalog, &saved);
	{
		Oid			types[2] = {INT8OID, TEXTOID};
		Datum		vals[2];

		vals[0] = Int64GetDatum(trash_id);
		vals[1] = CStringGetTextDatum(quote_qualified_identifier(original_schema, target));
		ret = SPI_execute_with_args("UPDATE guarded_ddl.trash_bin"
									"   SET restored_at = pg_catalog.now(), restored_as = $2"
									" WHERE id OPERATOR(pg_catalog.=) $1",
									2, types, vals, NULL, false, 0);
	}
	guard_spi_finish_as_owner(&saved);

	ereport(LOG,
			(errmsg("guarded_ddl: %s restored recycle bin entry %lld as %s",
					GetUserNameFromId(GetUserId(), false), (long long) trash_id,
					quote_qualified_identifier(original_schema, target))));
	PG_RETURN_OID(relid);
}

/*
 * guarded_ddl.purge_trash(older_than): drop for real what has been in the
 * recycle bin longer than that.  Each drop is audited; nothing else of the
 * guard applies (granting EXECUTE on this function is the decision).
 */
Datum
guarded_ddl_purge_trash(PG_FUNCTION_ARGS)
{
	Interval   *older_than = PG_GETARG_INTERVAL_P(0);
	GuardCatalog catalog;
	GuardOwnerContext saved;
	GuardStatement *stmt;
	Oid			argtypes[1] = {INTERVALOID};
	Datum		args[1];
	List	   *ids = NIL;
	List	   *names = NIL;
	Oid			trash_nsp;
	ListCell   *lc;
	ListCell   *nlc;
	int64		purged = 0;
	int			ret;
	MemoryContext callcxt = CurrentMemoryContext;

	if (older_than->month < 0 || older_than->day < 0 || older_than->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must not be negative")));
	if (!guard_catalog_lookup(&catalog))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("guarded_ddl is not installed in this database")));
	trash_nsp = get_namespace_oid(GUARD_TRASH_SCHEMA_NAME, false);

	guard_spi_connect_as_owner(&catalog, &saved);
	args[0] = IntervalPGetDatum(older_than);
	ret = SPI_execute_with_args("SELECT id, trash_name FROM guarded_ddl.trash_bin"
								" WHERE restored_at IS NULL AND purged_at IS NULL"
								"   AND dropped_at OPERATOR(pg_catalog.<)"
								"       (pg_catalog.now() OPERATOR(pg_catalog.-) $1)"
								" ORDER BY id FOR UPDATE",
								1, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "guarded_ddl: could not read the recycle bin");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callcxt);
		bool		isnull;

		ids = lappend(ids, palloc(sizeof(int64)));
		*(int64 *) llast(ids) = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc,
															1, &isnull));
		names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i],
											SPI_tuptable->tupdesc, 2));
		MemoryContextSwitchTo(spicxt);
	}
	guard_spi_finish_as_owner(&saved);

	stmt = statement_push(fcinfo, "SELECT guarded_ddl.purge_trash", &catalog);
	forboth(lc, ids, nlc, names)
	{
		Oid			relid = get_relname_relid(lfirst(nlc), trash_nsp);
		MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);
		GuardIntent *intent;

		if (OidIsValid(relid))
		{
			LockRelationOid(relid, AccessExclusiveLock);
			intent = guard_intent_new(GUARD_OP_DROP, "table");
			ObjectAddressSet(intent->address, RelationRelationId, relid);
			intent->object_identity = getObjectIdentity(&intent->address, false);
			intent->schema_name = pstrdup(GUARD_TRASH_SCHEMA_NAME);
			intent->object_name = pstrdup(lfirst(nlc));
			intent->data_bearing = true;
			intent->holds_data = assess_relation(relid, true, &intent->row_estimate);
			intent->decision = GUARD_ALLOWED;
			intent->reason = psprintf("purged from the recycle bin (entry %lld)",
									  (long long) *(int64 *) lfirst(lc));
			stmt->intents = lappend(stmt->intents, intent);
			audit_prepare_statement(stmt);
			performDeletion(&intent->address, DROP_RESTRICT, 0);
			CommandCounterIncrement();
			purged++;
		}
		MemoryContextSwitchTo(oldcxt);
	}
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);

		audit_record_statement(stmt);
		MemoryContextSwitchTo(oldcxt);
	}
	statement_pop(stmt);

	guard_spi_connect_as_owner(&catalog, &saved);
	foreach(lc, ids)
	{
		Oid			types[1] = {INT8OID};
		Datum		vals[1];

		vals[0] = Int64GetDatum(*(int64 *) lfirst(lc));
		(void) SPI_execute_with_args("UPDATE guarded_ddl.trash_bin"
									 "   SET purged_at = pg_catalog.now()"
									 " WHERE id OPERATOR(pg_catalog.=) $1",
									 1, types, vals, NULL, false, 0);
	}
	guard_spi_finish_as_owner(&saved);

	PG_RETURN_INT64(purged);
}
