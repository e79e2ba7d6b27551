/*-------------------------------------------------------------------------
 *
 * trash_restore.c
 *	  Getting things out of the recycle bin: guarded_ddl.restore() moves a
 *	  soft-dropped table back, guarded_ddl.purge_trash() drops old entries
 *	  for real (each purge audited).
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
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "audit.h"
#include "catalog.h"
#include "pipeline.h"
#include "probe.h"
#include "statement.h"
#include "settings.h"
#include "trash.h"

PG_FUNCTION_INFO_V1(guarded_ddl_restore);
PG_FUNCTION_INFO_V1(guarded_ddl_purge_trash);

static void collect_entries(MemoryContext cxt, List **ids, List **names);
static void mark_restored(GuardCatalog *catalog, int64 trash_id,
						  const char *restored_as);
static int64 purge_entries(GuardCatalog *catalog, void *key, const char *tag,
						   List *ids, List *names, GuardDecision decision);
static void drop_moved_sequences(GuardCatalog *catalog, int64 trash_id,
								 Oid trash_nsp);

/*
 * guarded_ddl.restore(trash_id, new_name): move a soft-dropped table back,
 * or give back a column's values (trash_column_restore.c) or the rows of a
 * TRUNCATE (trash_truncate.c).  The caller must own what is in the bin.
 */
Datum
guarded_ddl_restore(PG_FUNCTION_ARGS)
{
	int64		trash_id;
	char	   *new_name = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	GuardCatalog catalog;
	GuardOwnerContext saved;
	Oid			argtypes[2] = {INT8OID, OIDOID};
	Datum		args[2];
	int			ret;
	char	   *original_schema;
	char	   *original_name;
	char	   *trash_name;
	char	   *column = NULL;
	List	   *key = NIL;
	Datum	   *from_names = NULL;
	Datum	   *to_names = NULL;
	int			nrenames = 0;
	bool		isnull;
	bool		truncated;
	char	   *recreate = NULL;
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

	/*
	 * Only an entry the caller may see (it dropped it, owns the table, or
	 * may read the whole bin): any other is reported as missing, so nothing
	 * is learned about it.
	 */
	args[1] = ObjectIdGetDatum(GetUserId());
	guard_spi_connect_as_owner(&catalog, &saved);
	args[0] = Int64GetDatum(trash_id);
	ret = SPI_execute_with_args("SELECT original_schema, original_name, trash_name,"
								"       renamed_from, renamed_to, column_name, key_columns,"
								"       operation, recreate::pg_catalog.text"
								"  FROM guarded_ddl.trash_bin"
								" WHERE id OPERATOR(pg_catalog.=) $1"
								"   AND restored_at IS NULL AND purged_at IS NULL"
								"   AND guarded_ddl.trash_entry_visible(id, $2)"
								"   FOR UPDATE",
								2, argtypes, args, NULL, false, 1);
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
		column = SPI_getvalue(tuple, desc, 6);
		d = SPI_getbinval(tuple, desc, 7, &isnull);
		if (!isnull)
		{
			Datum	   *keys;
			int			nkeys;

			deconstruct_array(DatumGetArrayTypePCopy(d), NAMEOID, NAMEDATALEN,
							  false, TYPALIGN_CHAR, &keys, NULL, &nkeys);
			for (int i = 0; i < nkeys; i++)
				key = lappend(key, pstrdup(NameStr(*DatumGetName(keys[i]))));
		}
		truncated = strcmp(SPI_getvalue(tuple, desc, 8), "truncate") == 0;
		recreate = SPI_getvalue(tuple, desc, 9);
		MemoryContextSwitchTo(spicxt);
	}
	guard_spi_finish_as_owner(&saved);

	/* a column entry: its table stays where it is; the column comes back */
	if (column != NULL)
	{
		relid = trash_restore_column(trash_id, original_schema, original_name,
									 trash_name, column, key, new_name);
		mark_restored(&catalog, trash_id,
					  psprintf("%s.%s", quote_qualified_identifier(original_schema,
																   original_name),
							   quote_identifier(new_name ? new_name : column)));
		PG_RETURN_OID(relid);
	}

	/* a TRUNCATE entry: its table may still be there, waiting for them */
	if (truncated)
	{
		char	   *restored_as;

		relid = trash_restore_truncated(trash_id, original_schema, original_name,
										trash_name, new_name, &restored_as);
		mark_restored(&catalog, trash_id, restored_as);
		PG_RETURN_OID(relid);
	}

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
	/* gone with DROP SCHEMA: the entry knows how to make it again */
	if (!OidIsValid(target_nsp) &&
		trash_recreate_schema(recreate, original_schema))
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

	/* partitions and sequences of defaults moved on their own: back too */
	for (int i = 0; i < nrenames && to_names; i++)
	{
		Oid			partid = get_relname_relid(NameStr(*DatumGetName(to_names[i])),
											   trash_nsp);
		char		relkind = OidIsValid(partid) ? get_rel_relkind(partid) : '\0';

		if (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
			relkind == RELKIND_SEQUENCE)
			trash_move_relation(partid, target_nsp);
	}

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

	/* what DROP ... CASCADE took with it */
	trash_recreate_dependents(recreate);

	mark_restored(&catalog, trash_id,
				  quote_qualified_identifier(original_schema, target));
	PG_RETURN_OID(relid);
}

