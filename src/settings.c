/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The settings (GUCs) a DBA sets -- all superuser-only, so that the
 *	  roles the guard watches cannot switch it off -- and the override,
 *	  which is no setting at all: only guarded_ddl.override() sets it.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "settings.h"

PG_FUNCTION_INFO_V1(guarded_ddl_override);
PG_FUNCTION_INFO_V1(guarded_ddl_hook_active);

/* Longest override reason accepted; longer ones are refused, not cut. */
#define GUARD_MAX_REASON_LEN 1000

int			guard_mode = GUARD_MODE_ENFORCE;
int			guard_default_action = GUARD_ACTION_REQUIRE_BACKUP;
int			guard_backup_max_age = 24 * 60;
int			guard_audit_level = GUARD_AUDIT_DESTRUCTIVE;
bool		guard_restore_points = true;
int			guard_audit_worker_timeout = 5000;
char	   *guard_protected_databases = NULL;
char	   *guard_allow_drop_database = NULL;
int			guard_trash_retention = 30 * 24 * 60;
int			guard_trash_max_size = 0;
int			guard_trash_purge_interval = 60 * 60;
bool		guard_hook_installed = false;

static const struct config_enum_entry mode_options[] = {
	{"enforce", GUARD_MODE_ENFORCE, false},
	{"warn", GUARD_MODE_WARN, false},
	{"off", GUARD_MODE_OFF, false},
	{NULL, 0, false}
};

static const struct config_enum_entry default_action_options[] = {
	{"require_backup", GUARD_ACTION_REQUIRE_BACKUP, false},
	{"deny", GUARD_ACTION_DENY, false},
	{"warn", GUARD_ACTION_WARN, false},
	{"allow", GUARD_ACTION_ALLOW, false},
	{NULL, 0, false}
};

static const struct config_enum_entry audit_options[] = {
	{"destructive", GUARD_AUDIT_DESTRUCTIVE, false},
	{"all", GUARD_AUDIT_ALL, false},
	{NULL, 0, false}
};

static void override_xact_callback(XactEvent event, void *arg);
static void override_subxact_callback(SubXactEvent event,
									  SubTransactionId mySubid,
									  SubTransactionId parentSubid, void *arg);

/*
 * Define every setting, each with the one-line description a DBA reads in
 * pg_settings, and reserve the prefix.  Called once, from _PG_init.
 */
