/*-------------------------------------------------------------------------
 *
 * trash_truncate.c
 *	  The recycle bin for TRUNCATE (DESIGN §3.6, preloaded).  With a
 *	  soft_drop rule matching the table, TRUNCATE keeps the rows it removes
 *	  without copying a single one: before the command runs, the table's
 *	  storage -- heap with its free space and visibility maps, and its TOAST
 *	  relation -- is handed to a new relation of guarded_ddl_trash, and the
 *	  table gets that relation's fresh, empty storage in exchange.  TRUNCATE
 *	  then runs exactly as written (triggers, RESTART IDENTITY, CASCADE,
 *	  logical replication, its command tag) on a table that is already
 *	  empty; the only file it schedules for unlink is the empty one.  The
 *	  cost does not depend on the table's size.
 *
 *	  The exchange is a catalog update of pg_class (relfilenode and what
 *	  describes the file's contents): WAL-logged and transactional like any
 *	  other, so crash recovery and a standby replay it, and a rollback gives
 *	  the table its storage back.  The kept file is never named in the
 *	  commit record's list of relations to drop.
 *
 *	  The TOAST relation moves whole, under its own OID: the toast pointers
 *	  in the kept rows name that OID, so they stay valid without touching a
 *	  row.  The table takes the new relation's empty TOAST relation instead.
 *
 *	  guarded_ddl.restore() puts the rows back into the table with INSERT
 *	  ... SELECT when the table is still empty -- its constraints, triggers
 *	  and foreign keys see every row -- or hands the kept relation over
 *	  under the name given (or the original one, when the table is gone).
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/toast_internals.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "policy.h"
#include "probe.h"
#include "statement.h"
#include "trash.h"

static List *storage_members(const GuardStatement *stmt,
							 const GuardIntent *intent);
static char *keep_storage(Oid relid, Oid trash_nsp, Oid *bin_relid);
static void exchange_storage(Oid relid, Oid bin_relid);
static void name_toast(Oid toast_relid, Oid owner_relid, bool interim);
static void record_truncate_entry(const GuardCatalog *catalog, Oid relid,
								  Oid bin_relid, const char *trash_name,
								  int64 rows);
static void move_into(Oid bin_relid, Oid nsp, const char *name);
static void insert_kept_rows(Oid relid, Oid bin_relid, Oid nsp,
							 const char *trash_name);

/*
 * Called by the utility hook once a TRUNCATE is decided, before it is
 * enforced and run: the storage of every table a soft_drop intent would
 * empty goes to the recycle bin, and the intent records where
 * (intent->trash_name), so that deciding it again makes it soft_dropped.
 * Returns whether anything was kept.
 */
bool
trash_keep_truncated(GuardStatement *stmt)
{
	Oid			trash_nsp = stmt->catalog.trash_schema_oid;
	List	   *moved = NIL;
	bool		kept = false;
	ListCell   *lc;

	if (!OidIsValid(trash_nsp) ||
		!policy_has_action(&stmt->catalog, GUARD_ACTION_SOFT_DROP) ||
		!trash_bin_has_column(&stmt->catalog, "operation"))
		return false;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);
		List	   *members;
		ListCell   *mlc;
		char	   *first = NULL;

		if (intent->operation != GUARD_OP_TRUNCATE ||
			intent->action != GUARD_ACTION_SOFT_DROP ||
			intent->decision == GUARD_SOFT_DROPPED ||
			!guard_intent_destroys_data(intent))
			continue;
		members = storage_members(stmt, intent);
		if (members == NIL)
			continue;			/* nothing that can be kept: require_backup */

		foreach(mlc, members)
		{
			Oid			relid = lfirst_oid(mlc);
			Oid			bin_relid;
			int64		rows;
			char	   *trash_name;

			if (list_member_oid(moved, relid) ||
				probe_relation(relid, true, &rows) == GUARD_DATA_NONE)
				continue;
			trash_name = keep_storage(relid, trash_nsp, &bin_relid);
			record_truncate_entry(&stmt->catalog, relid, bin_relid,
								  trash_name, rows);
			moved = lappend_oid(moved, relid);
			if (first == NULL)
				first = MemoryContextStrdup(stmt->context, trash_name);
		}
		/* every member with rows is kept; a tree names its first one */
		if (first != NULL)
		{
			intent->trash_name = first;
			kept = true;
		}
	}
	if (moved != NIL)
		trash_apply_retention(&stmt->catalog);
	return kept;
}

/*
 * The relations whose storage the intent's TRUNCATE empties: the table, or
 * with its inheritance children and partitions when the command takes
 * them.  NIL when one of them cannot be kept (a foreign table, a table the
 * caller may not truncate -- PostgreSQL refuses that itself --, guarded_ddl's
 * own): then nothing is moved and soft_drop counts as require_backup.
 */
