/*-------------------------------------------------------------------------
 *
 * classify_delete.c
 *	  DELETE without a WHERE clause (the delete_all operation, DESIGN §3.1),
 *	  read from the plan the executor is about to run.
 *
 *	  The plan, not the parse tree, because it is what every path has in
 *	  common: top-level statements, SQL and PL/pgSQL functions, DO blocks,
 *	  prepared statements and cached plans all pass ExecutorStart with one,
 *	  and a DELETE inside a CTE is a ModifyTable at the top of one of its
 *	  subplans.  The planner has already folded constant conditions away,
 *	  so WHERE true (or 1 = 1) leaves a scan without a qual, exactly like no
 *	  WHERE at all; a WHERE that filters leaves a qual, an index condition
 *	  or a TID condition behind, and DELETE ... USING with a join condition
 *	  leaves a join clause.  Anything this file does not recognise as
 *	  "every row" is not judged: delete_all is opt-in, and a false alarm on
 *	  an application's DELETE would take its availability hostage.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

#include "classify.h"

static bool reads_every_row(Plan *plan);
static bool deletes_every_row(Plan *plan);

/*
 * Whether the plan node returns every row of what it scans: no condition
 * anywhere below it.  Sequential scans, the Append / MergeAppend over the
 * partitions or children of an inheritance tree, and projections or joins
 * without any qual qualify; every other node (index and TID scans, hash and
 * merge joins, function scans ...) filters or is not judged.
 */
static bool
reads_every_row(Plan *plan)
{
	ListCell   *lc;

	if (plan == NULL || plan->qual != NIL)
		return false;
	switch (nodeTag(plan))
	{
		case T_SeqScan:
			return true;
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
			{
				if (!reads_every_row(lfirst(lc)))
					return false;
			}
			return true;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
			{
				if (!reads_every_row(lfirst(lc)))
					return false;
			}
			return true;
		case T_Result:
			/* WHERE false is a Result with a constant qual and no input */
			return ((Result *) plan)->resconstantqual == NULL &&
				reads_every_row(outerPlan(plan));
		case T_Material:
			return reads_every_row(outerPlan(plan));
		case T_NestLoop:
			/* DELETE ... USING other_table without a join condition */
			return ((Join *) plan)->joinqual == NIL &&
				((NestLoop *) plan)->nestParams == NIL &&
				reads_every_row(outerPlan(plan)) &&
				reads_every_row(innerPlan(plan));
		default:
			return false;
	}
}

/* A ModifyTable node of a DELETE whose input is every row. */
static bool
deletes_every_row(Plan *plan)
{
	return plan != NULL && IsA(plan, ModifyTable) &&
		((ModifyTable *) plan)->operation == CMD_DELETE &&
		reads_every_row(outerPlan(plan));
}

/*
 * Cheap test for the executor hook, before it looks anything up: does the
 * plan delete every row of some table?  ModifyTable is always the top node
 * of the main plan and of a CTE's subplan, so no deeper walk is needed.
 */
bool
classify_plan_deletes_all(PlannedStmt *pstmt)
{
	ListCell   *lc;

	if (deletes_every_row(pstmt->planTree))
		return true;
	if (!pstmt->hasModifyingCTE)
		return false;
	foreach(lc, pstmt->subplans)
	{
		if (deletes_every_row(lfirst(lc)))
			return true;
	}
	return false;
}

/*
 * The delete_all intent for one DELETE node: the table the statement
 * names (for a partitioned or inherited table, the parent; its children
 * are probed with it unless ONLY was written), as a RangeVar the assess
 * stage resolves under the lock the executor already holds.  NULL for what
 * is not judged: views with INSTEAD OF triggers, foreign tables, and
 * guarded_ddl's own tables (their rights protect them, DESIGN §3.3).
 */
static GuardIntent *
delete_all_intent(PlannedStmt *pstmt, ModifyTable *mt,
				  const GuardCatalog *catalog)
{
	RangeTblEntry *rte = rt_fetch(mt->nominalRelation, pstmt->rtable);
	Oid			nspid;
	char	   *relname;
	char		relkind;
	RangeVar   *rv;

	if (rte->rtekind != RTE_RELATION)
		return NULL;
	relkind = get_rel_relkind(rte->relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		return NULL;
	nspid = get_rel_namespace(rte->relid);
	relname = get_rel_name(rte->relid);
	if (relname == NULL || nspid == catalog->schema_oid ||
		(OidIsValid(catalog->trash_schema_oid) &&
		 nspid == catalog->trash_schema_oid))
		return NULL;

	rv = makeRangeVar(get_namespace_name(nspid), relname, -1);
	rv->inh = rte->inh;
	return classify_relation_intent(GUARD_OP_DELETE_ALL, rv, GUARD_RIGHT_NONE,
									RowExclusiveLock, true);
}

/*
 * One delete_all intent per DELETE of the plan that takes every row, in
 * CurrentMemoryContext.
 */
List *
classify_delete_all(PlannedStmt *pstmt, const GuardCatalog *catalog)
{
	List	   *intents = NIL;
	List	   *tops = list_make1(pstmt->planTree);
	ListCell   *lc;

	if (pstmt->hasModifyingCTE)
		tops = list_concat(tops, pstmt->subplans);
	foreach(lc, tops)
	{
		Plan	   *plan = lfirst(lc);
		GuardIntent *intent;

		if (!deletes_every_row(plan))
			continue;
		intent = delete_all_intent(pstmt, (ModifyTable *) plan, catalog);
		if (intent != NULL)
			intents = lappend(intents, intent);
	}
	return intents;
}