void
settings_define(void)
{
	DefineCustomEnumVariable("guarded_ddl.mode",
							 "enforce refuses, warn only logs what would be refused, off disables the guard.",
							 NULL,
							 &guard_mode,
							 GUARD_MODE_ENFORCE,
							 mode_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("guarded_ddl.default_action",
							 "Action for data-destroying intents no policy rule matches.",
							 NULL,
							 &guard_default_action,
							 GUARD_ACTION_REQUIRE_BACKUP,
							 default_action_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("guarded_ddl.backup_max_age",
							"How old the newest backup may be for require_backup.",
							"Rules may set their own backup_max_age.",
							&guard_backup_max_age,
							24 * 60, 1, INT_MAX / 2,
							PGC_SUSET, GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("guarded_ddl.audit",
							 "destructive audits every guarded intent, all also every other DDL command.",
							 NULL,
							 &guard_audit_level,
							 GUARD_AUDIT_DESTRUCTIVE,
							 audit_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("guarded_ddl.restore_points",
							 "Create a named restore point before each allowed data-destroying statement.",
							 "Needs wal_level replica or higher.",
							 &guard_restore_points,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("guarded_ddl.audit_worker_timeout",
							"How long a refused statement waits for its durable audit row.",
							"After this the denial is only in the server log; the statement is refused all the same.",
							&guard_audit_worker_timeout,
							5000, 100, 600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("guarded_ddl.protected_databases",
							   "Comma-separated globs of databases DROP DATABASE refuses (utility hook).",
							   NULL,
							   &guard_protected_databases,
							   "*",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("guarded_ddl.allow_drop_database",
							   "Name of the one protected database this session may drop.",
							   NULL,
							   &guard_allow_drop_database,
							   "",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("guarded_ddl.trash_retention",
							"Recycle bin entries older than this are purged for real, oldest first.",
							"Applied at every soft drop and, preloaded, by a background worker every trash_purge_interval.",
							&guard_trash_retention,
							30 * 24 * 60, 1, INT_MAX / 2,
							PGC_SIGHUP, GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("guarded_ddl.trash_max_size",
							"When the recycle bin is larger, its oldest entries are purged until it fits; 0 = no limit.",
							"Applied at every soft drop (the entry just made is kept) and, preloaded, by a background worker every trash_purge_interval.",
							&guard_trash_max_size,
							0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("guarded_ddl.trash_purge_interval",
							"How often the background worker applies trash_retention and trash_max_size in every database.",
							"Only with shared_preload_libraries; the first pass comes one interval after the server starts.",
							&guard_trash_purge_interval,
							60 * 60, 1, 24 * 60 * 60,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	/*
	 * Reserving the prefix also removes any guarded_ddl.* placeholder a role
	 * or database default, PGOPTIONS or a configuration file put in place
	 * before the library was loaded (the override is no setting at all).
	 */
	MarkGUCPrefixReserved("guarded_ddl");
	RegisterXactCallback(override_xact_callback, NULL);
	RegisterSubXactCallback(override_subxact_callback, NULL);
}

/*
 * The override: set only by guarded_ddl.override(), kept in backend memory
 * where no setting, role or database default, connection option or
 * configuration file can reach it, and ended by the end of the transaction
 * or the rollback of the subtransaction that set it.  Behind a
 * transaction-mode pooler nothing of it reaches the next client.
 */
static char *override_reason = NULL;	/* in TopMemoryContext */
static SubTransactionId override_subid = InvalidSubTransactionId;

bool
guard_override_active(void)
{
	return override_reason != NULL;
}

/* The reason given to override(), or NULL. */
const char *
guard_override_reason(void)
{
	return override_reason;
}

static void
override_clear(void)
{
	if (override_reason != NULL)
		pfree(override_reason);
	override_reason = NULL;
	override_subid = InvalidSubTransactionId;
}

/* The end of the transaction ends the override, whichever way it ends. */
static void
override_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			override_clear();
			break;
		default:
			break;
	}
}

/* A rolled-back savepoint takes back an override() called inside it. */
static void
override_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (override_reason == NULL)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB && override_subid == mySubid)
		override_clear();
	else if (event == SUBXACT_EVENT_COMMIT_SUB && override_subid == mySubid)
		override_subid = parentSubid;	/* now the parent's */
}

/*
 * guarded_ddl.override(reason): break-glass for the rest of the transaction.
 * Logged, with who asked and why.
 */
Datum
guarded_ddl_override(PG_FUNCTION_ARGS)
{
	char	   *reason;
	char	   *p;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an override needs a reason")));
	reason = text_to_cstring(PG_GETARG_TEXT_PP(0));

	for (p = reason; *p && isspace((unsigned char) *p); p++)
		;
	if (*p == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an override needs a reason"),
				 errhint("Say why, for example: SELECT guarded_ddl.override('ticket OPS-123: drop the retired table');")));
	if (strlen(reason) > GUARD_MAX_REASON_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("override reason is too long"),
				 errdetail("The reason has %zu bytes; at most %d are accepted.",
						   strlen(reason), GUARD_MAX_REASON_LEN)));
	if (!IsTransactionBlock())
		ereport(WARNING,
				(errmsg("guarded_ddl.override() outside a transaction block lasts only until the end of this statement"),
				 errhint("Call it after BEGIN, in the same transaction as the statement it is for.")));

	/* a second call replaces the reason, from its own subtransaction on */
	override_clear();
	override_reason = MemoryContextStrdup(TopMemoryContext, reason);
	override_subid = GetCurrentSubTransactionId();

	ereport(LOG,
			(errmsg("guarded_ddl: override requested by %s: %s",
					GetUserNameFromId(GetUserId(), false), reason)));
	PG_RETURN_VOID();
}

/* Whether the utility hook guards this session (guarded_ddl.status()). */
Datum
guarded_ddl_hook_active(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(guard_hook_installed);
}
