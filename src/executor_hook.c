/*-------------------------------------------------------------------------
 *
 * executor_hook.c
 *	  The ExecutorStart hook, installed with the utility hook (only when the
 *	  library is preloaded).  It judges DELETE without a WHERE clause --
 *	  the opt-in delete_all operation of DESIGN §3.1 -- wherever a plan
 *	  runs: top level, functions, DO blocks, CTEs, prepared statements and
 *	  cached plans.
 *
 *	  Every other statement must pay nothing measurable for it, so the hook
 *	  looks in order at what is cheapest: the command type (no DELETE and
 *	  no data-modifying CTE: done), the plan nodes (some DELETE without a
 *	  condition?), then whether guarded_ddl is installed and has a
 *	  delete_all rule at all.  Only then is a statement judged, after
 *	  PostgreSQL's own permission checks and before a row is deleted.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "miscadmin.h"

#include "catalog.h"
#include "classify.h"
#include "executor_hook.h"
#include "pipeline.h"
#include "policy.h"
#include "statement.h"

static ExecutorStart_hook_type prev_ExecutorStart = NULL;

static void guard_ExecutorStart(QueryDesc *queryDesc, int eflags);
static void judge_plan(QueryDesc *queryDesc);

void
executor_hook_install(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = guard_ExecutorStart;
}

/* Start the plan down the chain, then judge it if it deletes every row. */
static void
guard_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *pstmt = queryDesc->plannedstmt;

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (pstmt->commandType != CMD_DELETE && !pstmt->hasModifyingCTE)
		return;
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0 || !IsUnderPostmaster)
		return;
	if (!classify_plan_deletes_all(pstmt))
		return;
	judge_plan(queryDesc);
}

/*
 * Judge the DELETEs of the plan that take every row; an allowed one is
 * audited now, in the statement's transaction (its rollback takes the row
 * with it, as it takes back the deletion).  Does not return when refused.
 */
static void
judge_plan(QueryDesc *queryDesc)
{
	GuardCatalog catalog;
	GuardStatement *stmt;
	const char *save_query_text = guard_current_query_text;

	if (guard_should_skip() || !guard_catalog_lookup(&catalog))
		return;
	if (!policy_has_delete_all_rule(&catalog))
		return;

	/* the DELETE itself, also when a function or DO block runs it */
	if (queryDesc->sourceText != NULL)
		guard_current_query_text = queryDesc->sourceText;
	PG_TRY();
	{
		stmt = statement_push(queryDesc, "DELETE", &catalog);
	}
	PG_FINALLY();
	{
		guard_current_query_text = save_query_text;
	}
	PG_END_TRY();

	pipeline_plan(stmt, queryDesc->plannedstmt);
	pipeline_finish(stmt);
	statement_pop(stmt);
}
