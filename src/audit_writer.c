/*-------------------------------------------------------------------------
 *
 * audit_writer.c
 *	  Durable denials.  A refused statement's ERROR rolls back everything
 *	  its transaction wrote, so its audit rows are handed to a dynamic
 *	  background worker that inserts and commits them in a transaction of
 *	  its own before the ERROR is raised.
 *
 *	  The caller waits with its own timeout (guarded_ddl.audit_worker_timeout)
 *	  because the worker can block on a lock the caller holds; on timeout,
 *	  with no free worker slot, or when the worker fails, the denial is in
 *	  the server log only -- and the statement is refused all the same.
 *
 *	  A statement refused while it deletes part of guarded_ddl holds an
 *	  exclusive lock on the audit table itself (PostgreSQL locks every
 *	  object of a cascade before deleting the first).  Then the caller does
 *	  not wait: the segment is pinned, and the worker inserts the rows as
 *	  soon as the caller's abort releases the lock, then unpins it.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "audit.h"
#include "catalog.h"
#include "settings.h"

PGDLLEXPORT void guarded_ddl_audit_worker_main(Datum main_arg);

#define WORKER_PENDING 0
#define WORKER_DONE 1

/*
 * Workers started without waiting (see the header), still running: this
 * backend's next guarded statement waits for them first, or it could
 * deadlock with them over guarded_ddl's locks.  Kept in TopMemoryContext.
 */
static List *pending_workers = NIL;

/* What the caller hands over in dynamic shared memory. */
typedef struct AuditWorkerShared
{
	Oid			database;
	Oid			role;			/* the extension owner */
	bool		pinned;			/* the worker unpins it: nobody waits */
	pg_atomic_uint32 state;
	int			nrows;
	Size		len;
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* serialized rows */
} AuditWorkerShared;

/*
 * Rows are serialized column by column: a flag byte ('v' value, 'n' null),
 * then for values the NUL-terminated text.
 */
static Size
serialized_size(List *rows)
{
	Size		len = 0;
	ListCell   *lc;

	foreach(lc, rows)
	{
		char	  **v = lfirst(lc);

		for (int i = 0; i < AUDIT_NCOLUMNS; i++)
			len += 1 + (v[i] ? strlen(v[i]) + 1 : 0);
	}
	return len;
}

/* Write the rows into the shared memory segment, as serialized_size() sized it. */
static void
serialize_rows(List *rows, char *out)
{
	ListCell   *lc;

	foreach(lc, rows)
	{
		char	  **v = lfirst(lc);

		for (int i = 0; i < AUDIT_NCOLUMNS; i++)
		{
			if (v[i] == NULL)
				*out++ = 'n';
			else
			{
				Size		n = strlen(v[i]) + 1;

				*out++ = 'v';
				memcpy(out, v[i], n);
				out += n;
			}
		}
	}
}

/*
 * Start a worker for the rows and wait, at most audit_worker_timeout, until
 * it committed them (unless !wait, see the header).  Returns whether they
 * are durable, or for !wait whether the worker was started.  Problems are
 * logged, never raised: the caller's refusal must not be lost to them.
 */
bool
audit_worker_write(const GuardCatalog *catalog, List *rows, bool wait)
{
	Size		datalen = serialized_size(rows);
	dsm_segment *seg;
	AuditWorkerShared *shared;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	TimestampTz deadline;
	bool		done = false;
	bool		registered;
	const char *failure = NULL;
	MemoryContext oldcxt = CurrentMemoryContext;

	seg = dsm_create(offsetof(AuditWorkerShared, data) + datalen,
					 DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
	{
		ereport(LOG,
				(errmsg("guarded_ddl: denial recorded in the server log only: no dynamic shared memory segment available")));
		return false;
	}
	shared = dsm_segment_address(seg);
	shared->database = MyDatabaseId;
	shared->role = catalog->owner;
	shared->pinned = !wait;
	pg_atomic_init_u32(&shared->state, WORKER_PENDING);
	shared->nrows = list_length(rows);
	shared->len = datalen;
	serialize_rows(rows, shared->data);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "guarded_ddl",
			sizeof(worker.bgw_library_name));
	strlcpy(worker.bgw_function_name, "guarded_ddl_audit_worker_main",
			sizeof(worker.bgw_function_name));
	strlcpy(worker.bgw_name, "guarded_ddl audit writer",
			sizeof(worker.bgw_name));
	strlcpy(worker.bgw_type, "guarded_ddl audit writer",
			sizeof(worker.bgw_type));
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	if (!wait)
		dsm_pin_segment(seg);
	oldcxt = MemoryContextSwitchTo(wait ? oldcxt : TopMemoryContext);
	registered = RegisterDynamicBackgroundWorker(&worker, &handle);
	MemoryContextSwitchTo(oldcxt);
	if (!registered)
	{
		ereport(LOG,
				(errmsg("guarded_ddl: denial recorded in the server log only: no background worker slot is free"),
				 errhint("Raise max_worker_processes.")));
		if (!wait)
			dsm_unpin_segment(dsm_segment_handle(seg));
		dsm_detach(seg);
		return false;
	}
	if (!wait)
	{
		oldcxt = MemoryContextSwitchTo(TopMemoryContext);
		pending_workers = lappend(pending_workers, handle);
		MemoryContextSwitchTo(oldcxt);
		dsm_detach(seg);
		return true;
	}

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   guard_audit_worker_timeout);
	for (;;)
	{
		pid_t		pid;
		BgwHandleStatus status;

		if (pg_atomic_read_u32(&shared->state) == WORKER_DONE)
		{
			done = true;
			break;
		}
		status = GetBackgroundWorkerPid(handle, &pid);
		if (status == BGWH_STOPPED)
		{
			/* it may have finished between the two reads */
			done = (pg_atomic_read_u32(&shared->state) == WORKER_DONE);
			if (!done)
				failure = "the audit worker failed (see its message above)";
			break;
		}
		if (status == BGWH_POSTMASTER_DIED)
		{
			failure = "the postmaster died";
			break;
		}
		if (GetCurrentTimestamp() >= deadline)
		{
			TerminateBackgroundWorker(handle);
			failure = "the audit worker did not finish within guarded_ddl.audit_worker_timeout";
			break;
		}
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	dsm_detach(seg);

	if (!done)
		ereport(LOG,
				(errmsg("guarded_ddl: denial recorded in the server log only: %s",
						failure)));
	return done;
}

