/*-------------------------------------------------------------------------
 *
 * trash_columns.c
 *	  The recycle bin for columns (DESIGN §3.6, preloaded).  A soft_drop
 *	  rule matching a column turns ALTER TABLE ... DROP COLUMN, and a type
 *	  change that can lose values, into: first copy the column's values,
 *	  with the table's key, into a relation of guarded_ddl_trash; then let
 *	  the statement run exactly as written (same command tag, same result).
 *	  The event triggers judging it find the column kept (statement.c) and
 *	  record the intent as soft_dropped.  guarded_ddl.restore() adds the
 *	  column back and puts every value where its key still is.
 *
 *	  The key is the primary key, else a unique, immediate, non-partial
 *	  index on plain NOT NULL columns, none of them the column itself.  A
 *	  table without one -- or one that is no plain permanent table or
 *	  partitioned table (inheritance trees, temporary tables) -- keeps
 *	  nothing, and soft_drop counts as require_backup for its columns.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "catalog.h"
#include "pipeline.h"
#include "policy.h"
#include "statement.h"
#include "trash.h"

static bool column_table_eligible(const GuardCatalog *catalog, Oid relid);
static List *column_key(Relation rel, AttrNumber attnum);
static char *column_trash_name(const char *table, const char *column,
							   Oid trash_nsp);
static bool keep_column(const GuardCatalog *catalog, GuardIntent *intent,
						Oid trash_nsp);
static char *equality_operator(Oid relid, const char *column);
static void append_key_match(StringInfo buf, Oid relid, List *key);
static void rewrite_with_column(Oid relid, AttrNumber target,
								const char *column, const char *join);

/*
 * Called by the utility hook before an ALTER TABLE runs: keep the values of
 * every column a soft_drop rule matches and the statement would destroy.
 * The statement is only decided here, never refused: the event triggers
 * judge it as usual when it runs.  Returns whether any column was kept
 * (the caller forgets them once the statement is over).
 */
bool
trash_keep_columns(PlannedStmt *pstmt)
{
	AlterTableStmt *alter = (AlterTableStmt *) pstmt->utilityStmt;
	GuardCatalog catalog;
	GuardStatement *stmt;
	List	   *keep = NIL;
	bool		kept = false;
	Oid			trash_nsp;
	ListCell   *lc;

	if (alter->objtype != OBJECT_TABLE)
		return false;
	if (!guard_catalog_lookup(&catalog) ||
		!policy_has_action(&catalog, GUARD_ACTION_SOFT_DROP))
		return false;
	trash_nsp = get_namespace_oid(GUARD_TRASH_SCHEMA_NAME, true);
	if (!OidIsValid(trash_nsp) || statement_depth() > 0)
		return false;

	stmt = statement_push(alter, "ALTER TABLE", &catalog);
	pipeline_decide_only(stmt, (Node *) alter);
	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if (intent->action == GUARD_ACTION_SOFT_DROP &&
			(intent->operation == GUARD_OP_DROP ||
			 intent->operation == GUARD_OP_ALTER_TYPE) &&
			strcmp(intent->object_type, "table column") == 0 &&
			intent->address.classId == RelationRelationId &&
			guard_intent_destroys_data(intent) &&
			column_table_eligible(&catalog, intent->address.objectId))
			keep = lappend(keep, intent);
	}
	foreach(lc, keep)
		kept |= keep_column(&catalog, lfirst(lc), trash_nsp);
	statement_pop(stmt);
	if (kept)
		trash_apply_retention(&catalog);
	return kept;
}

