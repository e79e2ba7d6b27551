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
 *	  column back and puts every value where its key still is
 *	  (trash_column_restore.c).
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
#include "utils/guc.h"
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
static bool keep_column(const GuardCatalog *catalog, GuardIntent *intent,
						Oid trash_nsp);

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
	char		rel_kind = rel->rd_rel->relkind;
	bool		with_places;
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

	trash_name = trash_free_name(psprintf("%s_%s", table, intent->column_name),
								 "", trash_nsp);
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s.%s AS SELECT ",
					 quote_identifier(GUARD_TRASH_SCHEMA_NAME),
					 quote_identifier(trash_name));

	/*
	 * Each row's place in the table too, so that restore() can put most
	 * values back in one pass in physical order instead of a join
	 * (trash_column_restore.c); not for partitioned tables, whose places
	 * repeat from partition to partition.
	 */
	with_places = rel_kind == RELKIND_RELATION &&
		strcmp(intent->column_name, TRASH_ROW_COLUMN) != 0;
	foreach(lc, key)
	{
		if (strcmp(lfirst(lc), TRASH_ROW_COLUMN) == 0)
			with_places = false;
	}
	if (with_places)
		appendStringInfo(&sql, "ctid AS %s, ", TRASH_ROW_COLUMN);
	foreach(lc, key)
		appendStringInfo(&sql, "%s, ", quote_identifier(lfirst(lc)));
	appendStringInfo(&sql, "%s FROM %s",
					 quote_identifier(intent->column_name),
					 quote_qualified_identifier(schema, table));

	guard_spi_connect_as_owner(catalog, &saved);
	/* in physical order: one scan from the first block, not in parallel */
	(void) set_config_option("max_parallel_workers_per_gather", "0",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	(void) set_config_option("synchronize_seqscans", "off",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
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
