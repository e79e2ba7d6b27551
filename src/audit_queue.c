/*-------------------------------------------------------------------------
 *
 * audit_queue.c
 *	  Durable denials with the library preloaded: a queue in shared memory
 *	  and one long-lived writer per database.
 *
 *	  Starting a background worker for every refusal (audit_writer.c) costs
 *	  a fork and a connection each time, and a flood of refusals takes every
 *	  worker slot.  Preloaded, a refused statement instead puts its rows in
 *	  a slot of the queue, wakes its database's writer (starting it if there
 *	  is none) and waits on a condition variable until the writer has
 *	  committed them.  The writer takes every queued slot of its database at
 *	  once and commits them in one transaction, synchronously, so a flood
 *	  costs one commit per batch, not one process per refusal.  A writer
 *	  idle for DQ_IDLE_EXIT_MS exits, giving its worker slot back: DROP
 *	  DATABASE, ALTER DATABASE ... RENAME and CREATE DATABASE ... TEMPLATE
 *	  wait up to 5 s for the other sessions of their database to leave.
 *
 *	  What does not fit (rows larger than a slot, the queue full until the
 *	  timeout, no writer can be started, a statement that holds the audit
 *	  table's lock itself) takes the per-refusal worker of audit_writer.c.
 *	  A writer that exits with slots taken hands them back to the queue; a
 *	  waiting statement whose writer is gone starts another.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "audit.h"
#include "catalog.h"

PGDLLEXPORT void guarded_ddl_denial_writer_main(Datum main_arg);

#define DQ_SLOTS 64				/* refusals in flight at once */
#define DQ_SLOT_BYTES 8192		/* serialized rows of one refusal */
#define DQ_WRITERS 32			/* databases with a writer at once */
#define DQ_IDLE_EXIT_MS 1000	/* a writer idle this long exits: well
								 * within the 5 s DROP DATABASE waits for
								 * other sessions to leave */
#define DQ_START_GRACE_MS 10000 /* a writer asked for and not up by then
								 * is asked for again */
#define DQ_ATTEMPTS 20			/* commits tried before a batch fails */

typedef enum DQState
{
	DQ_FREE = 0,
	DQ_QUEUED,					/* waiting for its database's writer */
	DQ_TAKEN,					/* in the writer's current batch */
	DQ_DONE,					/* committed */
	DQ_FAILED					/* the writer gave up: server log only */
} DQState;

typedef struct DQSlot
{
	DQState		state;
	bool		abandoned;		/* its statement stopped waiting: the
								 * writer frees the slot when done */
	Oid			database;
	pid_t		writer;			/* while DQ_TAKEN */
	int			nrows;
	Size		len;
	char		data[DQ_SLOT_BYTES];
} DQSlot;

typedef struct DQWriter
{
	Oid			database;		/* InvalidOid: entry unused */
	pid_t		pid;			/* 0 while it starts */
	Latch	   *latch;
	TimestampTz asked;			/* when it was asked for */
} DQWriter;

typedef struct DenialQueue
{
	LWLock	   *lock;			/* everything below */
	ConditionVariable cv;		/* a slot changed state */
	DQWriter	writers[DQ_WRITERS];
	DQSlot		slots[DQ_SLOTS];
} DenialQueue;

static DenialQueue *queue = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void queue_shmem_request(void);
static void queue_shmem_startup(void);
static DQWriter *writer_for(Oid database, bool *start);
static bool start_writer(Oid database);
static void release_slot(int slotno);
static List *take_batch(void);
static bool commit_batch(List *batch);
static void finish_batch(List *batch, bool committed);
static void writer_exit(int code, Datum arg);

/* From _PG_init while shared_preload_libraries loads. */
void
audit_queue_install(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = queue_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = queue_shmem_startup;
}

/* Ask the postmaster for the queue's memory and lock. */
static void
queue_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(DenialQueue)));
	RequestNamedLWLockTranche("guarded_ddl denial queue", 1);
}

/* Create (postmaster) or attach (after a crash restart) the queue. */
static void
queue_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	queue = ShmemInitStruct("guarded_ddl denial queue", sizeof(DenialQueue),
							&found);
	if (!found)
	{
		memset(queue, 0, sizeof(DenialQueue));
		queue->lock = &(GetNamedLWLockTranche("guarded_ddl denial queue"))->lock;
		ConditionVariableInit(&queue->cv);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * The writer entry of a database, with the lock held.  *start is set when
 * the caller must start it (none yet, or asked for too long ago).  NULL
 * when every entry is in use by other databases.
 */
static DQWriter *
writer_for(Oid database, bool *start)
{
	DQWriter   *unused = NULL;
	TimestampTz now = GetCurrentTimestamp();

	*start = false;
	for (int i = 0; i < DQ_WRITERS; i++)
	{
		DQWriter   *w = &queue->writers[i];

		if (w->database == database)
		{
			if (w->pid == 0 &&
				TimestampDifferenceExceeds(w->asked, now, DQ_START_GRACE_MS))
			{
				w->asked = now;
				*start = true;
			}
			return w;
		}
		if (w->database == InvalidOid && unused == NULL)
			unused = w;
	}
	if (unused != NULL)
	{
		unused->database = database;
		unused->pid = 0;
		unused->latch = NULL;
		unused->asked = now;
		*start = true;
	}
	return unused;
}

/* Register the writer of a database; it finds its entry itself. */
static bool
start_writer(Oid database)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	guard_worker_init(&worker, "guarded_ddl_denial_writer_main",
					  "guarded_ddl denial writer", ObjectIdGetDatum(database));
	return RegisterDynamicBackgroundWorker(&worker, &handle);
}

