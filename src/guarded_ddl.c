/*-------------------------------------------------------------------------
 *
 * guarded_ddl.c
 *	  Module entry, the top floor: PG_MODULE_MAGIC and _PG_init, which
 *	  defines the settings and installs the hooks (each chains the one it
 *	  finds).  Nothing calls into this file; the pipeline starts in the
 *	  entry points (event_triggers.c, object_access.c, utility_hook.c,
 *	  check.c) and runs in pipeline.c.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "audit.h"
#include "executor_hook.h"
#include "object_access.h"
#include "policy.h"
#include "settings.h"
#include "trash_worker.h"
#include "utility_hook.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
static bool loaded_by_session_preload(void);

/*
 * Loaded by the first event trigger of a guarded statement, or preloaded.
 */
void
_PG_init(void)
{
	settings_define();
	policy_register_invalidation();

	/*
	 * Server-wide, so only from shared_preload_libraries: the denial queue
	 * in shared memory with its writers, and the recycle bin's hourly
	 * retention worker.
	 */
	if (process_shared_preload_libraries_in_progress)
	{
		audit_queue_install();
		trash_worker_register();
	}

	/* always: it must see every deletion of the statement that loaded us */
	object_access_install();

	/*
	 * The utility hook only when preloaded: installed lazily by the first
	 * event trigger call it would switch on in the middle of a session.
	 */
	if (process_shared_preload_libraries_in_progress ||
		loaded_by_session_preload())
	{
		utility_hook_install();
		executor_hook_install();
	}
}

/*
 * session_preload_libraries loads us at connection start, before the first
 * query; a lazy load by an event trigger happens while a query runs.
 */
static bool
loaded_by_session_preload(void)
{
	char	   *rawstring;
	List	   *elemlist;
	ListCell   *lc;
	bool		found = false;

	if (debug_query_string != NULL || session_preload_libraries_string == NULL)
		return false;
	rawstring = pstrdup(session_preload_libraries_string);
	if (!SplitDirectoriesString(rawstring, ',', &elemlist))
		return false;
	foreach(lc, elemlist)
	{
		const char *name = lfirst(lc);
		const char *base = strrchr(name, '/');

		base = base ? base + 1 : name;
		if (strcmp(base, "guarded_ddl") == 0 ||
			strcmp(base, "guarded_ddl" DLSUFFIX) == 0)
			found = true;
	}
	return found;
}
