/*-------------------------------------------------------------------------
 *
 * trash_column_restore.c
 *	  restore() of a column kept in the recycle bin (trash_columns.c keeps
 *	  them): the column is added back to its table with its old type and
 *	  collation, and every kept value goes onto the row that has its key.
 *
 *	  A plain table is written anew once, as ALTER TABLE does when a
 *	  column's type changes: one pass over its rows in physical order beside
 *	  the kept relation, which was filled in that same order with each row's
 *	  place (ctid) -- a row still at its place with the same key takes its
 *	  value with no join at all.  What that pass cannot match (rows updated
 *	  or moved since) is set afterwards by key, for those rows only.  A
 *	  partitioned table is updated in place, by key.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/multixact.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "catalog.h"
#include "trash.h"

static char *equality_operator(Oid relid, const char *column);
static void append_key_match(StringInfo buf, Oid relid, List *key);
static List *rewrite_with_column(Oid relid, AttrNumber target,
								 Oid trash_relid, const char *column,
								 List *key);
static void set_unmatched_by_key(const char *table, Oid relid,
								 const char *target, const char *trash_name,
								 const char *column, List *key,
								 List *unmatched);

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

/* A key column of the table and of the kept relation, and its equality. */
typedef struct KeyMatch
{
	AttrNumber	table_att;
	AttrNumber	kept_att;
	Oid			collation;
	FmgrInfo	eq;
} KeyMatch;

/* Whether the table row and the kept row have the same key. */
static bool
same_key(KeyMatch *keys, int nkeys, TupleTableSlot *row, TupleTableSlot *kept)
{
	for (int k = 0; k < nkeys; k++)
	{
		bool		null1;
		bool		null2;
		Datum		a = slot_getattr(row, keys[k].table_att, &null1);
		Datum		b = slot_getattr(kept, keys[k].kept_att, &null2);

		if (null1 || null2 ||
			!DatumGetBool(FunctionCall2Coll(&keys[k].eq, keys[k].collation, a, b)))
			return false;
	}
	return true;
}

/*
 * Write the table anew once with the kept values in the column just
 * added, reading the table and the kept relation side by side in physical
 * order: a kept row whose place (TRASH_ROW_COLUMN) is the table row's and
 * whose key is the same gives its value.  Both are read with the latest
 * snapshot under the ACCESS EXCLUSIVE lock the ADD COLUMN took, so no row
 * committed after the caller's snapshot is lost at any isolation level; no
 * trigger fires (nothing the user changed).  Returns the places of the
 * kept rows that found no row this way (the row was updated, moved or
 * deleted since), for set_unmatched_by_key().
 */
