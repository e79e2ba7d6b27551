/*-------------------------------------------------------------------------
 *
 * decide.c
 *	  One decision per intent, from the first matching policy rule (or
 *	  guarded_ddl.default_action for unmatched data-destroying intents), the
 *	  newest backups, a break-glass override, and guarded_ddl.mode.
 *
 *	  The decision is only written into the intent here; enforce.c acts on
 *	  it and audit.c records it.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_event_trigger.h"
#include "catalog/pg_extension.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_class.h"
#include "utils/timestamp.h"

#include "backup.h"
#include "decide.h"
#include "policy.h"
#include "settings.h"
#include "statement.h"

static void decide_backup(GuardStatement *stmt, GuardIntent *intent,
						  const GuardRule *rule);
static void decide_rename_guard(GuardStatement *stmt, GuardIntent *intent);
static int	action_strictness(GuardAction action);
static bool is_self_protected(const GuardStatement *stmt,
							  const GuardIntent *intent);
static void explain_type_change(GuardIntent *intent);
static const char *kept_data(const GuardIntent *intent);

/* Decide every intent of the statement that has no decision yet. */
void
decide_all(GuardStatement *stmt)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		/* probes for self-protection only matter on guarded_ddl itself */
		if (intent->only_if_self && !is_self_protected(stmt, intent))
			continue;
		if (intent->decision == GUARD_UNDECIDED)
			decide_intent(stmt, intent);
		/* an unruled DELETE without WHERE is not even audited */
		if (intent->operation == GUARD_OP_DELETE_ALL && intent->policy_id == 0)
			continue;
		kept = lappend(kept, intent);
	}
	stmt->intents = kept;
}

/*
 * Intents whose data the recycle bin kept after they were decided (the
 * rows of a TRUNCATE): decided again from scratch, now soft_dropped.
 */
void
decide_kept(GuardStatement *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if (intent->action != GUARD_ACTION_SOFT_DROP ||
			intent->decision == GUARD_SOFT_DROPPED ||
			kept_data(intent) == NULL)
			continue;
		intent->decision = GUARD_UNDECIDED;
		intent->refusal = GUARD_REFUSAL_NONE;
		intent->backup_id = 0;
		intent->reason = NULL;
		decide_intent(stmt, intent);
	}
}

/*
 * Fill intent->decision, action, policy_id, backup_id, refusal and reason.
 * Memory for the reason comes from CurrentMemoryContext (the statement's).
 */
