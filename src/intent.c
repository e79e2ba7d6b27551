/*-------------------------------------------------------------------------
 *
 * intent.c
 *	  The vocabulary of the pipeline: the names operations, actions and
 *	  decisions have in the policy and audit tables, and the two facts every
 *	  stage asks of an intent (a new one; does it destroy data?).
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "intent.h"

static const char *const operation_names[] = {
	[GUARD_OP_DROP] = "drop",
	[GUARD_OP_ALTER_TYPE] = "alter_type",
	[GUARD_OP_TRUNCATE] = "truncate",
	[GUARD_OP_RENAME] = "rename",
	[GUARD_OP_DETACH_PARTITION] = "detach_partition",
	[GUARD_OP_SET_UNLOGGED] = "set_unlogged",
	[GUARD_OP_DROP_CONSTRAINT] = "drop_constraint",
	[GUARD_OP_DELETE_ALL] = "delete_all",
	[GUARD_OP_DDL] = "ddl",
};

static const char *const decision_names[] = {
	[GUARD_UNDECIDED] = "undecided",
	[GUARD_ALLOWED] = "allowed",
	[GUARD_WARNED] = "warned",
	[GUARD_DENIED] = "denied",
	[GUARD_OVERRIDDEN] = "overridden",
	[GUARD_SOFT_DROPPED] = "soft_dropped",
	[GUARD_PURGED] = "purged",
};

static const char *const action_names[] = {
	[GUARD_ACTION_ALLOW] = "allow",
	[GUARD_ACTION_WARN] = "warn",
	[GUARD_ACTION_REQUIRE_BACKUP] = "require_backup",
	[GUARD_ACTION_DENY] = "deny",
	[GUARD_ACTION_SOFT_DROP] = "soft_drop",
};

/* The operation as spelled in policy.operation and audit.operation. */
const char *
guard_operation_name(GuardOperation op)
{
	return operation_names[op];
}

/* policy.operation to an operation; false for a word that is none. */
bool
guard_operation_parse(const char *name, GuardOperation *op)
{
	for (int i = 0; i <= GUARD_OP_DELETE_ALL; i++)
	{
		if (strcmp(operation_names[i], name) == 0)
		{
			*op = (GuardOperation) i;
			return true;
		}
	}
	return false;
}

/* The decision as spelled in audit.decision. */
const char *
guard_decision_name(GuardDecision decision)
{
	return decision_names[decision];
}

/* The action as spelled in policy.action. */
const char *
guard_action_name(GuardAction action)
{
	return action_names[action];
}

/* policy.action to an action; false for a word that is none. */
bool
guard_action_parse(const char *name, GuardAction *action)
{
	for (int i = 0; i <= GUARD_ACTION_SOFT_DROP; i++)
	{
		if (strcmp(action_names[i], name) == 0)
		{
			*action = (GuardAction) i;
			return true;
		}
	}
	return false;
}

/*
 * A zeroed intent in CurrentMemoryContext.  holds_data starts UNKNOWN: an
 * intent nobody assessed counts as holding data (fail closed).
 */
GuardIntent *
guard_intent_new(GuardOperation op, const char *object_type)
{
	GuardIntent *intent = palloc0(sizeof(GuardIntent));

	intent->operation = op;
	intent->object_type = object_type;
	intent->holds_data = GUARD_DATA_UNKNOWN;
	intent->row_estimate = -1;
	intent->lockmode = NoLock;
	return intent;
}

/*
 * Data is destroyed by drop, alter_type, truncate and delete_all of
 * something that can hold rows, unless it was assessed empty.  Temporary
 * objects hold nothing that outlives the session, and a lossless type
 * change (integer to bigint, DESIGN §3.1.1) keeps every value: holds_data
 * still says what the probe found, for the audit.
 */
bool
guard_intent_destroys_data(const GuardIntent *intent)
{
	if (intent->is_temporary || !intent->data_bearing)
		return false;
	if (intent->operation != GUARD_OP_DROP &&
		intent->operation != GUARD_OP_ALTER_TYPE &&
		intent->operation != GUARD_OP_TRUNCATE &&
		intent->operation != GUARD_OP_DELETE_ALL)
		return false;
	if (intent->operation == GUARD_OP_ALTER_TYPE && intent->lossless)
		return false;
	return intent->holds_data != GUARD_DATA_NONE;
}