static List *
storage_members(const GuardStatement *stmt, const GuardIntent *intent)
{
	List	   *tree;
	List	   *members = NIL;
	ListCell   *lc;

	if (!OidIsValid(intent->data_relid) ||
		pg_class_aclcheck(intent->data_relid, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
		return NIL;
	if (intent->relation != NULL && intent->relation->inh)
		tree = find_all_inheritors(intent->data_relid, AccessExclusiveLock, NULL);
	else
		tree = list_make1_oid(intent->data_relid);

	foreach(lc, tree)
	{
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_class classform;
		bool		keepable;

		if (!HeapTupleIsValid(tuple))
			return NIL;
		classform = (Form_pg_class) GETSTRUCT(tuple);
		keepable = (classform->relkind == RELKIND_RELATION ||
					classform->relkind == RELKIND_PARTITIONED_TABLE) &&
			classform->relpersistence != RELPERSISTENCE_TEMP &&
			classform->relnamespace != stmt->catalog.schema_oid &&
			classform->relnamespace != stmt->catalog.trash_schema_oid;
		if (keepable && classform->relkind == RELKIND_RELATION)
			members = lappend_oid(members, lfirst_oid(lc));
		ReleaseSysCache(tuple);
		if (!keepable)
			return NIL;
	}
	return members;
}

/*
 * Give the table's storage to a new relation of the recycle bin, and the
 * new relation's empty storage to the table.  The new relation is built
 * like CLUSTER's transient heap (same row layout, dropped columns
 * included, same access method, persistence and options, owned by the
 * table's owner), then moved into guarded_ddl_trash under a unique name,
 * which is returned.
 */
static char *
keep_storage(Oid relid, Oid trash_nsp, Oid *bin_relid)
{
	Relation	rel;
	Oid			tablespace;
	Oid			access_method;
	char		persistence;
	char	   *relname;
	char	   *trash_name;

	LockRelationOid(relid, AccessExclusiveLock);
	rel = table_open(relid, NoLock);
	tablespace = rel->rd_rel->reltablespace;
	access_method = rel->rd_rel->relam;
	persistence = rel->rd_rel->relpersistence;
	relname = pstrdup(RelationGetRelationName(rel));
	table_close(rel, NoLock);

	*bin_relid = make_new_heap(relid, tablespace, access_method, persistence,
							   AccessExclusiveLock);
	exchange_storage(relid, *bin_relid);

	trash_name = trash_free_name(relname, "t", trash_nsp);
	move_into(*bin_relid, trash_nsp, trash_name);
	return trash_name;
}

/*
 * Swap what pg_class says about the two relations' files: the file itself
 * (relfilenode), the statistics describing it, the horizons its tuples
 * respect (relfrozenxid, relminmxid: the kept rows keep theirs), and the
 * TOAST relation.  The new relation was made as a rewrite of the table;
 * kept for good, it is no rewrite (logical decoding would skip its
 * changes), so relrewrite is cleared on it and on its TOAST relation.
 */
static void
exchange_storage(Oid relid, Oid bin_relid)
{
	Relation	classrel = table_open(RelationRelationId, RowExclusiveLock);
	HeapTuple	table_tuple = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(relid));
	HeapTuple	bin_tuple = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(bin_relid));
	Form_pg_class table_form;
	Form_pg_class bin_form;
	Oid			table_toast;
	Oid			bin_toast;

	if (!HeapTupleIsValid(table_tuple) || !HeapTupleIsValid(bin_tuple))
		elog(ERROR, "guarded_ddl: cache lookup failed for relation %u or %u",
			 relid, bin_relid);
	table_form = (Form_pg_class) GETSTRUCT(table_tuple);
	bin_form = (Form_pg_class) GETSTRUCT(bin_tuple);
	table_toast = table_form->reltoastrelid;
	bin_toast = bin_form->reltoastrelid;

#define SWAP_FIELD(type, field) \
	do { \
		type		swap_tmp = table_form->field; \
		table_form->field = bin_form->field; \
		bin_form->field = swap_tmp; \
	} while (0)
	SWAP_FIELD(Oid, relfilenode);
	SWAP_FIELD(int32, relpages);
	SWAP_FIELD(float4, reltuples);
	SWAP_FIELD(int32, relallvisible);
	SWAP_FIELD(TransactionId, relfrozenxid);
	SWAP_FIELD(MultiXactId, relminmxid);
	SWAP_FIELD(Oid, reltoastrelid);
#undef SWAP_FIELD
	bin_form->relrewrite = InvalidOid;

	CatalogTupleUpdate(classrel, &table_tuple->t_self, table_tuple);
	CatalogTupleUpdate(classrel, &bin_tuple->t_self, bin_tuple);
	heap_freetuple(table_tuple);
	heap_freetuple(bin_tuple);

	/* each TOAST relation now belongs to the other one */
	if (OidIsValid(table_toast))
		changeDependencyFor(RelationRelationId, table_toast,
							RelationRelationId, relid, bin_relid);
	if (OidIsValid(bin_toast))
	{
		HeapTuple	toast_tuple = SearchSysCacheCopy1(RELOID,
													  ObjectIdGetDatum(bin_toast));

		if (!HeapTupleIsValid(toast_tuple))
			elog(ERROR, "guarded_ddl: cache lookup failed for relation %u",
				 bin_toast);
		((Form_pg_class) GETSTRUCT(toast_tuple))->relrewrite = InvalidOid;
		CatalogTupleUpdate(classrel, &toast_tuple->t_self, toast_tuple);
		heap_freetuple(toast_tuple);
		changeDependencyFor(RelationRelationId, bin_toast,
							RelationRelationId, bin_relid, relid);
	}
	table_close(classrel, RowExclusiveLock);
	CommandCounterIncrement();

	/* pg_toast_<owner>: the two swap names, so one steps aside first */
	if (OidIsValid(table_toast))
		name_toast(table_toast, bin_relid, true);
	if (OidIsValid(bin_toast))
		name_toast(bin_toast, relid, false);
	if (OidIsValid(table_toast))
		name_toast(table_toast, bin_relid, false);
}