/* A plain permanent table outside inheritance, or a partitioned table. */
static bool
column_table_eligible(const GuardCatalog *catalog, Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class classform;
	bool		eligible;

	if (!HeapTupleIsValid(tuple))
		return false;
	classform = (Form_pg_class) GETSTRUCT(tuple);
	eligible = classform->relpersistence == RELPERSISTENCE_PERMANENT &&
		classform->relnamespace != catalog->schema_oid &&
		classform->relnamespace != catalog->trash_schema_oid &&
		(classform->relkind == RELKIND_PARTITIONED_TABLE ||
		 (classform->relkind == RELKIND_RELATION &&
		  !classform->relispartition));
	ReleaseSysCache(tuple);
	return eligible &&
		(get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ||
		 (!has_subclass(relid) && !has_superclass(relid)));
}

/*
 * The key columns' names by which the values are matched again: the
 * primary key, else the first unique, immediate, valid, non-partial index
 * on plain NOT NULL columns; never one containing the column itself.  NIL
 * when there is none.
 */
static List *
column_key(Relation rel, AttrNumber attnum)
{
	List	   *best = NIL;
	bool		best_primary = false;
	ListCell   *lc;

	foreach(lc, RelationGetIndexList(rel))
	{
		HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index index;
		List	   *cols = NIL;
		bool		usable;

		if (!HeapTupleIsValid(tuple))
			continue;
		index = (Form_pg_index) GETSTRUCT(tuple);
		usable = index->indisunique && index->indimmediate &&
			index->indisvalid &&
			heap_attisnull(tuple, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(tuple, Anum_pg_index_indexprs, NULL);
		for (int i = 0; usable && i < index->indnkeyatts; i++)
		{
			AttrNumber	key = index->indkey.values[i];
			Form_pg_attribute att;

			if (key <= 0 || key == attnum)
			{
				usable = false;
				break;
			}
			att = TupleDescAttr(RelationGetDescr(rel), key - 1);
			if (!att->attnotnull)
				usable = false;
			else
				cols = lappend(cols, pstrdup(NameStr(att->attname)));
		}
		if (usable && (best == NIL || (index->indisprimary && !best_primary)))
		{
			best = cols;
			best_primary = index->indisprimary;
		}
		ReleaseSysCache(tuple);
	}
	return best;
}

/*
 * "<table>_<column>_gd", cut on a character boundary, with a number that
 * makes it unique in the trash schema.
 */
static char *
column_trash_name(const char *table, const char *column, Oid trash_nsp)
{
	char	   *base = psprintf("%s_%s", table, column);

	for (int n = 1;; n++)
	{
		char		suffix[24];
		int			len;
		char	   *name;

		snprintf(suffix, sizeof(suffix), "_gd%d", n);
		len = pg_mbcliplen(base, strlen(base),
						   NAMEDATALEN - 1 - (int) strlen(suffix));
		name = psprintf("%.*s%s", len, base, suffix);
		if (!OidIsValid(get_relname_relid(name, trash_nsp)))
			return name;
	}
}

/*
 * Copy key and column into a new relation of the trash (as the extension
 * owner: the caller has no right on the trash schema, and row security must
 * not hide rows from the copy), give it to the table's owner, record the
 * entry, and tell the event triggers the column is kept.  Nothing happens
 * for a table without a key (returns false): the statement is then judged
 * as require_backup.
 */
static bool
keep_column(const GuardCatalog *catalog, GuardIntent *intent, Oid trash_nsp)
{
	Oid			relid = intent->address.objectId;
	AttrNumber	attnum = (AttrNumber) intent->address.objectSubId;
	Relation	rel = relation_open(relid, NoLock);
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	List	   *key = column_key(rel, attnum);
	char	   *table = pstrdup(RelationGetRelationName(rel));
	char	   *schema = get_namespace_name(RelationGetNamespace(rel));
	char	   *column_type = format_type_with_typemod(att->atttypid, att->atttypmod);
	Oid			owner = rel->rd_rel->relowner;
	char	   *dropped_by = GetUserNameFromId(GetUserId(), false);
	char	   *trash_name;
	StringInfoData sql;
	GuardOwnerContext saved;
	Oid			trash_relid;
	ListCell   *lc;
	Oid			argtypes[11] = {TEXTOID, TEXTOID, TEXTOID, INT8OID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, INT8OID, TEXTOID, NAMEARRAYOID};
	Datum		values[11];
	char		nulls[11] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int			ret;

	relation_close(rel, NoLock);
	if (key == NIL)
		return false;

	trash_name = column_trash_name(table, intent->column_name, trash_nsp);
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s.%s AS SELECT ",
					 quote_identifier(GUARD_TRASH_SCHEMA_NAME),
					 quote_identifier(trash_name));
	foreach(lc, key)
		appendStringInfo(&sql, "%s, ", quote_identifier(lfirst(lc)));
	appendStringInfo(&sql, "%s FROM %s",
					 quote_identifier(intent->column_name),
					 quote_qualified_identifier(schema, table));

	guard_spi_connect_as_owner(catalog, &saved);
	ret = SPI_execute(sql.data, false, 0);
	if (ret != SPI_OK_UTILITY)
		elog(ERROR, "guarded_ddl: could not keep the values of column \"%s\": %s",
			 intent->column_name, SPI_result_code_string(ret));
	CommandCounterIncrement();
	trash_relid = get_relname_relid(trash_name, trash_nsp);
	ATExecChangeOwner(trash_relid, owner, false, AccessExclusiveLock);
	CommandCounterIncrement();

	values[0] = CStringGetTextDatum(schema);
	values[1] = CStringGetTextDatum(table);
	values[2] = CStringGetTextDatum(trash_name);
	values[3] = Int64GetDatum(intent->row_estimate);
	nulls[3] = intent->row_estimate < 0 ? 'n' : ' ';
	values[4] = CStringGetTextDatum(dropped_by);
	values[5] = CStringGetTextDatum(intent->operation == GUARD_OP_DROP
									? "drop" : "alter_type");
	values[6] = CStringGetTextDatum("table column");
	values[7] = CStringGetTextDatum(intent->column_name);
	values[8] = DirectFunctionCall1(pg_total_relation_size,
									ObjectIdGetDatum(trash_relid));
	values[9] = CStringGetTextDatum(column_type);
	values[10] = guard_name_array(key);
	ret = SPI_execute_with_args("INSERT INTO guarded_ddl.trash_bin"
								" (original_schema, original_name, trash_name,"
								"  row_estimate, dropped_by, operation, object_type,"
								"  column_name, size_bytes, column_type, key_columns)"
								" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
								11, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "guarded_ddl: could not record the trash entry: %s",
			 SPI_result_code_string(ret));
	guard_spi_finish_as_owner(&saved);

	/* a partitioned table's partitions lose the column with it */
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		statement_keep_column(lfirst_oid(lc), intent->column_name,
							  intent->operation, trash_name);
	ereport(NOTICE,
			(errmsg("the values of column \"%s\" were kept in the recycle bin as %s.%s",
					intent->object_identity, GUARD_TRASH_SCHEMA_NAME,
					quote_identifier(trash_name)),
			 errhint("guarded_ddl.restore() brings them back; see guarded_ddl.trash.")));
	return true;
}

