/*-------------------------------------------------------------------------
 *
 * probe.h
 *	  Reading a relation's storage: does it hold a row?  Zero blocks, or one
 *	  visible tuple under the latest snapshot; never a scan of the table.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_PROBE_H
#define GUARDED_DDL_PROBE_H

#include "intent.h"

extern GuardDataVerdict probe_relation(Oid relid, bool lock_held,
									   int64 *row_estimate);

#endif							/* GUARDED_DDL_PROBE_H */