/*
 * Name a TOAST relation and its index after the relation owning them, as
 * PostgreSQL does (pg_toast_<oid>, pg_toast_<oid>_index); interim names
 * make room while two of them trade names.
 */
static void
name_toast(Oid toast_relid, Oid owner_relid, bool interim)
{
	char		name[NAMEDATALEN];
	Oid			index_relid = toast_get_valid_index(toast_relid, AccessExclusiveLock);

	snprintf(name, sizeof(name), interim ? "pg_toast_%u_gd" : "pg_toast_%u",
			 owner_relid);
	RenameRelationInternal(toast_relid, name, true, false);
	snprintf(name, sizeof(name), interim ? "pg_toast_%u_gd_index" : "pg_toast_%u_index",
			 owner_relid);
	RenameRelationInternal(index_relid, name, true, true);
	CommandCounterIncrement();
}

/*
 * Move a relation of the recycle bin into a schema, under a name.  It
 * travels under a name of its own oid, free on both sides, so that neither
 * its old name nor the new one can clash on the way.
 */
static void
move_into(Oid bin_relid, Oid nsp, const char *name)
{
	Relation	rel = relation_open(bin_relid, AccessExclusiveLock);
	Oid			from = RelationGetNamespace(rel);
	bool		renamed = strcmp(RelationGetRelationName(rel), name) != 0;

	relation_close(rel, NoLock);
	if (from != nsp)
	{
		char		travel[NAMEDATALEN];

		snprintf(travel, sizeof(travel), "guarded_ddl_moving_%u", bin_relid);
		RenameRelationInternal(bin_relid, travel, false, false);
		CommandCounterIncrement();
		trash_move_relation(bin_relid, nsp);
		renamed = true;
	}
	if (renamed)
	{
		RenameRelationInternal(bin_relid, name, false, false);
		CommandCounterIncrement();
	}
}