/*
 * Wait, at most audit_worker_timeout, for the workers this backend started
 * without waiting.  Cheap when there are none: call it before every
 * guarded statement.
 */
void
audit_worker_wait_pending(void)
{
	TimestampTz deadline;
	ListCell   *lc;

	if (pending_workers == NIL)
		return;
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   guard_audit_worker_timeout);
	foreach(lc, pending_workers)
	{
		BackgroundWorkerHandle *handle = lfirst(lc);
		pid_t		pid;

		while (GetBackgroundWorkerPid(handle, &pid) != BGWH_STOPPED &&
			   GetCurrentTimestamp() < deadline)
		{
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 10L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	list_free_deep(pending_workers);
	pending_workers = NIL;
}

/* How often a worker tries its insert before the rows stay in the log. */
#define WORKER_ATTEMPTS 20

/*
 * One transaction that inserts every row handed over and commits.  Errors
 * propagate (the caller retries).
 */
static void
insert_rows(AuditWorkerShared *shared)
{
	GuardCatalog catalog;
	List	   *rows = NIL;
	const char *p;
	const char *end;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!guard_catalog_lookup(&catalog))
		elog(ERROR, "guarded_ddl audit writer: guarded_ddl is not installed in this database");

	p = shared->data;
	end = shared->data + shared->len;
	for (int row = 0; row < shared->nrows && p < end; row++)
	{
		char	  **v = palloc0(sizeof(char *) * AUDIT_NCOLUMNS);

		for (int i = 0; i < AUDIT_NCOLUMNS; i++)
		{
			if (*p++ == 'n')
				continue;
			v[i] = pstrdup(p);
			p += strlen(p) + 1;
		}
		rows = lappend(rows, v);
	}
	audit_insert_rows(&catalog, rows, NIL);

	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Worker entry point: connect to the caller's database, insert the rows as
 * the extension owner, commit, report.  A failed attempt (a deadlock with
 * another statement deleting part of guarded_ddl, say) is retried with a
 * growing pause; the rows are already in the server log either way.
 */
void
guarded_ddl_audit_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	AuditWorkerShared *shared;
	volatile bool done = false;

	BackgroundWorkerUnblockSignals();
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "guarded_ddl audit writer");
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("guarded_ddl audit writer: could not map the shared memory segment")));
	shared = dsm_segment_address(seg);

	/*
	 * Connect as the bootstrap superuser (no role given), then become the
	 * extension's owner: the owner may be a role without LOGIN, which a
	 * worker could not connect as before PostgreSQL 17, and a denial must
	 * not be lost for that.
	 */
	gd_bgw_connect(shared->database, InvalidOid, 0);
	SetUserIdAndSecContext(shared->role, SECURITY_LOCAL_USERID_CHANGE);

	/* the caller is told "refused" only once the row is on disk */
	SetConfigOption("synchronous_commit", "on", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_activity(STATE_RUNNING, "guarded_ddl: recording a denial");

	for (int attempt = 1; !done && attempt <= WORKER_ATTEMPTS; attempt++)
	{
		MemoryContext oldcxt = CurrentMemoryContext;

		PG_TRY();
		{
			insert_rows(shared);
			done = true;
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(oldcxt);
			edata = CopyErrorData();
			FlushErrorState();
			AbortCurrentTransaction();
			ereport(LOG,
					(errmsg("guarded_ddl audit writer: attempt %d of %d failed: %s",
							attempt, WORKER_ATTEMPTS, edata->message)));
			FreeErrorData(edata);
			pg_usleep(50000L * attempt);
		}
		PG_END_TRY();
	}
	pgstat_report_activity(STATE_IDLE, NULL);

	if (done)
		pg_atomic_write_u32(&shared->state, WORKER_DONE);
	if (shared->pinned)
		dsm_unpin_segment(dsm_segment_handle(seg));
	dsm_detach(seg);
	proc_exit(done ? 0 : 1);
}
