/*-------------------------------------------------------------------------
 *
 * object_access.h
 *	  The object_access_hook (OAT_DROP): verdicts and self-protection where
 *	  each deletion happens.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_OBJECT_ACCESS_H
#define GUARDED_DDL_OBJECT_ACCESS_H

#include "postgres.h"

extern void object_access_install(void);

#endif							/* GUARDED_DDL_OBJECT_ACCESS_H */