void
decide_intent(GuardStatement *stmt, GuardIntent *intent)
{
	const GuardRule *rule = NULL;
	bool		destroys = guard_intent_destroys_data(intent);
	const char *kept;

	if (is_self_protected(stmt, intent))
	{
		intent->action = GUARD_ACTION_DENY;
		intent->decision = GUARD_DENIED;
		intent->refusal = GUARD_REFUSAL_SELF;
		if (strcmp(intent->object_type, GUARD_SETTING_OBJECT_TYPE) == 0)
			intent->reason = pstrdup("event_triggers = off keeps guarded_ddl's event triggers from firing");
		else
			intent->reason = psprintf("%s belongs to guarded_ddl itself",
									  intent->object_identity);
	}
	else
	{
		if (stmt->role_name == NULL)
			stmt->role_name = MemoryContextStrdup(stmt->context,
												  GetUserNameFromId(GetUserId(), false));
		rule = policy_match(&stmt->catalog, intent, stmt->role_name,
							application_name ? application_name : "");
		if (rule != NULL)
		{
			intent->action = rule->action;
			intent->policy_id = rule->id;
		}
		else
			intent->action = destroys ? (GuardAction) guard_default_action
				: GUARD_ACTION_ALLOW;

		/*
		 * delete_all is opt-in (DESIGN §3.1): without a rule naming it,
		 * neither default_action nor a '*' rule decides it, and a table
		 * without rows loses nothing whatever the rule says.
		 */
		if (intent->operation == GUARD_OP_DELETE_ALL &&
			(rule == NULL || !destroys))
			intent->action = GUARD_ACTION_ALLOW;

		switch (intent->action)
		{
			case GUARD_ACTION_ALLOW:
				intent->decision = GUARD_ALLOWED;
				break;
			case GUARD_ACTION_WARN:
				intent->decision = GUARD_WARNED;
				intent->reason = rule
					? psprintf("policy rule %lld says warn", (long long) rule->id)
					: pstrdup("guarded_ddl.default_action is warn");
				break;
			case GUARD_ACTION_DENY:
				intent->decision = GUARD_DENIED;
				intent->refusal = GUARD_REFUSAL_RULE;
				intent->reason = rule
					? psprintf("denied by policy rule %lld", (long long) rule->id)
					: pstrdup("guarded_ddl.default_action is deny");
				break;
			case GUARD_ACTION_REQUIRE_BACKUP:
			case GUARD_ACTION_SOFT_DROP:

				/*
				 * soft_drop reaches this point for a table only where the
				 * utility hook could not move it (not preloaded, not a
				 * plain DROP TABLE), and for a column unless the hook kept
				 * its values: the data is at stake, so a backup is
				 * required.
				 */
				if (!destroys)
					intent->decision = GUARD_ALLOWED;
				else if (intent->action == GUARD_ACTION_SOFT_DROP &&
						 (kept = kept_data(intent)) != NULL)
				{
					intent->decision = GUARD_SOFT_DROPPED;
					intent->reason = psprintf("%s kept in %s.%s",
											  intent->operation == GUARD_OP_TRUNCATE
											  ? "rows" : "values",
											  GUARD_TRASH_SCHEMA_NAME,
											  quote_identifier(kept));
				}
				else
					decide_backup(stmt, intent, rule);
				break;
		}
		if (intent->operation == GUARD_OP_RENAME)
			decide_rename_guard(stmt, intent);
	}

	if (intent->decision != GUARD_DENIED)
	{
		explain_type_change(intent);
		return;
	}

	if (guard_override_active())
	{
		intent->decision = GUARD_OVERRIDDEN;
		intent->reason = pstrdup(guard_override_reason());
	}
	else if (guard_mode == GUARD_MODE_WARN)
	{
		intent->decision = GUARD_WARNED;
		intent->reason = psprintf("would be refused: %s", intent->reason);
	}
	explain_type_change(intent);
}

/*
 * The recycle bin relation holding what the intent destroys, when the
 * utility hook kept it for this very command, else NULL: a TRUNCATE's rows
 * (trash_truncate.c names it in the intent), a column's values (kept
 * before the ALTER TABLE ran, so statement.c remembers them).
 */
static const char *
kept_data(const GuardIntent *intent)
{
	if (intent->operation == GUARD_OP_TRUNCATE)
		return intent->trash_name;
	if (strcmp(intent->object_type, "table column") != 0 ||
		intent->address.classId != RelationRelationId)
		return NULL;
	return statement_column_kept(intent->address.objectId,
								 intent->column_name, intent->operation);
}

/*
 * alter_type: the reason starts with whether the conversion keeps every
 * value and why ("lossless: integer to bigint: widening, no value
 * changes"), then says what the decision itself gave as reason, if
 * anything.  Intents nobody could classify (a rewrite no subcommand
 * announced) keep their reason as it is.
 */
static void
explain_type_change(GuardIntent *intent)
{
	const char *verdict;

	if (intent->operation != GUARD_OP_ALTER_TYPE || intent->type_change == NULL)
		return;
	verdict = intent->lossless ? "lossless" : "lossy";
	if (intent->reason == NULL)
		intent->reason = psprintf("%s: %s", verdict, intent->type_change);
	else
		intent->reason = psprintf("%s: %s; %s%s", verdict, intent->type_change,
								  intent->decision == GUARD_OVERRIDDEN
								  ? "override: " : "",
								  intent->reason);
}

/* How strict an action is, for comparing a rename's decision with a rule. */
static int
action_strictness(GuardAction action)
{
	switch (action)
	{
		case GUARD_ACTION_ALLOW:
			return 0;
		case GUARD_ACTION_WARN:
			return 1;
		case GUARD_ACTION_REQUIRE_BACKUP:
		case GUARD_ACTION_SOFT_DROP:
			return 2;
		case GUARD_ACTION_DENY:
			return 3;
	}
	return 3;
}

