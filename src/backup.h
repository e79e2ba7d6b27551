/*-------------------------------------------------------------------------
 *
 * backup.h
 *	  The newest backup markers, read once per statement.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_BACKUP_H
#define GUARDED_DDL_BACKUP_H

#include "intent.h"

extern void backup_load(GuardStatement *stmt);

#endif							/* GUARDED_DDL_BACKUP_H */
