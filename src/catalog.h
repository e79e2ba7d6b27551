/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Finding guarded_ddl's own objects in the current database, deciding
 *	  when the guard stands aside, and running SQL as the extension owner.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_CATALOG_H
#define GUARDED_DDL_CATALOG_H

#include "intent.h"
#include "postmaster/bgworker.h"
#include "utils/relcache.h"

extern bool guard_catalog_lookup(GuardCatalog *catalog);
extern bool guard_should_skip(void);
extern bool guard_is_own_event_trigger(const char *name);
extern AttrNumber guard_column_number(Relation rel, const char *name);
extern void guard_worker_init(BackgroundWorker *worker, const char *function,
							  const char *type, Datum main_arg);
extern Datum guard_name_array(List *names);

/* Saved state while running SQL as the extension owner. */
typedef struct GuardOwnerContext
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} GuardOwnerContext;

extern void guard_spi_connect_as_owner(const GuardCatalog *catalog,
									   GuardOwnerContext *saved);
extern void guard_spi_finish_as_owner(GuardOwnerContext *saved);

#endif							/* GUARDED_DDL_CATALOG_H */
