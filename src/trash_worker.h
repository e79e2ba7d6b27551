/*-------------------------------------------------------------------------
 *
 * trash_worker.h
 *	  The recycle bin's background worker: retention applied every
 *	  guarded_ddl.trash_purge_interval (shared_preload_libraries only).
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_TRASH_WORKER_H
#define GUARDED_DDL_TRASH_WORKER_H

#include "postgres.h"

extern void trash_worker_register(void);

#endif							/* GUARDED_DDL_TRASH_WORKER_H */