static List *
rewrite_with_column(Oid relid, AttrNumber target, Oid trash_relid,
					const char *column, List *key)
{
	Relation	rel = table_open(relid, NoLock);
	Relation	kept = table_open(trash_relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	char		persistence = rel->rd_rel->relpersistence;
	Oid			newrelid = make_new_heap(relid, rel->rd_rel->reltablespace,
										 rel->rd_rel->relam, persistence,
										 AccessExclusiveLock);
	AttrNumber	row_att = get_attnum(trash_relid, TRASH_ROW_COLUMN);
	AttrNumber	value_att = get_attnum(trash_relid, column);
	int			nkeys = list_length(key);
	KeyMatch   *keys = palloc0(sizeof(KeyMatch) * (nkeys + 1));
	List	   *unmatched = NIL;
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	Relation	newrel = table_open(newrelid, AccessExclusiveLock);
	TupleTableSlot *row = table_slot_create(rel, NULL);
	TupleTableSlot *keptrow = table_slot_create(kept, NULL);
	TupleTableSlot *out = MakeSingleTupleTableSlot(RelationGetDescr(newrel),
												   &TTSOpsVirtual);
	BulkInsertState bistate = GetBulkInsertState();
	CommandId	cid = GetCurrentCommandId(true);
	TableScanDesc scan;
	TableScanDesc keptscan;
	bool		have_kept;
	int			n = 0;
	ListCell   *lc;

	foreach(lc, key)
	{
		AttrNumber	att = get_attnum(relid, lfirst(lc));
		Oid			typid = get_atttype(relid, att);

		keys[n].table_att = att;
		keys[n].kept_att = get_attnum(trash_relid, lfirst(lc));
		keys[n].collation = TupleDescAttr(desc, att - 1)->attcollation;
		fmgr_info(get_opcode(lookup_type_cache(typid, TYPECACHE_EQ_OPR)->eq_opr),
				  &keys[n].eq);
		n++;
	}

	/* no synchronized scans: both must start at their first block */
	scan = table_beginscan_strat(rel, snapshot, 0, NULL, true, false);
	keptscan = table_beginscan_strat(kept, snapshot, 0, NULL, true, false);
	have_kept = table_scan_getnextslot(keptscan, ForwardScanDirection, keptrow);
	while (table_scan_getnextslot(scan, ForwardScanDirection, row))
	{
		bool		matched = false;

		slot_getallattrs(row);

		/* kept rows before this place found no row: their row moved */
		while (have_kept && row_att != InvalidAttrNumber)
		{
			bool		isnull;
			ItemPointer place = (ItemPointer) DatumGetPointer(slot_getattr(keptrow, row_att,
																 &isnull));
			int			cmp = isnull ? -1 : ItemPointerCompare(place, &row->tts_tid);

			if (cmp < 0 || (cmp == 0 && !same_key(keys, nkeys, row, keptrow)))
			{
				if (!isnull)
				{
					ItemPointer copy = palloc(sizeof(ItemPointerData));

					ItemPointerCopy(place, copy);
					unmatched = lappend(unmatched, copy);
				}
				have_kept = table_scan_getnextslot(keptscan, ForwardScanDirection,
												   keptrow);
				if (cmp == 0)
					break;
				continue;
			}
			matched = (cmp == 0);
			break;
		}

		ExecClearTuple(out);
		for (int i = 0; i < desc->natts; i++)
		{
			if (TupleDescAttr(desc, i)->attisdropped)
			{
				out->tts_values[i] = (Datum) 0;
				out->tts_isnull[i] = true;
			}
			else if (i + 1 == target)
			{
				if (matched)
					out->tts_values[i] = slot_getattr(keptrow, value_att,
													  &out->tts_isnull[i]);
				else
				{
					out->tts_values[i] = (Datum) 0;
					out->tts_isnull[i] = true;
				}
			}
			else
			{
				out->tts_values[i] = row->tts_values[i];
				out->tts_isnull[i] = row->tts_isnull[i];
			}
		}
		ExecStoreVirtualTuple(out);
		table_tuple_insert(newrel, out, cid, TABLE_INSERT_SKIP_FSM, bistate);
		if (matched)
			have_kept = table_scan_getnextslot(keptscan, ForwardScanDirection,
											   keptrow);
	}

	/* kept rows left over (or all, for an entry without places) */
	while (have_kept)
	{
		bool		isnull = true;
		ItemPointer place = NULL;

		if (row_att != InvalidAttrNumber)
			place = (ItemPointer) DatumGetPointer(slot_getattr(keptrow, row_att,
															   &isnull));

		if (!isnull)
		{
			ItemPointer copy = palloc(sizeof(ItemPointerData));

			ItemPointerCopy(place, copy);
			unmatched = lappend(unmatched, copy);
		}
		else
			unmatched = lappend(unmatched, NULL);	/* match it all by key */
		have_kept = table_scan_getnextslot(keptscan, ForwardScanDirection, keptrow);
	}

	table_endscan(keptscan);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	FreeBulkInsertState(bistate);
	table_finish_bulk_insert(newrel, TABLE_INSERT_SKIP_FSM);
	ExecDropSingleTupleTableSlot(out);
	ExecDropSingleTupleTableSlot(keptrow);
	ExecDropSingleTupleTableSlot(row);
	table_close(newrel, NoLock);
	table_close(kept, NoLock);
	table_close(rel, NoLock);

	/* the new storage replaces the old, the indexes are built anew */
	gd_finish_heap_swap(relid, newrelid, RecentXmin, ReadNextMultiXactId(),
						persistence);
	CommandCounterIncrement();
	return unmatched;
}

/*
 * The kept values the pass in physical order could not place, by key: for
 * the kept rows at the places given (all of them when the list holds a
 * NULL: an entry without places), onto rows still without a value.
 */
static void
set_unmatched_by_key(const char *table, Oid relid, const char *target,
					 const char *trash_name, const char *column, List *key,
					 List *unmatched)
{
	StringInfoData sql;
	bool		all = list_member_ptr(unmatched, NULL);
	Datum	   *places = palloc(sizeof(Datum) * (list_length(unmatched) + 1));
	int			n = 0;
	Oid			argtypes[1] = {TIDARRAYOID};
	Datum		args[1];
	ListCell   *lc;

	foreach(lc, unmatched)
	{
		if (lfirst(lc) != NULL)
			places[n++] = PointerGetDatum(lfirst(lc));
	}
	args[0] = PointerGetDatum(construct_array(places, n, TIDOID,
											  sizeof(ItemPointerData), false,
											  TYPALIGN_SHORT));
	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s AS t SET %s = b.%s FROM %s.%s AS b WHERE ",
					 table, quote_identifier(target), quote_identifier(column),
					 quote_identifier(GUARD_TRASH_SCHEMA_NAME),
					 quote_identifier(trash_name));
	append_key_match(&sql, relid, key);
	appendStringInfo(&sql, " AND t.%s IS NULL", quote_identifier(target));
	if (!all)
		appendStringInfo(&sql, " AND b.%s OPERATOR(pg_catalog.=) ANY ($1)",
						 TRASH_ROW_COLUMN);
	if (SPI_execute_with_args(sql.data, 1, argtypes, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "guarded_ddl: could not put the values of column \"%s\" back", target);
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

	if (get_rel_relkind(relid) == RELKIND_RELATION)
	{
		List	   *unmatched = rewrite_with_column(relid, get_attnum(relid, target),
													trash_relid, column, key);

		if (unmatched != NIL)
			set_unmatched_by_key(table, relid, target, trash_name, column, key,
								 unmatched);
	}
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
