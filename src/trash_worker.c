/*-------------------------------------------------------------------------
 *
 * trash_worker.c
 *	  The recycle bin's background worker (shared_preload_libraries only):
 *	  guarded_ddl.trash_retention and trash_max_size are applied at every
 *	  soft drop, but a bin nobody drops into any more would keep its
 *	  entries for ever.  So every guarded_ddl.trash_purge_interval (an hour
 *	  by default) a launcher, connected to no database, lists the databases
 *	  and starts one short-lived worker per database, one after the other:
 *	  where guarded_ddl is installed, it applies the retention exactly as a
 *	  soft drop does (trash_apply_retention), each purge audited as
 *	  'purged'.  One worker slot at a time, never more.
 *
 *	  The first pass comes one interval after the start, not at the start:
 *	  a server that restarts often must not purge on every restart, and a
 *	  test suite's fresh cluster never sees a purge it did not ask for.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include "catalog.h"
#include "settings.h"
#include "trash.h"
#include "trash_worker.h"

PGDLLEXPORT void guarded_ddl_trash_launcher_main(Datum main_arg);
PGDLLEXPORT void guarded_ddl_trash_purge_main(Datum main_arg);

static List *databases_to_visit(void);
static void purge_database(Oid dboid);

/* Register the launcher; from _PG_init while shared_preload_libraries loads. */
void
trash_worker_register(void)
{
	BackgroundWorker worker;

	guard_worker_init(&worker, "guarded_ddl_trash_launcher_main",
					  "guarded_ddl recycle bin launcher", (Datum) 0);
	worker.bgw_restart_time = 60;	/* seconds, after a crash */
	RegisterBackgroundWorker(&worker);
}

/*
 * The launcher: sleep one interval (a reload takes effect at once), then
 * visit every database that accepts connections, one worker at a time.
 */
void
guarded_ddl_trash_launcher_main(Datum main_arg)
{
	TimestampTz last_pass = GetCurrentTimestamp();

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	for (;;)
	{
		long		wait_ms;
		TimestampTz next_pass;

		if (ShutdownRequestPending)
			proc_exit(0);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		next_pass = TimestampTzPlusMilliseconds(last_pass,
												(int64) guard_trash_purge_interval * 1000);
		wait_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
												  next_pass);
		if (wait_ms <= 0)
		{
			ListCell   *lc;

			foreach(lc, databases_to_visit())
			{
				if (ShutdownRequestPending)
					break;
				purge_database(lfirst_oid(lc));
			}
			last_pass = GetCurrentTimestamp();
			continue;
		}

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);

		/*
		 * Absorb procsignal barriers: DROP DATABASE waits until every
		 * process, this one included, has.
		 */
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Databases a worker can connect to: not template0 and the like, not one
 * a failed DROP DATABASE left invalid.  pg_database is a shared catalog, so
 * the launcher reads it without being connected to any database.  The list
 * lives in the launcher's TopMemoryContext until the next pass replaces it.
 */
static List *
databases_to_visit(void)
{
	static List *oids = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	MemoryContext oldcxt;

	list_free(oids);
	oids = NIL;
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);

		if (!db->datallowconn || database_is_invalid_form(db))
			continue;
		oldcxt = MemoryContextSwitchTo(TopMemoryContext);
		oids = lappend_oid(oids, db->oid);
		MemoryContextSwitchTo(oldcxt);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
	return oids;
}

/*
 * Start the worker of one database and wait for it to end.  A database
 * dropped in the meantime, or no free worker slot, only skips this pass.
 */
static void
purge_database(Oid dboid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	pid_t		pid;

	guard_worker_init(&worker, "guarded_ddl_trash_purge_main",
					  "guarded_ddl recycle bin purge", ObjectIdGetDatum(dboid));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(LOG,
				(errmsg("guarded_ddl: recycle bin purge skipped for this pass: no background worker slot is free")));
		return;
	}
	if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_POSTMASTER_DIED ||
		WaitForBackgroundWorkerShutdown(handle) == BGWH_POSTMASTER_DIED)
		proc_exit(1);
	pfree(handle);
}

/*
 * The worker of one database: where guarded_ddl and its recycle bin exist,
 * apply the retention in one transaction, as the extension owner (the
 * purges are audited with this worker as their session).
 */
void
guarded_ddl_trash_purge_main(Datum main_arg)
{
	GuardCatalog catalog;

	BackgroundWorkerUnblockSignals();
	gd_bgw_connect(DatumGetObjectId(main_arg), InvalidOid, 0);
	pgstat_report_activity(STATE_RUNNING,
						   "guarded_ddl: applying the recycle bin's retention");

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!guard_should_skip() && guard_catalog_lookup(&catalog) &&
		OidIsValid(catalog.trash_schema_oid))
		trash_apply_retention(&catalog);
	PopActiveSnapshot();
	CommitTransactionCommand();

	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