/*
 * The equality operator of a key column's type, schema-qualified as
 * OPERATOR() wants it, so that no search_path decides what "=" means.
 */
static char *
equality_operator(Oid relid, const char *column)
{
	Oid			typid = get_atttype(relid, get_attnum(relid, column));
	TypeCacheEntry *entry = lookup_type_cache(typid, TYPECACHE_EQ_OPR);
	HeapTuple	tuple;
	Form_pg_operator oper;
	char	   *result;

	if (!OidIsValid(entry->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("could not identify an equality operator for type %s",
						format_type_be(typid))));
	tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(entry->eq_opr));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for operator %u", entry->eq_opr);
	oper = (Form_pg_operator) GETSTRUCT(tuple);
	result = psprintf("%s.%s", quote_identifier(get_namespace_name(oper->oprnamespace)),
					  NameStr(oper->oprname));
	ReleaseSysCache(tuple);
	return result;
}

/* "t.k1 OPERATOR(eq) b.k1 AND ...": a row of the table and its kept value. */
static void
append_key_match(StringInfo buf, Oid relid, List *key)
{
	const char *sep = "";
	ListCell   *lc;

	foreach(lc, key)
	{
		appendStringInfo(buf, "%st.%s OPERATOR(%s) b.%s", sep,
						 quote_identifier(lfirst(lc)),
						 equality_operator(relid, lfirst(lc)),
						 quote_identifier(lfirst(lc)));
		sep = " AND ";
	}
}

