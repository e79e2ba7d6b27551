/*-------------------------------------------------------------------------
 *
 * enforce.c
 *	  Acts on the decisions: a WARNING for each warned intent, and one ERROR
 *	  per statement when any of its intents is refused.  Nothing else: the
 *	  denial has been recorded durably before (pipeline.c), since the ERROR
 *	  rolls back everything the statement's own transaction wrote.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "backup.h"
#include "classify.h"
#include "enforce.h"
#include "settings.h"

static const char *operation_verb(GuardOperation op);
static char *describe_data(const GuardIntent *intent);
static char *describe_backup(GuardStatement *stmt, const GuardIntent *intent);
static char *describe_age(double secs);
static int	refusal_errcode(GuardRefusal refusal);
static const char *quoted(const char *identity);
static char *sentence_join(const char *a, const char *b);

/*
 * Send the warnings and, if anything is refused, the error.  Every intent of
 * the statement must be decided.  Does not return when it refuses.
 */
void
enforce_statement(GuardStatement *stmt)
{
	GuardIntent *first = NULL;
	bool		is_setting;
	int			refused = 0;
	ListCell   *lc;
	StringInfoData detail;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if (intent->decision == GUARD_DENIED)
		{
			if (first == NULL)
				first = intent;
			refused++;
		}
	}

	if (refused == 0)
	{
		foreach(lc, stmt->intents)
		{
			GuardIntent *intent = lfirst(lc);

			if (intent->decision != GUARD_WARNED || intent->announced)
				continue;
			intent->announced = true;
			if (intent->action == GUARD_ACTION_WARN)
				ereport(WARNING,
						(errmsg("guarded_ddl: allowing %s to %s %s %s with a warning",
								stmt->command_tag, operation_verb(intent->operation),
								intent->object_type, quoted(intent->object_identity)),
						 errdetail_internal("%s", sentence_join(intent->reason,
																describe_data(intent)))));
			else
				ereport(WARNING,
						(errmsg("guarded_ddl would refuse to %s %s %s (%s)",
								operation_verb(intent->operation),
								intent->object_type, quoted(intent->object_identity),
								stmt->command_tag),
						 errdetail_internal("%s", sentence_join(intent->reason,
																describe_data(intent))),
						 errhint("guarded_ddl.mode is warn, so nothing is refused.")));
		}
		return;
	}

	/* the denials are durable by now (pipeline.c) */
	is_setting = (first->refusal == GUARD_REFUSAL_SELF &&
				  strcmp(first->object_type, GUARD_SETTING_OBJECT_TYPE) == 0);

	initStringInfo(&detail);
	appendStringInfo(&detail, "Statement: %s.", stmt->command_tag);
	if (first->data_bearing && first->refusal != GUARD_REFUSAL_SELF)
		appendStringInfo(&detail, " %s", describe_data(first));
	if (first->refusal == GUARD_REFUSAL_NO_BACKUP)
		appendStringInfo(&detail, " %s", describe_backup(stmt, first));
	if (first->refusal == GUARD_REFUSAL_SELF && is_setting)
		appendStringInfoString(&detail, " With event_triggers = off no event trigger fires in the session, so guarded_ddl could not judge its DDL.");
	else if (first->refusal == GUARD_REFUSAL_SELF)
		appendStringInfo(&detail, " %s %s belongs to guarded_ddl; changing it would disable the guard or destroy its audit.",
						 first->object_type, quoted(first->object_identity));
	else if (first->policy_id != 0)
		appendStringInfo(&detail, " Decided by policy rule %lld (%s).",
						 (long long) first->policy_id,
						 guard_action_name(first->action));
	else
		appendStringInfo(&detail, " Decided by guarded_ddl.default_action (%s): no policy rule matched.",
						 guard_action_name(first->action));
	if (refused > 1)
		appendStringInfo(&detail, " %d more %s of this statement %s refused too (see guarded_ddl.denials).",
						 refused - 1, refused > 2 ? "objects" : "object",
						 refused > 2 ? "were" : "was");

	ereport(ERROR,
			(errcode(refusal_errcode(first->refusal)),
			 is_setting && classify_is_guarded_statement((Node *) stmt->key)
			 ? errmsg("refusing %s while event triggers are switched off",
					  stmt->command_tag)
			 : is_setting
			 ? errmsg("refusing to switch event triggers off")
			 : first->refusal == GUARD_REFUSAL_SELF
			 ? errmsg("refusing %s on guarded_ddl's own %s %s",
					  stmt->command_tag, first->object_type,
					  quoted(first->object_identity))
			 : errmsg("refusing to %s %s %s",
					  operation_verb(first->operation), first->object_type,
					  quoted(first->object_identity)),
			 errdetail_internal("%s", detail.data),
			 first->refusal == GUARD_REFUSAL_NO_BACKUP
			 ? errhint("Record a recent backup with guarded_ddl.record_backup(), "
					   "or run SELECT guarded_ddl.override('reason') in the same transaction if you hold that right.")
			 : first->refusal == GUARD_REFUSAL_SELF
			 ? errhint("Run SELECT guarded_ddl.override('reason') in the same transaction if you really mean to change guarded_ddl itself.")
			 : errhint("Change the rule in guarded_ddl.policy, "
					   "or run SELECT guarded_ddl.override('reason') in the same transaction if you hold that right.")));
}