/* The entry is restored (as what): recorded as the owner, and logged. */
static void
mark_restored(GuardCatalog *catalog, int64 trash_id, const char *restored_as)
{
	GuardOwnerContext saved;
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		vals[2];

	vals[0] = Int64GetDatum(trash_id);
	vals[1] = CStringGetTextDatum(restored_as);
	guard_spi_connect_as_owner(catalog, &saved);
	(void) SPI_execute_with_args("UPDATE guarded_ddl.trash_bin"
								 "   SET restored_at = pg_catalog.now(), restored_as = $2"
								 " WHERE id OPERATOR(pg_catalog.=) $1",
								 2, types, vals, NULL, false, 0);
	guard_spi_finish_as_owner(&saved);

	ereport(LOG,
			(errmsg("guarded_ddl: %s restored recycle bin entry %lld as %s",
					GetUserNameFromId(GetUserId(), false), (long long) trash_id,
					restored_as)));
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
	Oid			argtypes[2] = {INTERVALOID, OIDOID};
	Datum		args[2];
	List	   *ids = NIL;
	List	   *names = NIL;
	int64		purged;
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

	/* only the entries the caller may see (see restore()) */
	args[1] = ObjectIdGetDatum(GetUserId());
	guard_spi_connect_as_owner(&catalog, &saved);
	args[0] = IntervalPGetDatum(older_than);
	ret = SPI_execute_with_args("SELECT id, trash_name FROM guarded_ddl.trash_bin"
								" WHERE restored_at IS NULL AND purged_at IS NULL"
								"   AND dropped_at OPERATOR(pg_catalog.<)"
								"       (pg_catalog.now() OPERATOR(pg_catalog.-) $1)"
								"   AND guarded_ddl.trash_entry_visible(id, $2)"
								" ORDER BY id FOR UPDATE",
								2, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "guarded_ddl: could not read the recycle bin");
	collect_entries(callcxt, &ids, &names);
	guard_spi_finish_as_owner(&saved);

	purged = purge_entries(&catalog, fcinfo, "SELECT guarded_ddl.purge_trash",
						   ids, names, GUARD_ALLOWED);
	PG_RETURN_INT64(purged);
}

/*
 * Copy the (id, trash_name) rows of the last SPI SELECT into lists allocated
 * in cxt, so that they outlive SPI_finish: purging runs its own SPI calls.
 */
static void
collect_entries(MemoryContext cxt, List **ids, List **names)
{
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(cxt);
		bool		isnull;
		int64	   *id = palloc(sizeof(int64));

		*id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
										  SPI_tuptable->tupdesc, 1, &isnull));
		*ids = lappend(*ids, id);
		*names = lappend(*names, SPI_getvalue(SPI_tuptable->vals[i],
											  SPI_tuptable->tupdesc, 2));
		MemoryContextSwitchTo(spicxt);
	}
}

/*
 * Drop the recycle bin entries ids (with their tables' names) for real,
 * each audited -- GUARD_ALLOWED when purge_trash() asked for it,
 * GUARD_PURGED when retention did -- and mark them purged.  key identifies
 * the statement they are judged in.  Returns how many tables were dropped.
 */
static int64
purge_entries(GuardCatalog *catalog, void *key, const char *tag,
			  List *ids, List *names, GuardDecision decision)
{
	GuardOwnerContext saved;
	GuardStatement *stmt;
	Oid			trash_nsp = get_namespace_oid(GUARD_TRASH_SCHEMA_NAME, false);
	ListCell   *lc;
	ListCell   *nlc;
	int64		purged = 0;

	stmt = statement_push(key, tag, catalog);
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
			intent->holds_data = probe_relation(relid, true, &intent->row_estimate);
			intent->decision = decision;
			intent->reason = decision == GUARD_PURGED
				? psprintf("purged from the recycle bin by guarded_ddl.trash_retention or trash_max_size (entry %lld)",
						   (long long) *(int64 *) lfirst(lc))
				: psprintf("purged from the recycle bin (entry %lld)",
						   (long long) *(int64 *) lfirst(lc));
			stmt->intents = lappend(stmt->intents, intent);
			audit_prepare_statement(stmt);

			/*
			 * CASCADE: tables that went to the bin together keep their
			 * foreign keys to each other; the sequences of defaults that
			 * moved with the table go with it.
			 */
			performDeletion(&intent->address, DROP_CASCADE,
							PERFORM_DELETION_QUIETLY);
			CommandCounterIncrement();
			drop_moved_sequences(catalog, *(int64 *) lfirst(lc), trash_nsp);
			purged++;
		}
		MemoryContextSwitchTo(oldcxt);
	}
	pipeline_finish(stmt);
	statement_pop(stmt);

	guard_spi_connect_as_owner(catalog, &saved);
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
	return purged;
}