/* Give a slot back to the queue (lock held). */
static void
release_slot(int slotno)
{
	DQSlot	   *slot = &queue->slots[slotno];

	slot->state = DQ_FREE;
	slot->abandoned = false;
	slot->database = InvalidOid;
	slot->writer = 0;
}

/*
 * Hand serialized rows to this database's writer and wait, until deadline,
 * for their commit.  Interrupts are held by the caller.
 */
GuardQueueResult
audit_queue_write(const char *data, Size len, int nrows, TimestampTz deadline)
{
	int			slotno = -1;
	DQWriter   *w;
	bool		start;
	GuardQueueResult result = GUARD_QUEUE_UNAVAILABLE;

	if (queue == NULL || len > DQ_SLOT_BYTES)
		return GUARD_QUEUE_UNAVAILABLE;

	ConditionVariablePrepareToSleep(&queue->cv);

	/* a free slot, and the writer that will take it */
	for (;;)
	{
		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		for (int i = 0; i < DQ_SLOTS && slotno < 0; i++)
		{
			if (queue->slots[i].state == DQ_FREE)
				slotno = i;
		}
		if (slotno >= 0)
			break;
		LWLockRelease(queue->lock);
		if (GetCurrentTimestamp() >= deadline)
		{
			ConditionVariableCancelSleep();
			return GUARD_QUEUE_UNAVAILABLE;
		}
		(void) ConditionVariableTimedSleep(&queue->cv, 10, PG_WAIT_EXTENSION);
	}
	w = writer_for(MyDatabaseId, &start);
	if (w == NULL)
	{
		LWLockRelease(queue->lock);
		ConditionVariableCancelSleep();
		return GUARD_QUEUE_UNAVAILABLE;
	}
	queue->slots[slotno].database = MyDatabaseId;
	queue->slots[slotno].nrows = nrows;
	queue->slots[slotno].len = len;
	memcpy(queue->slots[slotno].data, data, len);
	queue->slots[slotno].state = DQ_QUEUED;
	if (w->latch != NULL)
		SetLatch(w->latch);
	LWLockRelease(queue->lock);

	if (start && !start_writer(MyDatabaseId))
	{
		/* no worker slot: the caller's fallback tells the log */
		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		if (queue->slots[slotno].state == DQ_QUEUED)
		{
			release_slot(slotno);
			if (w->pid == 0 && w->database == MyDatabaseId)
				w->database = InvalidOid;
			LWLockRelease(queue->lock);
			ConditionVariableCancelSleep();
			return GUARD_QUEUE_UNAVAILABLE;
		}
		LWLockRelease(queue->lock);
	}

	/* wait for the commit */
	for (;;)
	{
		DQState		state;

		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		state = queue->slots[slotno].state;
		if (state == DQ_DONE || state == DQ_FAILED)
		{
			release_slot(slotno);
			LWLockRelease(queue->lock);
			ConditionVariableBroadcast(&queue->cv);
			result = (state == DQ_DONE) ? GUARD_QUEUE_COMMITTED
				: GUARD_QUEUE_FAILED;
			break;
		}
		if (GetCurrentTimestamp() >= deadline)
		{
			queue->slots[slotno].abandoned = true;
			LWLockRelease(queue->lock);
			result = GUARD_QUEUE_LATE;
			break;
		}
		/* a writer that went away with our rows queued: ask for another */
		start = false;
		if (state == DQ_QUEUED)
			w = writer_for(MyDatabaseId, &start);
		LWLockRelease(queue->lock);
		if (start)
			(void) start_writer(MyDatabaseId);
		(void) ConditionVariableTimedSleep(&queue->cv, 10, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return result;
}

/* One queued refusal, copied out of its slot by the writer. */
typedef struct DQItem
{
	int			slotno;
	int			nrows;
	Size		len;
	char	   *data;
} DQItem;

/* Every queued slot of this database, marked taken and copied out. */
static List *
take_batch(void)
{
	List	   *batch = NIL;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (int i = 0; i < DQ_SLOTS; i++)
	{
		DQSlot	   *slot = &queue->slots[i];
		DQItem	   *item;

		if (slot->state != DQ_QUEUED || slot->database != MyDatabaseId)
			continue;
		item = palloc(sizeof(DQItem));
		item->slotno = i;
		item->nrows = slot->nrows;
		item->len = slot->len;
		item->data = palloc(slot->len);
		memcpy(item->data, slot->data, slot->len);
		slot->state = DQ_TAKEN;
		slot->writer = MyProcPid;
		batch = lappend(batch, item);
	}
	LWLockRelease(queue->lock);
	return batch;
}

/* One transaction inserting every row of the batch (a List of DQItem). */
static void
commit_batch_once(void *arg)
{
	List	   *batch = arg;
	GuardCatalog catalog;
	List	   *rows = NIL;
	ListCell   *lc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!guard_catalog_lookup(&catalog))
		elog(ERROR, "guarded_ddl denial writer: guarded_ddl is not installed in this database");
	foreach(lc, batch)
	{
		DQItem	   *item = lfirst(lc);

		rows = list_concat(rows, audit_deserialize_rows(item->data, item->len,
														item->nrows));
	}
	audit_insert_rows(&catalog, rows, NIL);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* Commit the batch, retrying; whether it committed. */
static bool
commit_batch(List *batch)
{
	return audit_commit_retrying(commit_batch_once, batch,
								 "guarded_ddl denial writer", DQ_ATTEMPTS);
}

/* Report the batch's outcome to the waiting statements. */
static void
finish_batch(List *batch, bool committed)
{
	ListCell   *lc;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	foreach(lc, batch)
	{
		DQItem	   *item = lfirst(lc);
		DQSlot	   *slot = &queue->slots[item->slotno];

		if (slot->abandoned)
			release_slot(item->slotno);
		else
			slot->state = committed ? DQ_DONE : DQ_FAILED;
	}
	LWLockRelease(queue->lock);
	ConditionVariableBroadcast(&queue->cv);
}

/*
 * On the way out (idle, shutdown or error): hand the slots still taken
 * back to the queue and give up the writer entry, so that the next
 * refusal starts a new writer.
 */
static void
writer_exit(int code, Datum arg)
{
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (int i = 0; i < DQ_SLOTS; i++)
	{
		if (queue->slots[i].state == DQ_TAKEN &&
			queue->slots[i].writer == MyProcPid)
		{
			queue->slots[i].state = DQ_QUEUED;
			queue->slots[i].writer = 0;
		}
	}
	for (int i = 0; i < DQ_WRITERS; i++)
	{
		if (queue->writers[i].pid == MyProcPid)
		{
			queue->writers[i].database = InvalidOid;
			queue->writers[i].pid = 0;
			queue->writers[i].latch = NULL;
		}
	}
	LWLockRelease(queue->lock);
	ConditionVariableBroadcast(&queue->cv);
}

/*
 * The writer of one database: claim its entry, then commit batches until
 * idle for DQ_IDLE_EXIT_MS or asked to stop.  Connected as the bootstrap
 * superuser (audit_insert_rows() becomes the extension owner), also to a
 * database closed to new connections.
 */
void
guarded_ddl_denial_writer_main(Datum main_arg)
{
	Oid			database = DatumGetObjectId(main_arg);
	TimestampTz idle_since;
	bool		claimed = false;

	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	gd_bgw_connect(database, InvalidOid, BGWORKER_BYPASS_ALLOWCONN);
	SetConfigOption("synchronous_commit", "on", PGC_SUSET, PGC_S_OVERRIDE);

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (int i = 0; i < DQ_WRITERS; i++)
	{
		DQWriter   *w = &queue->writers[i];

		if (w->database == database && w->pid == 0)
		{
			w->pid = MyProcPid;
			w->latch = MyLatch;
			claimed = true;
			break;
		}
	}
	LWLockRelease(queue->lock);
	if (!claimed)
		proc_exit(0);			/* another writer serves this database */
	before_shmem_exit(writer_exit, (Datum) 0);

	idle_since = GetCurrentTimestamp();
	for (;;)
	{
		List	   *batch;

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		batch = take_batch();
		if (batch != NIL)
		{
			pgstat_report_activity(STATE_RUNNING, "guarded_ddl: recording denials");
			finish_batch(batch, commit_batch(batch));
			list_free_deep(batch);
			pgstat_report_activity(STATE_IDLE, NULL);
			idle_since = GetCurrentTimestamp();
			continue;
		}
		if (ShutdownRequestPending ||
			TimestampDifferenceExceeds(idle_since, GetCurrentTimestamp(),
									   DQ_IDLE_EXIT_MS))
			proc_exit(0);		/* writer_exit requeues what raced in */
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 DQ_IDLE_EXIT_MS / 4, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}
