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

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "backup.h"
#include "catalog.h"


/*
 * Fill stmt->backups with the newest backup and the newest one with a
 * recorded restore test: the finished_at index read backwards, under the
 * latest snapshot (a marker committed after a REPEATABLE READ transaction
 * began counts), straight from the table -- no SPI, so nothing of it shows
 * up in pgaudit's log, and the DDL user needs no right on it.  Ties on
 * finished_at go to the higher id.  Once per statement.
 */
void
backup_load(GuardStatement *stmt)
{
	Relation	rel;
	Relation	index;
	Oid			indexid;
	Snapshot	snapshot;
	SysScanDesc scan;
	HeapTuple	tuple;
	AttrNumber	id_att;
	AttrNumber	finished_att;
	AttrNumber	verified_att;
	bool		have_newest = false;

	if (stmt->backups.loaded)
		return;
	memset(&stmt->backups, 0, sizeof(stmt->backups));

	rel = table_open(stmt->catalog.backups_relid, AccessShareLock);
	id_att = guard_column_number(rel, "id");
	finished_att = guard_column_number(rel, "finished_at");
	verified_att = guard_column_number(rel, "restore_verified_at");
	indexid = get_relname_relid("backups_finished_at_idx",
								RelationGetNamespace(rel));
	if (!OidIsValid(indexid))
		elog(ERROR, "guarded_ddl: index guarded_ddl.backups_finished_at_idx is missing");
	index = index_open(indexid, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan_ordered(rel, index, snapshot, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext_ordered(scan,
															BackwardScanDirection)))
	{
		bool		isnull;
		int64		id = DatumGetInt64(heap_getattr(tuple, id_att,
													RelationGetDescr(rel),
													&isnull));
		Datum		finished = heap_getattr(tuple, finished_att,
											RelationGetDescr(rel), &isnull);
		TimestampTz at;
		bool		verified;

		if (isnull)
			continue;
		at = DatumGetTimestampTz(finished);
		(void) heap_getattr(tuple, verified_att, RelationGetDescr(rel), &isnull);
		verified = !isnull;

		/* a tie on finished_at goes to the higher id */
		if (!have_newest || (at == stmt->backups.newest_finished &&
							 id > stmt->backups.newest_id))
		{
			stmt->backups.newest_id = id;
			stmt->backups.newest_finished = at;
			have_newest = true;
		}
		if (verified &&
			(stmt->backups.verified_id == 0 ||
			 (at == stmt->backups.verified_finished &&
			  id > stmt->backups.verified_id)))
		{
			stmt->backups.verified_id = id;
			stmt->backups.verified_finished = at;
		}
		/* older rows cannot change either answer any more */
		if (at < stmt->backups.newest_finished &&
			(stmt->backups.verified_id != 0 &&
			 at < stmt->backups.verified_finished))
			break;
	}
	systable_endscan_ordered(scan);
	UnregisterSnapshot(snapshot);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	stmt->backups.loaded = true;
}

