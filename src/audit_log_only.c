/*-------------------------------------------------------------------------
 *
 * audit_log_only.c
 *	  Refusals whose audit rows could not be committed (no worker slot, no
 *	  writer within guarded_ddl.audit_worker_timeout) reach only the server
 *	  log.  They are counted here, in a small file of the data directory,
 *	  so that status() can say how many there were in the last 24 hours --
 *	  without shared memory (the library need not be preloaded) and across
 *	  restarts.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "audit.h"

#define LOG_ONLY_FILE "guarded_ddl_log_only"
#define LOG_ONLY_OLD_FILE "guarded_ddl_log_only.old"
#define LOG_ONLY_ROTATE_BYTES (1024 * 1024)

/*
 * Refusals that reached only the server log, one line each ("<epoch
 * seconds> <database oid>") in a small file of the data directory, so that
 * status() can count them without shared memory (the library need not be
 * preloaded) and after a restart.  At 1 MB the file becomes .old (so the
 * last 24 h stay readable) and a new one begins.
 */
void
audit_note_log_only(int nrows)
{
	struct stat st;
	char		line[64];
	int			fd;
	int			len;

	if (stat(LOG_ONLY_FILE, &st) == 0 && st.st_size > LOG_ONLY_ROTATE_BYTES)
		(void) rename(LOG_ONLY_FILE, LOG_ONLY_OLD_FILE);
	fd = OpenTransientFile(LOG_ONLY_FILE, O_WRONLY | O_APPEND | O_CREAT | PG_BINARY);
	if (fd < 0)
		return;					/* the server log has the refusal anyway */
	len = snprintf(line, sizeof(line), "%lld %u\n",
				   (long long) (GetCurrentTimestamp() / USECS_PER_SEC),
				   MyDatabaseId);
	for (int i = 0; i < nrows; i++)
	{
		if (write(fd, line, len) != len)
			break;
	}
	(void) CloseTransientFile(fd);
}

/* Lines of one log-only file for this database since cutoff (epoch s). */
static int64
count_log_only(const char *path, int64 cutoff)
{
	FILE	   *file = AllocateFile(path, "r");
	char		line[64];
	int64		count = 0;

	if (file == NULL)
		return 0;
	while (fgets(line, sizeof(line), file) != NULL)
	{
		long long	when;
		unsigned int db;

		if (sscanf(line, "%lld %u", &when, &db) == 2 &&
			db == MyDatabaseId && when >= cutoff)
			count++;
	}
	FreeFile(file);
	return count;
}

PG_FUNCTION_INFO_V1(guarded_ddl_log_only_denials);

/*
 * guarded_ddl.log_only_denials(since interval): refusals of this database
 * in that past interval whose audit rows could not be committed (status()
 * reports it).
 */
Datum
guarded_ddl_log_only_denials(PG_FUNCTION_ARGS)
{
	Interval   *since = PG_GETARG_INTERVAL_P(0);
	TimestampTz from;
	int64		cutoff;

	from = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
												   TimestampTzGetDatum(GetCurrentTimestamp()),
												   IntervalPGetDatum(since)));
	cutoff = (int64) (from / USECS_PER_SEC);
	PG_RETURN_INT64(count_log_only(LOG_ONLY_FILE, cutoff) +
					count_log_only(LOG_ONLY_OLD_FILE, cutoff));
}