/* One row of guarded_ddl.trash_bin, written as the extension owner. */
static void
record_truncate_entry(const GuardCatalog *catalog, Oid relid, Oid bin_relid,
					  const char *trash_name, int64 rows)
{
	GuardOwnerContext saved;
	Oid			argtypes[6] = {TEXTOID, TEXTOID, TEXTOID, INT8OID, TEXTOID, INT8OID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	char	   *schema = get_namespace_name(get_rel_namespace(relid));
	char	   *table = get_rel_name(relid);
	int			ret;

	values[0] = CStringGetTextDatum(schema);
	values[1] = CStringGetTextDatum(table);
	values[2] = CStringGetTextDatum(trash_name);
	values[3] = Int64GetDatum(rows);
	nulls[3] = rows < 0 ? 'n' : ' ';
	values[4] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[5] = DirectFunctionCall1(pg_total_relation_size,
									ObjectIdGetDatum(bin_relid));

	guard_spi_connect_as_owner(catalog, &saved);
	ret = SPI_execute_with_args("INSERT INTO guarded_ddl.trash_bin"
								" (original_schema, original_name, trash_name,"
								"  row_estimate, dropped_by, size_bytes, operation)"
								" VALUES ($1, $2, $3, $4, $5, $6, 'truncate')",
								6, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "guarded_ddl: could not record the trash entry: %s",
			 SPI_result_code_string(ret));
	guard_spi_finish_as_owner(&saved);

	ereport(NOTICE,
			(errmsg("the rows of table %s were kept in the recycle bin as %s.%s",
					quote_qualified_identifier(schema, table),
					GUARD_TRASH_SCHEMA_NAME, quote_identifier(trash_name)),
			 errhint("guarded_ddl.restore() brings them back; see guarded_ddl.trash.")));
}

/*
 * restore() of a TRUNCATE entry: the rows go back into the table when it is
 * still there and empty and no new name is given; otherwise the kept
 * relation itself becomes new_name (or the original name, when the table
 * is gone) in the original schema -- a plain table holding the rows,
 * without the indexes and constraints of the original.  Returns the
 * relation holding the rows; *restored_as names it for the bin.
 */
Oid
trash_restore_truncated(int64 trash_id, const char *schema, const char *table,
						const char *trash_name, const char *new_name,
						char **restored_as)
{
	Oid			trash_nsp = get_namespace_oid(GUARD_TRASH_SCHEMA_NAME, false);
	Oid			bin_relid = get_relname_relid(trash_name, trash_nsp);
	Oid			nsp;
	Oid			relid;
	const char *target;

	if (!OidIsValid(bin_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" is no longer in the recycle bin", trash_name)));
	LockRelationOid(bin_relid, AccessExclusiveLock);
	if (!gd_class_ownercheck(bin_relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, table);
	nsp = get_namespace_oid(schema, true);
	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", schema),
				 errhint("Create the schema again, then restore the rows.")));

	relid = new_name ? InvalidOid : get_relname_relid(table, nsp);
	if (OidIsValid(relid))
	{
		int64		rows;

		/* the right to insert first: no lock on a table one may not touch */
		if (pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, table);
		LockRelationOid(relid, AccessExclusiveLock);
		if (get_rel_relkind(relid) != RELKIND_RELATION ||
			probe_relation(relid, true, &rows) != GUARD_DATA_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table %s is not empty",
							quote_qualified_identifier(schema, table)),
					 errdetail("restore() puts truncated rows back only into an empty table."),
					 errhint("Pass a new name to get them as a table of their own: SELECT guarded_ddl.restore(%lld, 'new_name');",
							 (long long) trash_id)));
		insert_kept_rows(relid, bin_relid, nsp, trash_name);
		*restored_as = quote_qualified_identifier(schema, table);
		return relid;
	}

	target = new_name ? new_name : table;
	if (strlen(target) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("table name \"%s\" is too long", target)));
	if (gd_namespace_aclcheck(nsp, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_SCHEMA, schema);
	if (OidIsValid(get_relname_relid(target, nsp)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists in schema \"%s\"",
						target, schema),
				 errhint("Pass another name: SELECT guarded_ddl.restore(%lld, 'new_name');",
						 (long long) trash_id)));
	move_into(bin_relid, nsp, target);
	*restored_as = quote_qualified_identifier(schema, target);
	return bin_relid;
}

/*
 * INSERT INTO the table SELECT the kept rows, as the caller: every column
 * the two share by name, except those the table generates itself; identity
 * values come back as they were.  The kept relation is first moved next to
 * the table (the caller has no right on the recycle bin's schema) and
 * dropped once its rows are back.
 */
static void
insert_kept_rows(Oid relid, Oid bin_relid, Oid nsp, const char *trash_name)
{
	Relation	bin = relation_open(bin_relid, NoLock);
	TupleDesc	desc = RelationGetDescr(bin);
	char	   *nspname = get_namespace_name(nsp);
	char	   *interim = pstrdup(trash_name);
	StringInfoData cols;
	StringInfoData sql;
	ObjectAddress address;
	int			ret;

	initStringInfo(&cols);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		AttrNumber	attnum;

		if (att->attisdropped)
			continue;
		attnum = get_attnum(relid, NameStr(att->attname));
		if (attnum <= 0 || get_attgenerated(relid, attnum) != '\0')
			continue;
		appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "",
						 quote_identifier(NameStr(att->attname)));
	}
	relation_close(bin, NoLock);
	if (cols.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has no column of the kept rows any more",
						quote_qualified_identifier(nspname, get_rel_name(relid))),
				 errhint("Pass a new name to get them as a table of their own.")));

	for (int n = 1; OidIsValid(get_relname_relid(interim, nsp)); n++)
		interim = psprintf("%.*s_%d",
						   pg_mbcliplen(trash_name, strlen(trash_name), NAMEDATALEN - 12),
						   trash_name, n);
	move_into(bin_relid, nsp, interim);

	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s",
					 quote_qualified_identifier(nspname, get_rel_name(relid)),
					 cols.data, cols.data,
					 quote_qualified_identifier(nspname, interim));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "guarded_ddl: SPI_connect failed");
	ret = SPI_execute(sql.data, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "guarded_ddl: could not put the rows back: %s",
			 SPI_result_code_string(ret));
	SPI_finish();
	CommandCounterIncrement();

	ObjectAddressSet(address, RelationRelationId, bin_relid);
	performDeletion(&address, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
	CommandCounterIncrement();
}
