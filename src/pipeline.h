/*-------------------------------------------------------------------------
 *
 * pipeline.h
 *	  The stages in order -- classify, assess, decide, record denials,
 *	  enforce, prepare the audit -- written once, for every entry point.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_PIPELINE_H
#define GUARDED_DDL_PIPELINE_H

#include "intent.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

extern void pipeline_command_start(GuardStatement *stmt, Node *parsetree);
extern void pipeline_decide_only(GuardStatement *stmt, Node *parsetree);
extern void pipeline_decide_intents(GuardStatement *stmt, List *intents);
extern void pipeline_preflight(GuardStatement *stmt, Node *parsetree);
extern void pipeline_plan(GuardStatement *stmt, PlannedStmt *plan);
extern void pipeline_dropped(GuardStatement *stmt, List *dropped);
extern void pipeline_rewrite(GuardStatement *stmt, Oid relid, int reason);
extern void pipeline_intent(GuardStatement *stmt, GuardIntent *intent);
extern void pipeline_decide_kept(GuardStatement *stmt);
extern void pipeline_enforce(GuardStatement *stmt);
extern void pipeline_finish(GuardStatement *stmt);

#endif							/* GUARDED_DDL_PIPELINE_H */