/*
 * Write the table anew once, as ALTER TABLE does when a column's type
 * changes, with every kept value in the column just added: one pass over
 * the rows and one index build, where an UPDATE would write every row a
 * second time and fire the table's triggers for something that is no
 * change of the user's.  The rows are read with the latest snapshot
 * (under the ACCESS EXCLUSIVE lock the ADD COLUMN took), so none committed
 * after the caller's snapshot is lost at any isolation level.
 */
static void
rewrite_with_column(Oid relid, AttrNumber target, const char *column,
					const char *join)
{
	Relation	rel = table_open(relid, NoLock);
	TupleDesc	desc = CreateTupleDescCopy(RelationGetDescr(rel));
	char		persistence = rel->rd_rel->relpersistence;
	Oid			newrelid = make_new_heap(relid, rel->rd_rel->reltablespace,
										 rel->rd_rel->relam, persistence,
										 AccessExclusiveLock);
	int		   *map = palloc0(sizeof(int) * desc->natts);
	int			ncols = 0;
	StringInfoData sql;
	Relation	newrel;
	TupleTableSlot *slot;
	BulkInsertState bistate;
	CommandId	cid = GetCurrentCommandId(true);
	Portal		portal;

	table_close(rel, NoLock);

	/* every live column of the table in order, the kept value for target */
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		map[i] = ++ncols;
		if (att->attnum == target)
			appendStringInfo(&sql, "%sb.%s", ncols > 1 ? ", " : "",
							 quote_identifier(column));
		else
			appendStringInfo(&sql, "%st.%s", ncols > 1 ? ", " : "",
							 quote_identifier(NameStr(att->attname)));
	}
	appendStringInfo(&sql, " FROM%s", join);

	newrel = table_open(newrelid, AccessExclusiveLock);
	slot = MakeSingleTupleTableSlot(RelationGetDescr(newrel), &TTSOpsVirtual);
	bistate = GetBulkInsertState();
	PushActiveSnapshot(GetLatestSnapshot());
	portal = SPI_cursor_open_with_args(NULL, sql.data, 0, NULL, NULL, NULL,
									   true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 row = 0; row < SPI_processed; row++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[row];

			ExecClearTuple(slot);
			for (int i = 0; i < desc->natts; i++)
			{
				if (map[i] == 0)
				{
					slot->tts_values[i] = (Datum) 0;
					slot->tts_isnull[i] = true;
				}
				else
					slot->tts_values[i] = SPI_getbinval(tuple, SPI_tuptable->tupdesc,
														map[i], &slot->tts_isnull[i]);
			}
			ExecStoreVirtualTuple(slot);
			table_tuple_insert(newrel, slot, cid, TABLE_INSERT_SKIP_FSM, bistate);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	PopActiveSnapshot();
	FreeBulkInsertState(bistate);
	table_finish_bulk_insert(newrel, TABLE_INSERT_SKIP_FSM);
	ExecDropSingleTupleTableSlot(slot);
	table_close(newrel, NoLock);

	/* the new storage replaces the old, the indexes are built anew */
	gd_finish_heap_swap(relid, newrelid, RecentXmin, ReadNextMultiXactId(),
						persistence);
}

/*
 * restore() of a column entry: add the column back to its table (under
 * new_name, or its own name) with its old type and collation, and put
 * every kept value on the row whose key it was kept with.  Rows inserted
 * since get NULL; rows deleted since stay deleted.  The caller must own
 * the table and the kept relation.  Returns the table.
 */
