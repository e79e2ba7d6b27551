/*-------------------------------------------------------------------------
 *
 * probe.c
 *	  Reading a relation's storage to tell whether it holds data: zero
 *	  blocks means empty; otherwise one visible tuple under the latest
 *	  snapshot (the transaction snapshot lies under REPEATABLE READ), reading
 *	  a bounded prefix.  Never a scan of the whole table: its size does not
 *	  matter.  A sequence holds data once it has handed out a value.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/fmgrprotos.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "probe.h"

/*
 * Blocks a probe may read looking for one visible tuple.  A table whose
 * first blocks hold only dead tuples (mass DELETE, no VACUUM yet) stops the
 * probe here and counts as holding data: bounded cost, fail closed.
 */
#define GUARD_PROBE_MAX_BLOCKS 256

/*
 * Tables of at most this many blocks (256 kB) get their visible rows counted
 * for the audit and the error message; bigger ones get the planner's
 * estimate.  Either way the cost is bounded.
 */
#define GUARD_COUNT_MAX_BLOCKS 32

static GuardDataVerdict probe_heap(Relation rel, int64 *counted);
static GuardDataVerdict probe_heap_as_of(Relation rel, BlockNumber nblocks,
										 bool before_own_work, int64 *counted);
static GuardDataVerdict probe_sequence(Relation rel);
static int64 estimate_rows(Relation rel);

/*
 * Whether one relation holds data.  With lock_held the caller holds a lock
 * that keeps it still; otherwise AccessShareLock is taken here (preflight).
 * Returns UNKNOWN for anything it cannot tell.
 */
GuardDataVerdict
probe_relation(Oid relid, bool lock_held, int64 *row_estimate)
{
	Relation	rel;
	GuardDataVerdict verdict;

	*row_estimate = -1;
	rel = try_relation_open(relid, lock_held ? NoLock : AccessShareLock);
	if (rel == NULL)
		return GUARD_DATA_UNKNOWN;

	if (RELATION_IS_OTHER_TEMP(rel))
		verdict = GUARD_DATA_UNKNOWN;
	else
	{
		switch (rel->rd_rel->relkind)
		{
			case RELKIND_RELATION:
			case RELKIND_MATVIEW:
			case RELKIND_TOASTVALUE:
				{
					int64		counted = -1;

					verdict = probe_heap(rel, &counted);
					if (verdict == GUARD_DATA_NONE)
						*row_estimate = 0;
					else
						*row_estimate = counted >= 0 ? counted : estimate_rows(rel);
					break;
				}
			case RELKIND_SEQUENCE:
				verdict = probe_sequence(rel);
				break;
			case RELKIND_PARTITIONED_TABLE:
				/* no storage of its own; callers walk the partitions */
				verdict = GUARD_DATA_NONE;
				*row_estimate = 0;
				break;
			case RELKIND_VIEW:
			case RELKIND_FOREIGN_TABLE:
			case RELKIND_COMPOSITE_TYPE:
				verdict = GUARD_DATA_NONE;
				break;
			default:
				verdict = GUARD_DATA_UNKNOWN;
				break;
		}
	}
	relation_close(rel, NoLock);
	return verdict;
}

/*
 * One visible tuple under the latest snapshot, reading a bounded prefix.
 * Small tables are read whole to count their rows into *counted (else -1).
 *
 * When nothing is visible, the table is looked at once more as it was
 * before this transaction's own work (curcid at the first command): rows
 * this transaction deleted still count, or "DELETE FROM t; DROP TABLE t" in
 * one transaction would get around every protection.  Rows it inserted
 * count in the first look, as before.
 */
static GuardDataVerdict
probe_heap(Relation rel, int64 *counted)
{
	BlockNumber nblocks;
	GuardDataVerdict verdict;

	*counted = -1;
	nblocks = RelationGetNumberOfBlocks(rel);
	if (nblocks == 0)
		return GUARD_DATA_NONE;
	verdict = probe_heap_as_of(rel, nblocks, false, counted);
	if (verdict == GUARD_DATA_NONE)
		verdict = probe_heap_as_of(rel, nblocks, true, counted);
	return verdict;
}

/*
 * One look at the heap (see probe_heap).  before_own_work sets the
 * snapshot's command id to the transaction's first, hiding its own
 * changes.  The registered snapshot is our own copy, so it may be changed.
 */
static GuardDataVerdict
probe_heap_as_of(Relation rel, BlockNumber nblocks, bool before_own_work,
				 int64 *counted)
{
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		found;
	bool		bounded = false;
	bool		count = false;

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	if (before_own_work)
		snapshot->curcid = FirstCommandId;
	/* no synchronized scan: it could start in the middle of the table */
	scan = table_beginscan_strat(rel, snapshot, 0, NULL, true, false);
	if (rel->rd_tableam == GetHeapamTableAmRoutine())
	{
		if (nblocks <= GUARD_COUNT_MAX_BLOCKS)
			count = true;
		else if (nblocks > GUARD_PROBE_MAX_BLOCKS)
		{
			heap_setscanlimits(scan, 0, GUARD_PROBE_MAX_BLOCKS);
			bounded = true;
		}
	}
	slot = table_slot_create(rel, NULL);
	found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
	if (count)
	{
		int64		n = found ? 1 : 0;

		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
			n++;
		*counted = n;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);

	if (found)
		return GUARD_DATA_PRESENT;
	return bounded ? GUARD_DATA_UNKNOWN : GUARD_DATA_NONE;
}

/* A sequence that was ever used counts as data (keys were handed out). */
static GuardDataVerdict
probe_sequence(Relation rel)
{
	LOCAL_FCINFO(fcinfo, 1);
	Oid			relid = RelationGetRelid(rel);

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
		return GUARD_DATA_UNKNOWN;

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(relid);
	fcinfo->args[0].isnull = false;
	(void) pg_sequence_last_value(fcinfo);
	return fcinfo->isnull ? GUARD_DATA_NONE : GUARD_DATA_PRESENT;
}

/* The planner's estimate: statistics when there are some, a guess if not. */
static int64
estimate_rows(Relation rel)
{
	BlockNumber pages;
	double		tuples;
	double		allvisfrac;

	estimate_rel_size(rel, NULL, &pages, &tuples, &allvisfrac);
	return (tuples < 1) ? 1 : (int64) tuples;
}

