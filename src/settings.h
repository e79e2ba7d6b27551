/*-------------------------------------------------------------------------
 *
 * settings.h
 *	  The settings (GUCs) a DBA sets, and the override state that only
 *	  guarded_ddl.override() sets.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_SETTINGS_H
#define GUARDED_DDL_SETTINGS_H

#include "intent.h"

typedef enum GuardMode
{
	GUARD_MODE_ENFORCE,
	GUARD_MODE_WARN,
	GUARD_MODE_OFF
} GuardMode;

typedef enum GuardAuditLevel
{
	GUARD_AUDIT_DESTRUCTIVE,
	GUARD_AUDIT_ALL
} GuardAuditLevel;

extern int	guard_mode;
extern int	guard_default_action;	/* a GuardAction */
extern int	guard_backup_max_age;	/* minutes */
extern int	guard_audit_level;
extern bool guard_restore_points;
extern int	guard_audit_worker_timeout;	/* milliseconds */
extern char *guard_protected_databases;
extern char *guard_allow_drop_database;
extern int	guard_trash_retention;	/* minutes */
extern int	guard_trash_max_size;	/* kilobytes, 0 = no limit */
extern int	guard_trash_purge_interval;	/* seconds */

/* True when the utility hook is installed (library preloaded). */
extern bool guard_hook_installed;

/* Define every setting; once, from _PG_init. */
extern void settings_define(void);

/* The override: active for the rest of the transaction, and its reason. */
extern bool guard_override_active(void);
extern const char *guard_override_reason(void);

#endif							/* GUARDED_DDL_SETTINGS_H */