/*
 * A rename (or SET SCHEMA) must not move an object out from under a rule
 * that protects it (DESIGN §3.1): renaming the column a deny rule names,
 * the table of that column, or the schema holding it, and then dropping it
 * under its new name.  The first rule protecting the object under its
 * current name decides when it is stricter than the rename's own decision:
 * deny refuses, require_backup (and soft_drop) ask for the recent backup
 * the protected operation would need, warn warns.
 */
static void
decide_rename_guard(GuardStatement *stmt, GuardIntent *intent)
{
	const GuardRule *rule = policy_match_guarding(&stmt->catalog, intent,
												  stmt->role_name,
												  application_name ? application_name : "");

	if (rule == NULL ||
		action_strictness(rule->action) <= action_strictness(intent->action))
		return;
	intent->action = rule->action;
	intent->policy_id = rule->id;
	switch (rule->action)
	{
		case GUARD_ACTION_WARN:
			intent->decision = GUARD_WARNED;
			intent->reason = psprintf("policy rule %lld protects it and says warn",
									  (long long) rule->id);
			break;
		case GUARD_ACTION_DENY:
			intent->decision = GUARD_DENIED;
			intent->refusal = GUARD_REFUSAL_RULE;
			intent->reason = psprintf("renaming it would move it out from under policy rule %lld",
									  (long long) rule->id);
			break;
		default:
			decide_backup(stmt, intent, rule);
			break;
	}
}

/* require_backup: allowed only with a backup younger than the max age. */
static void
decide_backup(GuardStatement *stmt, GuardIntent *intent, const GuardRule *rule)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	double		max_age_secs;
	bool		verified = (rule != NULL && rule->require_verified);
	int64		candidate;
	TimestampTz finished;

	backup_load(stmt);

	if (rule != NULL && rule->backup_max_age_secs > 0)
		max_age_secs = rule->backup_max_age_secs;
	else
		max_age_secs = (double) guard_backup_max_age * 60.0;

	intent->backup_max_age_secs = max_age_secs;
	intent->backup_verified_required = verified;
	candidate = verified ? stmt->backups.verified_id : stmt->backups.newest_id;
	finished = verified ? stmt->backups.verified_finished
		: stmt->backups.newest_finished;

	if (candidate != 0 &&
		finished >= now - (TimestampTz) (max_age_secs * USECS_PER_SEC))
	{
		intent->decision = GUARD_ALLOWED;
		intent->backup_id = candidate;
		return;
	}

	intent->decision = GUARD_DENIED;
	intent->refusal = GUARD_REFUSAL_NO_BACKUP;
	if (candidate == 0)
		intent->reason = psprintf("no %sbackup is recorded",
								  verified ? "restore-tested " : "");
	else
		intent->reason = psprintf("the newest %sbackup (id %lld) is too old",
								  verified ? "restore-tested " : "",
								  (long long) candidate);
}

/*
 * Dropping guarded_ddl would take the audit with it; altering its tables or
 * triggers would blind it.  Its own update scripts never get here
 * (guard_should_skip).
 */
static bool
is_self_protected(const GuardStatement *stmt, const GuardIntent *intent)
{
	if (intent->address.classId == EventTriggerRelationId)
		return true;			/* only guarded_ddl's own ever get here */
	if (intent->address.classId == ExtensionRelationId)
		return intent->address.objectId == stmt->catalog.extension_oid;
	if (intent->address.classId == NamespaceRelationId)
		return intent->address.objectId == stmt->catalog.schema_oid ||
			(OidIsValid(intent->address.objectId) &&
			 intent->address.objectId == stmt->catalog.trash_schema_oid);

	/*
	 * Anything else living in guarded_ddl's schema: its tables, views,
	 * functions.  Every intent carries its schema's name, also for objects
	 * already gone from the catalogs at sql_drop.
	 */
	if (intent->schema_name != NULL &&
		strcmp(intent->schema_name, GUARD_SCHEMA_NAME) == 0)
		return true;
	return false;
}
