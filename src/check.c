/*-------------------------------------------------------------------------
 *
 * check.c
 *	  guarded_ddl.check(statements): preflight for CI pipelines.
 *
 *	  Parses the SQL and runs it through classify -> assess -> decide in
 *	  preflight mode -- share locks only, rows probed only where the caller
 *	  may read them, nothing executed, nothing audited -- and returns the
 *	  intents with the decision each would get now.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "classify.h"
#include "pipeline.h"
#include "statement.h"

PG_FUNCTION_INFO_V1(guarded_ddl_check);

#define CHECK_NCOLUMNS 13

static void emit_intent(Tuplestorestate *store, TupleDesc desc, int stmt_no,
						GuardStatement *stmt, GuardIntent *intent);

/*
 * guarded_ddl.check(statements): parse the SQL and return, per intent of
 * each statement, the decision it would get now.  Nothing is executed and
 * nothing is locked exclusively; rows are probed only where the caller may
 * read them.
 */
Datum
guarded_ddl_check(PG_FUNCTION_ARGS)
{
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	GuardCatalog catalog;
	List	   *raw;
	ListCell   *lc;
	int			stmt_no = 0;
	TupleDesc	desc;
	Tuplestorestate *store;
	MemoryContext oldcxt;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("guarded_ddl.check() must be called in a context that accepts a set")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "guarded_ddl.check(): return type must be a row type");
	if (!guard_catalog_lookup(&catalog))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("guarded_ddl is not installed in this database")));

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTupleDescCopy(desc);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(oldcxt);

	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	foreach(lc, raw)
	{
		RawStmt    *rawstmt = lfirst_node(RawStmt, lc);
		Node	   *parsetree = rawstmt->stmt;
		GuardStatement *stmt;
		ListCell   *ilc;

		stmt_no++;
		if (!classify_is_guarded_statement(parsetree))
			continue;

		stmt = statement_push(rawstmt,
							  GetCommandTagName(CreateCommandTag(parsetree)),
							  &catalog);
		stmt->preflight = true;
		pipeline_preflight(stmt, parsetree);
		oldcxt = MemoryContextSwitchTo(stmt->context);
		foreach(ilc, stmt->intents)
			emit_intent(store, desc, stmt_no, stmt, lfirst(ilc));
		MemoryContextSwitchTo(oldcxt);
		statement_pop(stmt);
	}

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	return (Datum) 0;
}

/* One row of check()'s result for one intent. */
static void
emit_intent(Tuplestorestate *store, TupleDesc desc, int stmt_no,
			GuardStatement *stmt, GuardIntent *intent)
{
	Datum		values[CHECK_NCOLUMNS];
	bool		nulls[CHECK_NCOLUMNS];

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int32GetDatum(stmt_no);
	values[1] = CStringGetTextDatum(stmt->command_tag);
	values[2] = CStringGetTextDatum(guard_operation_name(intent->operation));
	values[3] = CStringGetTextDatum(intent->object_type);
	values[4] = CStringGetTextDatum(intent->object_identity ? intent->object_identity : "");
	nulls[5] = intent->schema_name == NULL;
	values[5] = nulls[5] ? (Datum) 0 : CStringGetTextDatum(intent->schema_name);
	nulls[6] = intent->object_name == NULL;
	values[6] = nulls[6] ? (Datum) 0 : CStringGetTextDatum(intent->object_name);
	nulls[7] = intent->column_name == NULL;
	values[7] = nulls[7] ? (Datum) 0 : CStringGetTextDatum(intent->column_name);
	if (!intent->data_bearing)
		values[8] = BoolGetDatum(false);
	else if (intent->holds_data == GUARD_DATA_UNKNOWN)
		nulls[8] = true;
	else
		values[8] = BoolGetDatum(intent->holds_data == GUARD_DATA_PRESENT);
	nulls[9] = intent->row_estimate < 0;
	values[9] = Int64GetDatum(intent->row_estimate);
	values[10] = CStringGetTextDatum(guard_decision_name(intent->decision));
	nulls[11] = intent->policy_id == 0;
	values[11] = Int64GetDatum(intent->policy_id);
	nulls[12] = intent->reason == NULL;
	values[12] = nulls[12] ? (Datum) 0 : CStringGetTextDatum(intent->reason);
	tuplestore_putvalues(store, desc, values, nulls);
}