/* The verb an error message uses for an operation. */
static const char *
operation_verb(GuardOperation op)
{
	switch (op)
	{
		case GUARD_OP_DROP:
			return "drop";
		case GUARD_OP_ALTER_TYPE:
			return "change the type of";
		case GUARD_OP_TRUNCATE:
			return "truncate";
		case GUARD_OP_RENAME:
			return "rename";
		case GUARD_OP_DETACH_PARTITION:
			return "detach";
		case GUARD_OP_SET_UNLOGGED:
			return "make unlogged";
		case GUARD_OP_DROP_CONSTRAINT:
			return "drop a constraint of";
		case GUARD_OP_DELETE_ALL:
			return "delete every row of";
		case GUARD_OP_DDL:
			return "alter";
	}
	return "change";
}

/* "It holds about 1247 rows." and the like, for DETAIL lines. */
static char *
describe_data(const GuardIntent *intent)
{
	const char *what = (strcmp(intent->object_type, "table column") == 0)
		? "Its table" : "It";

	if (!intent->data_bearing || intent->is_temporary)
		return "";
	switch (intent->holds_data)
	{
		case GUARD_DATA_NONE:
			return psprintf("%s holds no rows.", what);
		case GUARD_DATA_PRESENT:
			if (strcmp(intent->object_type, "sequence") == 0)
				return "It has handed out values.";
			if (strcmp(intent->object_type, "large object") == 0)
				return "Its contents go with it.";
			if (intent->row_estimate == 1)
				return psprintf("%s holds about 1 row.", what);
			if (intent->row_estimate > 1)
				return psprintf("%s holds about %lld rows.", what,
								(long long) intent->row_estimate);
			return psprintf("%s holds rows.", what);
		case GUARD_DATA_UNKNOWN:
			break;
	}
	return "Whether it held rows could not be told before it was dropped, so it counts as holding data.";
}

/* "6 h", "90 min", "2 d" */
static char *
describe_age(double secs)
{
	int64		s = (int64) secs;

	if (s % 86400 == 0)
		return psprintf("%lld d", (long long) (s / 86400));
	if (s % 3600 == 0)
		return psprintf("%lld h", (long long) (s / 3600));
	if (s % 60 == 0)
		return psprintf("%lld min", (long long) (s / 60));
	return psprintf("%lld s", (long long) s);
}

/* The backup facts behind a require_backup refusal. */
static char *
describe_backup(GuardStatement *stmt, const GuardIntent *intent)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	long		secs;
	int			usecs;

	backup_load(stmt);
	if (stmt->backups.newest_id == 0)
		return "No backup is recorded in guarded_ddl.backups.";
	TimestampDifference(stmt->backups.newest_finished, now, &secs, &usecs);
	if (intent->backup_verified_required)
	{
		long		vsecs;
		int			vusecs;

		if (stmt->backups.verified_id == 0)
			return psprintf("No restore-tested backup is recorded; the newest backup (id %lld) finished %ld h %02ld min ago.",
							(long long) stmt->backups.newest_id, secs / 3600,
							(secs % 3600) / 60);
		TimestampDifference(stmt->backups.verified_finished, now, &vsecs, &vusecs);
		return psprintf("The newest restore-tested backup (id %lld) finished %ld h %02ld min ago; at most %s is accepted.",
						(long long) stmt->backups.verified_id, vsecs / 3600,
						(vsecs % 3600) / 60,
						describe_age(intent->backup_max_age_secs));
	}
	return psprintf("The newest backup (id %lld) finished %ld h %02ld min ago; at most %s is accepted.",
					(long long) stmt->backups.newest_id, secs / 3600,
					(secs % 3600) / 60,
					describe_age(intent->backup_max_age_secs));
}

/*
 * An object identity in double quotes, unless it carries its own quoting
 * (then another pair would only confuse).
 */
static const char *
quoted(const char *identity)
{
	if (strchr(identity, '"') != NULL)
		return identity;
	return psprintf("\"%s\"", identity);
}

/* "reason." + " " + "data sentence.", skipping empty parts. */
static char *
sentence_join(const char *a, const char *b)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (a != NULL && a[0] != '\0')
	{
		appendStringInfoString(&buf, a);
		if (a[strlen(a) - 1] != '.')
			appendStringInfoChar(&buf, '.');
	}
	if (b != NULL && b[0] != '\0')
	{
		if (buf.len > 0)
			appendStringInfoChar(&buf, ' ');
		appendStringInfoString(&buf, b);
	}
	return buf.data;
}

/* The documented SQLSTATE of each kind of refusal. */
static int
refusal_errcode(GuardRefusal refusal)
{
	switch (refusal)
	{
		case GUARD_REFUSAL_NO_BACKUP:
			return ERRCODE_GUARD_BACKUP_REQUIRED;
		case GUARD_REFUSAL_SELF:
			return ERRCODE_GUARD_SELF_PROTECTION;
		case GUARD_REFUSAL_RULE:
		case GUARD_REFUSAL_NONE:
			break;
	}
	return ERRCODE_GUARD_DENIED_BY_POLICY;
}