/*
 * The sequences an entry's table took along (renamed_to) that are still in
 * the bin once the table is gone: those no table owned.
 */
static void
drop_moved_sequences(GuardCatalog *catalog, int64 trash_id, Oid trash_nsp)
{
	GuardOwnerContext saved;
	Oid			types[1] = {INT8OID};
	Datum		vals[1];
	List	   *names = NIL;
	ListCell   *lc;
	MemoryContext callcxt = CurrentMemoryContext;

	vals[0] = Int64GetDatum(trash_id);
	guard_spi_connect_as_owner(catalog, &saved);
	if (SPI_execute_with_args("SELECT pg_catalog.unnest(renamed_to)::pg_catalog.text"
							  "  FROM guarded_ddl.trash_bin WHERE id OPERATOR(pg_catalog.=) $1",
							  1, types, vals, NULL, true, 0) == SPI_OK_SELECT)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callcxt);

		for (uint64 i = 0; i < SPI_processed; i++)
			names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i],
												SPI_tuptable->tupdesc, 1));
		MemoryContextSwitchTo(spicxt);
	}
	guard_spi_finish_as_owner(&saved);

	foreach(lc, names)
	{
		Oid			relid = get_relname_relid(lfirst(lc), trash_nsp);
		ObjectAddress address;

		if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_SEQUENCE)
			continue;
		ObjectAddressSet(address, RelationRelationId, relid);
		performDeletion(&address, DROP_RESTRICT, PERFORM_DELETION_QUIETLY);
		CommandCounterIncrement();
	}
}

/*
 * guarded_ddl.trash_retention and trash_max_size, applied after a soft
 * drop: entries older than the retention go, then the oldest ones until
 * the bin fits the size limit -- but never an entry made in this
 * transaction (the soft drop just done).  Every purge is audited as
 * 'purged'.  Runs as the extension owner.
 */
void
trash_apply_retention(GuardCatalog *catalog)
{
	GuardOwnerContext saved;
	Oid			argtypes[2] = {INTERVALOID, INT8OID};
	Datum		args[2];
	Interval	retention;
	List	   *ids = NIL;
	List	   *names = NIL;
	MemoryContext callcxt = CurrentMemoryContext;
	int			ret;

	memset(&retention, 0, sizeof(retention));
	retention.time = (int64) guard_trash_retention * 60 * USECS_PER_SEC;
	args[0] = IntervalPGetDatum(&retention);
	args[1] = Int64GetDatum((int64) guard_trash_max_size * 1024);

	guard_spi_connect_as_owner(catalog, &saved);
	if (guard_trash_max_size == 0)

		/*
		 * No size limit: the age alone decides, and no entry has to be
		 * measured (a stat() of every file of every entry, on every soft
		 * drop, grows with the bin).
		 */
		ret = SPI_execute_with_args("SELECT id, trash_name FROM guarded_ddl.trash_bin"
									" WHERE restored_at IS NULL AND purged_at IS NULL"
									"   AND dropped_at OPERATOR(pg_catalog.<)"
									"       (pg_catalog.now() OPERATOR(pg_catalog.-) $1)"
									" ORDER BY dropped_at, id",
									1, argtypes, args, NULL, true, 0);
	else

		/*
		 * The newest entries that fit the limit stay.  An entry's size is
		 * the one recorded when it went in, measured only where none was.
		 */
		ret = SPI_execute_with_args("SELECT b.id, b.trash_name"
									"  FROM (SELECT t.id, t.trash_name, t.dropped_at,"
									"               pg_catalog.sum(coalesce(t.size_bytes, pg_catalog.pg_total_relation_size(c.oid), 0))"
									"                 OVER (ORDER BY t.dropped_at DESC, t.id DESC) AS newer_total"
									"          FROM guarded_ddl.trash_bin AS t"
									"          LEFT JOIN (pg_catalog.pg_class AS c"
									"                     JOIN pg_catalog.pg_namespace AS n"
									"                       ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
									"                      AND n.nspname OPERATOR(pg_catalog.=) 'guarded_ddl_trash')"
									"            ON c.relname OPERATOR(pg_catalog.=) t.trash_name"
									"         WHERE t.restored_at IS NULL AND t.purged_at IS NULL) AS b"
									" WHERE b.dropped_at OPERATOR(pg_catalog.<) pg_catalog.now()"
									"   AND (b.dropped_at OPERATOR(pg_catalog.<)"
									"          (pg_catalog.now() OPERATOR(pg_catalog.-) $1)"
									"        OR b.newer_total OPERATOR(pg_catalog.>) $2)"
									" ORDER BY b.dropped_at, b.id",
									2, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "guarded_ddl: could not read the recycle bin");
	collect_entries(callcxt, &ids, &names);
	guard_spi_finish_as_owner(&saved);
	if (ids != NIL)
		(void) purge_entries(catalog, &retention, "guarded_ddl trash retention",
							 ids, names, GUARD_PURGED);
}
