/*-------------------------------------------------------------------------
 *
 * classify.h
 *	  Stage 1: statements and deleted objects become intents.  Knows parse
 *	  trees, pg_event_trigger_dropped_objects() rows and guarded_ddl's own
 *	  objects; looks nothing up with a lock and reads no storage.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_CLASSIFY_H
#define GUARDED_DDL_CLASSIFY_H

#include "intent.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

/* classify.c: parse trees */
extern bool classify_is_guarded_statement(Node *parsetree);
extern List *classify_statement(Node *parsetree);

/* classify_dropped.c: what a statement really dropped or rewrote */
extern List *classify_dropped_objects(GuardStatement *stmt, List *dropped);
extern GuardIntent *classify_rewrite(GuardStatement *stmt, Oid relid,
									 int reason);

/* classify_delete.c: DELETE without WHERE, read from the plan */
extern bool classify_plan_deletes_all(PlannedStmt *pstmt);
extern List *classify_delete_all(PlannedStmt *pstmt,
								 const GuardCatalog *catalog);

/* classify_self.c: intents about guarded_ddl itself */
extern void classify_own_function(List *names, List **intents);
extern void classify_own_table_part(RangeVar *rv, const char *object_type,
									const char *name, List **intents);
extern GuardIntent *classify_own_object_drop(const ObjectAddress *object);
extern GuardIntent *classify_own_event_trigger(GuardOperation op, Oid evtoid,
											   const char *name);
extern GuardIntent *classify_event_triggers_off(void);
extern void classify_own_relation(RangeVar *rv, List **intents);
extern void classify_own_owner_change(AlterOwnerStmt *stmt, List **intents);
extern void classify_own_grant(GrantStmt *stmt, List **intents);
extern GuardIntent *classify_relation_intent(GuardOperation op, RangeVar *rv,
											 GuardRightNeeded right,
											 LOCKMODE lockmode,
											 bool data_bearing);

#endif							/* GUARDED_DDL_CLASSIFY_H */
