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

#include "guarded_ddl.h"
#include "intent.h"

PG_FUNCTION_INFO_V1(guarded_ddl_check);

#define CHECK_NCOLUMNS 13

static void add_preflight_intents(GuardStatement *stmt, Node *parsetree);
static void emit_intent(Tuplestorestate *store, TupleDesc desc, int stmt_no,
						GuardStatement *stmt, GuardIntent *intent);

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
		oldcxt = MemoryContextSwitchTo(stmt->context);
		stmt->intents = classify_statement(parsetree);
		assess_statement(stmt, parsetree);
		add_preflight_intents(stmt, parsetree);
		decide_all(stmt);
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

/*
 * What a real run learns only at sql_drop: the relations a DROP SCHEMA,
 * DROP OWNED or DROP EXTENSION takes with it (assess recorded a verdict for
 * each).
 */
static void
add_preflight_intents(GuardStatement *stmt, Node *parsetree)
{
	HASH_SEQ_STATUS status;
	GuardRelVerdict *verdict;

	if (!IsA(parsetree, DropStmt) && !IsA(parsetree, DropOwnedStmt))
		return;

	if (stmt->verdicts == NULL)
		return;
	hash_seq_init(&status, stmt->verdicts);
	while ((verdict = hash_seq_search(&status)) != NULL)
	{
		GuardIntent *intent;
		Oid			nsp = get_rel_namespace(verdict->relid);
		ListCell   *lc;
		bool		named = false;

		if (verdict->owned || !OidIsValid(nsp))
			continue;
		foreach(lc, stmt->intents)
		{
			if (((GuardIntent *) lfirst(lc))->data_relid == verdict->relid)
				named = true;
		}
		if (named)
			continue;
		intent = guard_intent_new(GUARD_OP_DROP, "table");
		ObjectAddressSet(intent->address, RelationRelationId, verdict->relid);
		intent->object_type = getObjectTypeDescription(&intent->address, true);
		intent->object_identity = getObjectIdentity(&intent->address, true);
		intent->schema_name = get_namespace_name(nsp);
		intent->object_name = get_rel_name(verdict->relid);
		intent->cascaded = true;
		intent->data_bearing = true;
		intent->data_relid = verdict->relid;
		intent->holds_data = verdict->holds_data;
		intent->row_estimate = verdict->row_estimate;
		if (intent->object_type != NULL && intent->object_identity != NULL)
			stmt->intents = lappend(stmt->intents, intent);
	}
}

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
