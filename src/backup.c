/*-------------------------------------------------------------------------
 *
 * backup.c
 *	  The recent-backup marker: which backups the backup jobs recorded in
 *	  guarded_ddl.backups, read at most once per statement.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/timestamp.h"

#include "backup.h"
#include "catalog.h"

/*
 * Fill stmt->backups with the newest backup and the newest one with a
 * recorded restore test.  Runs as the extension owner; the query uses no
 * operator a search_path could redirect.
 */
void
backup_load(GuardStatement *stmt)
{
	static SPIPlanPtr plan = NULL;
	GuardOwnerContext saved;
	int			ret;

	if (stmt->backups.loaded)
		return;

	guard_spi_connect_as_owner(&stmt->catalog, &saved);
	/* planned once per backend: it runs for every data-destroying statement */
	if (plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("SELECT n.id, n.finished_at, v.id, v.finished_at"
					  "  FROM (SELECT 1) AS one"
					  "  LEFT JOIN LATERAL (SELECT b.id, b.finished_at"
					  "                       FROM guarded_ddl.backups AS b"
					  "                      ORDER BY b.finished_at DESC, b.id DESC"
					  "                      LIMIT 1) AS n ON true"
					  "  LEFT JOIN LATERAL (SELECT b.id, b.finished_at"
					  "                       FROM guarded_ddl.backups AS b"
					  "                      WHERE b.restore_verified_at IS NOT NULL"
					  "                      ORDER BY b.finished_at DESC, b.id DESC"
					  "                      LIMIT 1) AS v ON true",
					  0, NULL);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "guarded_ddl: could not plan the backup query");
		plan = p;
	}
	ret = SPI_execute_plan(plan, NULL, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "guarded_ddl: could not read guarded_ddl.backups: %s",
			 SPI_result_code_string(ret));
	else
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		d = SPI_getbinval(tuple, desc, 1, &isnull);
		stmt->backups.newest_id = isnull ? 0 : DatumGetInt64(d);
		d = SPI_getbinval(tuple, desc, 2, &isnull);
		stmt->backups.newest_finished = isnull ? 0 : DatumGetTimestampTz(d);
		d = SPI_getbinval(tuple, desc, 3, &isnull);
		stmt->backups.verified_id = isnull ? 0 : DatumGetInt64(d);
		d = SPI_getbinval(tuple, desc, 4, &isnull);
		stmt->backups.verified_finished = isnull ? 0 : DatumGetTimestampTz(d);
	}
	guard_spi_finish_as_owner(&saved);
	stmt->backups.loaded = true;
}
