/*-------------------------------------------------------------------------
 *
 * audit.h
 *	  The last stage: audit rows.  Allowed intents are recorded in the
 *	  statement's own transaction (audit.c); refused ones are committed by a
 *	  background worker in a transaction of their own, since the refusal
 *	  rolls the statement's transaction back (audit_writer.c).
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_AUDIT_H
#define GUARDED_DDL_AUDIT_H

#include "intent.h"

/* Columns the extension writes (id and logged_at have defaults). */
#define AUDIT_NCOLUMNS 24

/* audit.c */
extern void audit_prepare_statement(GuardStatement *stmt);
extern void audit_record_statement(GuardStatement *stmt);
extern void audit_record_command(GuardStatement *stmt,
								 const char *object_type,
								 const char *object_identity,
								 const char *schema_name);
extern void audit_denials_durably(GuardStatement *stmt);
extern void audit_insert_rows(const GuardCatalog *catalog, List *rows,
							  List *intents);

/* audit_writer.c: commit the rows in a transaction of their own. */
extern bool audit_worker_write(const GuardCatalog *catalog, List *rows,
							   bool wait);
extern void audit_worker_wait_pending(void);
extern char *audit_serialize_rows(List *rows, Size *len);
extern List *audit_deserialize_rows(const char *data, Size len, int nrows);
extern bool audit_commit_retrying(void (*commit) (void *arg), void *arg,
								  const char *who, int attempts);

/* audit_log_only.c: refusals that reached only the server log */
extern void audit_note_log_only(int nrows);

/* audit_queue.c: the long-lived writer of each database (preloaded) */
typedef enum GuardQueueResult
{
	GUARD_QUEUE_COMMITTED,		/* the rows are on disk */
	GUARD_QUEUE_FAILED,			/* the writer gave up on them */
	GUARD_QUEUE_LATE,			/* not yet committed at the deadline; the
								 * writer still will */
	GUARD_QUEUE_UNAVAILABLE		/* not preloaded, too large, no writer */
} GuardQueueResult;

extern void audit_queue_install(void);
extern GuardQueueResult audit_queue_write(const char *data, Size len,
										  int nrows, TimestampTz deadline);

#endif							/* GUARDED_DDL_AUDIT_H */