Oid
trash_restore_column(int64 trash_id, const char *original_schema,
					 const char *original_name, const char *trash_name,
					 const char *column, List *key, const char *new_name)
{
	Oid			nsp = get_namespace_oid(original_schema, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(original_name, nsp) : InvalidOid;
	Oid			trash_relid = get_relname_relid(trash_name,
												get_namespace_oid(GUARD_TRASH_SCHEMA_NAME, false));
	const char *target = new_name ? new_name : column;
	const char *table = quote_qualified_identifier(original_schema, original_name);
	Relation	trash;
	AttrNumber	attnum;
	Form_pg_attribute att;
	StringInfoData sql;
	ListCell   *lc;
	ObjectAddress object;
	StringInfoData join;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" does not exist", table),
				 errdetail("Recycle bin entry %lld keeps a column of that table.",
						   (long long) trash_id)));
	if (!OidIsValid(trash_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" is no longer in the recycle bin", trash_name)));
	if (!gd_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, original_name);
	if (!gd_class_ownercheck(trash_relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, trash_name);
	if (get_attnum(relid, target) != InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" already exists",
						target, table),
				 errhint("Pass a new name: SELECT guarded_ddl.restore(%lld, 'new_name');",
						 (long long) trash_id)));
	foreach(lc, key)
	{
		if (get_attnum(relid, lfirst(lc)) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("key column \"%s\" of relation \"%s\" does not exist",
							(char *) lfirst(lc), table),
					 errdetail("The kept values are matched to the rows by it.")));
	}

	/* the old type and collation, from the kept relation itself */
	trash = relation_open(trash_relid, AccessExclusiveLock);
	attnum = get_attnum(trash_relid, column);
	if (attnum == InvalidAttrNumber)
		elog(ERROR, "guarded_ddl: column \"%s\" is missing from %s", column, trash_name);
	att = TupleDescAttr(RelationGetDescr(trash), attnum - 1);

	initStringInfo(&sql);
	initStringInfo(&join);
	appendStringInfo(&sql, "ALTER TABLE %s ADD COLUMN %s %s", table,
					 quote_identifier(target),
					 format_type_with_typemod(att->atttypid, att->atttypmod));
	if (OidIsValid(att->attcollation) &&
		att->attcollation != get_typcollation(att->atttypid))
		appendStringInfo(&sql, " COLLATE %s",
						 generate_collation_name(att->attcollation));
	relation_close(trash, NoLock);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "guarded_ddl: SPI_connect failed");
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "guarded_ddl: could not add column \"%s\" back", target);

	CommandCounterIncrement();

	/* the join of the table with the kept values, on the key */
	resetStringInfo(&join);
	appendStringInfo(&join, " %s AS t LEFT JOIN %s.%s AS b ON ",
					 table, quote_identifier(GUARD_TRASH_SCHEMA_NAME),
					 quote_identifier(trash_name));
	append_key_match(&join, relid, key);

	if (get_rel_relkind(relid) == RELKIND_RELATION)
		rewrite_with_column(relid, get_attnum(relid, target), column, join.data);
	else
	{
		/* partitioned: each partition is updated in place */
		resetStringInfo(&sql);
		appendStringInfo(&sql, "UPDATE %s AS t SET %s = b.%s FROM %s.%s AS b WHERE ",
						 table, quote_identifier(target), quote_identifier(column),
						 quote_identifier(GUARD_TRASH_SCHEMA_NAME),
						 quote_identifier(trash_name));
		append_key_match(&sql, relid, key);
		if (SPI_execute(sql.data, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "guarded_ddl: could not put the values of column \"%s\" back", target);
	}
	SPI_finish();

	/* the values are home: the kept relation goes, inside the caller's xact */
	ObjectAddressSet(object, RelationRelationId, trash_relid);
	performDeletion(&object, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
	CommandCounterIncrement();
	return relid;
}
