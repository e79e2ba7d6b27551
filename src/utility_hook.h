/*-------------------------------------------------------------------------
 *
 * utility_hook.h
 *	  The ProcessUtility hook, installed only when the library is preloaded.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_UTILITY_HOOK_H
#define GUARDED_DDL_UTILITY_HOOK_H

#include "postgres.h"

extern void utility_hook_install(void);

#endif							/* GUARDED_DDL_UTILITY_HOOK_H */
