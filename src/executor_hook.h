/*-------------------------------------------------------------------------
 *
 * executor_hook.h
 *	  The ExecutorStart hook: DELETE without WHERE (delete_all), preloaded
 *	  only.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_EXECUTOR_HOOK_H
#define GUARDED_DDL_EXECUTOR_HOOK_H

#include "postgres.h"

extern void executor_hook_install(void);

#endif							/* GUARDED_DDL_EXECUTOR_HOOK_H */
