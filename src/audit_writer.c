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
#include "storage/lock.h"
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

/* bgw_type of the workers, as pg_stat_activity.backend_type shows it */
#define AUDIT_WRITER_TYPE "guarded_ddl audit writer"

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

/* Write the rows into out, as serialized_size() sized it. */
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

/* The rows serialized into one palloc'd buffer, for the queue. */
char *
audit_serialize_rows(List *rows, Size *len)
{
	char	   *out;

	*len = serialized_size(rows);
	out = palloc(*len > 0 ? *len : 1);
	serialize_rows(rows, out);
	return out;
}

/* The rows back from their serialized form, in CurrentMemoryContext. */
List *
audit_deserialize_rows(const char *data, Size len, int nrows)
{
	List	   *rows = NIL;
	const char *p = data;
	const char *end = data + len;

	for (int row = 0; row < nrows && p < end; row++)
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
	return rows;
}

/*
 * Turns to run a worker: at most a quarter of max_worker_processes (at
 * least one) refusals of the whole server have a worker at once, so that a
 * flood of refusals queues here instead of taking every slot that parallel
 * query, replication and other extensions need.  A turn is a heavyweight
 * advisory lock on one of those numbers in no database (field1 = 0), so
 * every backend sees them without shared memory of its own -- the library
 * may not be preloaded -- and an error releases it with the transaction.
 * They show in pg_locks as advisory locks of database 0.
 */
#define TURN_LOCK_KEY 0x67646477	/* "gddw" */

static void
turn_tag(LOCKTAG *tag, int turn)
{
	SET_LOCKTAG_ADVISORY(*tag, InvalidOid, TURN_LOCK_KEY, (uint32) turn, 2);
}

/* A free turn, waiting until deadline; -1 when none came. */
static int
take_turn(TimestampTz deadline)
{
	int			turns = Max(1, max_worker_processes / 4);

	for (;;)
	{
		for (int turn = 0; turn < turns; turn++)
		{
			LOCKTAG		tag;

			turn_tag(&tag, turn);
			if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
				return turn;
		}
		if (GetCurrentTimestamp() >= deadline)
			return -1;
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 2L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * Register the worker; a slot another refusal's worker is just giving back
 * is waited for a few milliseconds, no more (with no slot at all the
 * refusal must not wait: it is refused all the same).
 */
static bool
register_briefly(BackgroundWorker *worker, BackgroundWorkerHandle **handle)
{
	for (int attempt = 0; attempt < 20; attempt++)
	{
		if (RegisterDynamicBackgroundWorker(worker, handle))
			return true;
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 5L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	return false;
}

/* Give the turn back once its worker is done. */
static void
give_turn(int turn)
{
	LOCKTAG		tag;

	turn_tag(&tag, turn);
	LockRelease(&tag, ExclusiveLock, false);
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
	int			turn = -1;
	pid_t		pid;
	const char *failure = NULL;
	MemoryContext oldcxt = CurrentMemoryContext;

	/* preloaded: the long-lived writer of this database (audit_queue.c) */
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   guard_audit_worker_timeout);
	if (wait)
	{
		Size		len;
		char	   *data = audit_serialize_rows(rows, &len);

		switch (audit_queue_write(data, len, list_length(rows), deadline))
		{
			case GUARD_QUEUE_COMMITTED:
				return true;
			case GUARD_QUEUE_FAILED:
				ereport(LOG,
						(errmsg("guarded_ddl: denial recorded in the server log only: the denial writer failed (see its message above)")));
				return false;
			case GUARD_QUEUE_LATE:
				ereport(LOG,
						(errmsg("guarded_ddl: the denial writer had not committed this denial within guarded_ddl.audit_worker_timeout; it stays queued and is written when the writer gets to it")));
				return true;
			case GUARD_QUEUE_UNAVAILABLE:
				break;
		}
	}

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

	guard_worker_init(&worker, "guarded_ddl_audit_worker_main",
					  AUDIT_WRITER_TYPE, UInt32GetDatum(dsm_segment_handle(seg)));
	worker.bgw_notify_pid = MyProcPid;

	if (!wait)
		dsm_pin_segment(seg);
	else if ((turn = take_turn(deadline)) < 0)
	{
		ereport(LOG,
				(errmsg("guarded_ddl: denial recorded in the server log only: other refusals kept every audit worker busy for guarded_ddl.audit_worker_timeout")));
		dsm_detach(seg);
		return false;
	}
	oldcxt = MemoryContextSwitchTo(wait ? oldcxt : TopMemoryContext);
	registered = register_briefly(&worker, &handle);
	MemoryContextSwitchTo(oldcxt);
	if (!registered)
	{
		ereport(LOG,
				(errmsg("guarded_ddl: denial recorded in the server log only: no background worker slot is free"),
				 errhint("Raise max_worker_processes.")));
		if (!wait)
			dsm_unpin_segment(dsm_segment_handle(seg));
		else
			give_turn(turn);
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

	for (;;)
	{
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
	}

	/*
	 * The turn goes back once the worker has exited and its slot is free
	 * again, not when its rows are in: else the next turn could find the
	 * slot still taken.
	 */
	while (done && GetBackgroundWorkerPid(handle, &pid) == BGWH_STARTED &&
		   GetCurrentTimestamp() < deadline)
	{
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	give_turn(turn);
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
insert_rows(void *arg)
{
	AuditWorkerShared *shared = arg;
	GuardCatalog catalog;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!guard_catalog_lookup(&catalog))
		elog(ERROR, "guarded_ddl audit writer: guarded_ddl is not installed in this database");
	audit_insert_rows(&catalog,
					  audit_deserialize_rows(shared->data, shared->len,
											 shared->nrows),
					  NIL);

	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Run commit(arg) -- one whole transaction that inserts rows and commits --
 * up to attempts times, with a growing pause between tries (a deadlock
 * with a statement deleting part of guarded_ddl, say).  Each failure is
 * logged under who; the rows are in the server log already either way.
 * Whether it succeeded.
 */
bool
audit_commit_retrying(void (*commit) (void *arg), void *arg, const char *who,
					  int attempts)
{
	MemoryContext oldcxt = CurrentMemoryContext;

	for (volatile int attempt = 1; attempt <= attempts; attempt++)
	{
		volatile bool done = false;

		PG_TRY();
		{
			commit(arg);
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
					(errmsg("%s: attempt %d of %d failed: %s",
							who, attempt, attempts, edata->message)));
			FreeErrorData(edata);
		}
		PG_END_TRY();
		MemoryContextSwitchTo(oldcxt);
		if (done)
			return true;
		pg_usleep(50000L * attempt);
	}
	return false;
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
	 * not be lost for that.  A database closed to new connections
	 * (ALLOW_CONNECTIONS false, by its owner even) still gets its denials.
	 */
	gd_bgw_connect(shared->database, InvalidOid, BGWORKER_BYPASS_ALLOWCONN);
	SetUserIdAndSecContext(shared->role, SECURITY_LOCAL_USERID_CHANGE);

	/* the caller is told "refused" only once the row is on disk */
	SetConfigOption("synchronous_commit", "on", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_activity(STATE_RUNNING, "guarded_ddl: recording a denial");

	done = audit_commit_retrying(insert_rows, shared, "guarded_ddl audit writer",
								 WORKER_ATTEMPTS);
	pgstat_report_activity(STATE_IDLE, NULL);

	if (done)
		pg_atomic_write_u32(&shared->state, WORKER_DONE);
	if (shared->pinned)
		dsm_unpin_segment(dsm_segment_handle(seg));
	dsm_detach(seg);
	proc_exit(done ? 0 : 1);
}
