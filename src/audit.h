/*-------------------------------------------------------------------------
 *
 * audit.h
 *	  The audit row format shared by the in-transaction writer (audit.c)
 *	  and the background worker that commits denials (audit_worker.c).
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_AUDIT_H
#define GUARDED_DDL_AUDIT_H

#include "guarded_ddl.h"
#include "intent.h"

/* Columns the extension writes (id and logged_at have defaults). */
#define AUDIT_NCOLUMNS 24

extern const char *const audit_insert_sql;

extern char **audit_row_values(GuardStatement *stmt, const GuardIntent *intent,
							   bool with_txid);

/* audit_worker.c: commit the rows in a transaction of their own. */
extern void audit_worker_wait_pending(void);
extern bool audit_worker_write(const GuardCatalog *catalog, List *rows,
							   bool wait);

#endif							/* GUARDED_DDL_AUDIT_H */
