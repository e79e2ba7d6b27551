/*-------------------------------------------------------------------------
 *
 * statement.h
 *	  The per-command statement stack: where the events of one DDL command
 *	  meet, and where its intents and verdicts live.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_STATEMENT_H
#define GUARDED_DDL_STATEMENT_H

#include "intent.h"

/* Set by the utility hook: the exact text of the statement being run. */
extern const char *guard_current_query_text;

extern GuardStatement *statement_push(void *key, const char *command_tag,
									  const GuardCatalog *catalog);
extern GuardStatement *statement_find(void *key);
extern GuardStatement *statement_current(void);
extern void statement_end_all_at_commit(void);
extern void statement_pop(GuardStatement *stmt);
extern int	statement_depth(void);
extern bool statement_has_denial(const GuardStatement *stmt);

/* Columns the recycle bin kept for the ALTER TABLE being run. */
extern void statement_keep_column(Oid relid, const char *column,
								  GuardOperation operation,
								  const char *trash_name);
extern const char *statement_column_kept(Oid relid, const char *column,
										 GuardOperation operation);
extern void statement_forget_kept_columns(void);

#endif							/* GUARDED_DDL_STATEMENT_H */
