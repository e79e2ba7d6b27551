/*-------------------------------------------------------------------------
 *
 * pipeline.c
 *	  The one place the stage order is written:
 *
 *	  classify -> assess -> decide -> record denials -> enforce -> prepare
 *	  the audit
 *
 *	  Denials are recorded before enforcing because the ERROR rolls back
 *	  everything the statement's own transaction wrote; PostgreSQL's own
 *	  permission error comes before that, so that a role without the right
 *	  to run the statement learns nothing about policy and leaves no row.
 *	  The audit rows of allowed intents are written at the end of the
 *	  command (pipeline_finish), in its transaction.
 *
 *	  Each entry point (event_triggers.c, object_access.c, utility_hook.c,
 *	  executor_hook.c, check.c, trash.c) hands its source of intents to one
 *	  of the functions here; all of them work in the statement's memory
 *	  context.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "assess.h"
#include "audit.h"
#include "classify.h"
#include "decide.h"
#include "enforce.h"
#include "pipeline.h"
#include "statement.h"

static void judge(GuardStatement *stmt);

/*
 * Decide every intent not decided yet; then, unless this is a preflight,
 * record the denials durably, raise the WARNINGs or the ERROR, and get the
 * audit rows of what was allowed ready.  Does not return when it refuses.
 */
static void
judge(GuardStatement *stmt)
{
	ListCell   *lc;

	decide_all(stmt);
	if (stmt->preflight)
		return;
	if (statement_has_denial(stmt))
	{
		foreach(lc, stmt->intents)
		{
			GuardIntent *intent = lfirst(lc);

			if (intent->decision == GUARD_DENIED)
				assess_intent_permission(intent);
		}
		stmt->refused = true;
		audit_denials_durably(stmt);
	}
	enforce_statement(stmt);
	audit_prepare_statement(stmt);
}

/*
 * ddl_command_start (or the utility hook, for what event triggers cannot
 * see): what the parse tree names, decided before the command does any
 * work.
 */
void
pipeline_command_start(GuardStatement *stmt, Node *parsetree)
{
	pipeline_decide_only(stmt, parsetree);
	pipeline_enforce(stmt);
}

/*
 * Classify, assess and decide what the parse tree names, nothing more: the
 * caller acts on the decisions itself (the recycle bin moves what soft_drop
 * rules keep) and then calls pipeline_enforce().
 */
void
pipeline_decide_only(GuardStatement *stmt, Node *parsetree)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);

	stmt->intents = list_concat(stmt->intents, classify_statement(parsetree));
	assess_statement(stmt, parsetree);
	decide_all(stmt);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Decide intents the caller built itself (the recycle bin's, for the tables
 * a dry run deleted), nothing more: the caller acts on the decisions.
 */
void
pipeline_decide_intents(GuardStatement *stmt, List *intents)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);

	stmt->intents = list_concat(stmt->intents, intents);
	decide_all(stmt);
	MemoryContextSwitchTo(oldcxt);
}

/* check(): the intents and the decisions they would get now, nothing done. */
void
pipeline_preflight(GuardStatement *stmt, Node *parsetree)
{
	Assert(stmt->preflight);
	pipeline_decide_only(stmt, parsetree);
}

/*
 * The executor, before a plan runs: the DELETEs in it that take every row
 * (delete_all), judged like TRUNCATE.
 */
void
pipeline_plan(GuardStatement *stmt, PlannedStmt *plan)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);

	stmt->intents = list_concat(stmt->intents,
								classify_delete_all(plan, &stmt->catalog));
	assess_statement(stmt, NULL);
	judge(stmt);
	MemoryContextSwitchTo(oldcxt);
}

/* sql_drop: what the statement really dropped, with the verdicts it left. */
void
pipeline_dropped(GuardStatement *stmt, List *dropped)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);
	List	   *intents = classify_dropped_objects(stmt, dropped);

	stmt->intents = list_concat(stmt->intents,
								assess_dropped_intents(stmt, intents));
	judge(stmt);
	MemoryContextSwitchTo(oldcxt);
}

/* table_rewrite: a rewrite no subcommand announced. */
void
pipeline_rewrite(GuardStatement *stmt, Oid relid, int reason)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);
	GuardIntent *intent = classify_rewrite(stmt, relid, reason);

	if (intent != NULL)
	{
		stmt->intents = list_concat(stmt->intents,
									assess_dropped_intents(stmt,
														   list_make1(intent)));
		judge(stmt);
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * An intent an entry point made itself (guarded_ddl's own objects and
 * settings, classify_self.c), allocated in the statement's context.
 */
void
pipeline_intent(GuardStatement *stmt, GuardIntent *intent)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);

	stmt->intents = lappend(stmt->intents, intent);
	judge(stmt);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * After pipeline_decide_only(), when the caller has kept in the recycle bin
 * what some intents would destroy (TRUNCATE): those are decided again.
 */
void
pipeline_decide_kept(GuardStatement *stmt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);

	decide_kept(stmt);
	MemoryContextSwitchTo(oldcxt);
}

/* After pipeline_decide_only() and the caller's own work. */
void
pipeline_enforce(GuardStatement *stmt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);

	judge(stmt);
	MemoryContextSwitchTo(oldcxt);
}

/* The command succeeded: its audit rows go in, in its transaction. */
void
pipeline_finish(GuardStatement *stmt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);

	audit_record_statement(stmt);
	MemoryContextSwitchTo(oldcxt);
}
