/*-------------------------------------------------------------------------
 *
 * guarded_ddl.h
 *	  Module-wide settings and the helpers every stage shares: where
 *	  guarded_ddl's own catalog objects are, and how to run SQL as the
 *	  extension's owner.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_H
#define GUARDED_DDL_H

#include "postgres.h"

#include "compat.h"

#define GUARD_EXTENSION_NAME "guarded_ddl"
#define GUARD_SCHEMA_NAME "guarded_ddl"
#define GUARD_TRASH_SCHEMA_NAME "guarded_ddl_trash"

/* SQLSTATEs of refusals (documented in README "Errors"). */
#define ERRCODE_GUARD_DENIED_BY_POLICY MAKE_SQLSTATE('Z','G','0','0','1')
#define ERRCODE_GUARD_BACKUP_REQUIRED MAKE_SQLSTATE('Z','G','0','0','2')
#define ERRCODE_GUARD_SELF_PROTECTION MAKE_SQLSTATE('Z','G','0','0','3')
#define ERRCODE_GUARD_PROTECTED_DATABASE MAKE_SQLSTATE('Z','G','0','0','4')

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

/* Settings (guarded_ddl.c) */
extern int	guard_mode;
extern int	guard_default_action;	/* a GuardAction */
extern int	guard_backup_max_age;	/* minutes */
extern int	guard_audit_level;
extern bool guard_restore_points;
extern int	guard_audit_worker_timeout;	/* milliseconds */
extern char *guard_protected_databases;
extern char *guard_allow_drop_database;

/* True when the utility hook is installed (library preloaded). */
extern bool guard_hook_installed;

/* Where guarded_ddl lives in the current database. */
typedef struct GuardCatalog
{
	Oid			extension_oid;
	Oid			owner;
	Oid			schema_oid;
	Oid			trash_schema_oid;	/* InvalidOid if missing */
	Oid			policy_relid;
	Oid			backups_relid;
	Oid			audit_relid;
} GuardCatalog;

/* catalog.c */
extern bool guard_catalog_lookup(GuardCatalog *catalog);
extern bool guard_should_skip(void);
extern bool guard_is_own_event_trigger(const char *name);

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

/* override.c-like state lives in guarded_ddl.c */
extern bool guard_override_active(void);
extern const char *guard_override_reason(void);

/* glob.c */
extern bool glob_is_valid(const char *pattern);
extern bool glob_match(const char *pattern, const char *subject);
extern bool glob_is_literal(const char *pattern, char **unescaped);

/* policy.c */
extern void policy_register_invalidation(void);

/* utility_hook.c */
extern void utility_hook_install(void);

/* object_access.c */
extern void object_access_install(void);

/* temp_guard.c */
extern void temp_guard_check(struct Node *parsetree);


#endif							/* GUARDED_DDL_H */
