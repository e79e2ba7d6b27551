/*-------------------------------------------------------------------------
 *
 * assess.h
 *	  Stage 2: does each intent's object hold data?  The caller's right
 *	  first, then the command's own lock, then the probe; and the verdicts
 *	  recorded as PostgreSQL deletes each relation.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_ASSESS_H
#define GUARDED_DDL_ASSESS_H

#include "intent.h"
#include "nodes/parsenodes.h"

/* assess.c: what a statement names */
extern void assess_statement(GuardStatement *stmt, Node *parsetree);
extern void assess_intent_permission(const GuardIntent *intent);

/* assess_drop.c: verdicts per relation, deletions, cascades */
extern void assess_record_verdict(GuardStatement *stmt, Oid relid,
								  GuardDataVerdict verdict, int64 rows);
extern GuardRelVerdict *assess_lookup_verdict(GuardStatement *stmt, Oid relid);
extern void assess_dropped_relation(GuardStatement *stmt, Oid relid);
extern List *assess_dropped_intents(GuardStatement *stmt, List *intents);
extern void assess_preflight_contents(GuardStatement *stmt, Node *parsetree);
extern void assess_truncate_cascade(GuardStatement *stmt);
extern GuardDataVerdict assess_relation_tree(GuardStatement *stmt, Oid relid,
											 LOCKMODE lockmode, int64 *rows);
extern bool assess_may_look_at_rows(Oid relid);

#endif							/* GUARDED_DDL_ASSESS_H */
