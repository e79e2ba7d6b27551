/*-------------------------------------------------------------------------
 *
 * policy.c
 *	  The rules of guarded_ddl.policy: loaded once per backend into a cache,
 *	  reloaded when a change to the table commits (a statement trigger sends
 *	  the relcache invalidation plain DML does not), and matched against
 *	  intents.
 *
 *	  Matching cost does not grow with rules that name other objects: rules
 *	  whose object_name is a literal sit in a hash table keyed by that name,
 *	  so only the rules naming this object and the wildcard rules are tried.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "glob.h"
#include "policy.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(guarded_ddl_policy_changed);

/* Rules with the same literal object_name, in evaluation order. */
typedef struct RuleBucket
{
	char		name[NAMEDATALEN];	/* hash key */
	List	   *rules;
} RuleBucket;

static MemoryContext policy_context = NULL;
static bool policy_valid = false;
static Oid	policy_cached_relid = InvalidOid;
static List *wildcard_rules = NIL;	/* GuardRule *, evaluation order */
static HTAB *rules_by_name = NULL;
static int	policy_rule_count = 0;
static bool policy_action_used[GUARD_ACTION_SOFT_DROP + 1];

static void policy_invalidate(Datum arg, Oid relid);
static void policy_load(const GuardCatalog *catalog);
static char *pattern_or_null(HeapTuple tuple, TupleDesc desc, int attno);
static bool rule_matches(const GuardRule *rule, const GuardIntent *intent,
						 const char *role, const char *application,
						 TimestampTz now);

void
policy_register_invalidation(void)
{
	CacheRegisterRelcacheCallback(policy_invalidate, (Datum) 0);
}

/*
 * Relcache callback: may run at any time, even during abort, so it only
 * sets a flag.  InvalidOid means "everything" (sinval queue overflow).
 */
static void
policy_invalidate(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == policy_cached_relid)
		policy_valid = false;
}

/*
 * Statement trigger on guarded_ddl.policy: the invalidation is
 * transactional, so other backends reload only once the change commits.
 */
Datum
guarded_ddl_policy_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("guarded_ddl.policy_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	PG_RETURN_POINTER(NULL);
}

/*
 * Make sure the cache reflects every committed change of the policy.
 * Processes pending invalidations first, so a change committed by another
 * session is seen at this session's next statement.
 */
static void
policy_ensure_loaded(const GuardCatalog *catalog)
{
	AcceptInvalidationMessages();
	if (policy_valid && policy_cached_relid == catalog->policy_relid)
		return;
	policy_load(catalog);
}

/*
 * Read every enabled rule, as the extension owner (the DDL user needs no
 * right on the policy).  Malformed rows -- only possible when someone
 * disabled the validation -- fail closed: an unknown action becomes deny, an
 * unknown operation matches every operation.
 */
static void
policy_load(const GuardCatalog *catalog)
{
	GuardOwnerContext saved;
	MemoryContext oldcxt;
	HASHCTL		ctl;
	int			ret;

	if (policy_context == NULL)
		policy_context = AllocSetContextCreate(TopMemoryContext,
											   "guarded_ddl policy",
											   ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(policy_context);
	wildcard_rules = NIL;
	rules_by_name = NULL;
	policy_rule_count = 0;
	memset(policy_action_used, 0, sizeof(policy_action_used));
	policy_valid = false;

	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(RuleBucket);
	ctl.hcxt = policy_context;
	rules_by_name = hash_create("guarded_ddl rules by name", 256, &ctl,
								HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	guard_spi_connect_as_owner(catalog, &saved);
	ret = SPI_execute("SELECT id, priority, operation, object_type, schema_name,"
					  "       object_name, column_name, role_name,"
					  "       application_name, action,"
					  "       pg_catalog.date_part('epoch', backup_max_age),"
					  "       require_verified_backup, expires_at"
					  "  FROM guarded_ddl.policy"
					  " WHERE enabled"
					  " ORDER BY priority, id",
					  true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "guarded_ddl: could not read guarded_ddl.policy: %s",
			 SPI_result_code_string(ret));

	oldcxt = MemoryContextSwitchTo(policy_context);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		GuardRule  *rule = palloc0(sizeof(GuardRule));
		bool		isnull;
		char	   *text;
		char	   *literal;
		Datum		d;

		rule->rank = (int) i;
		rule->id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		rule->priority = DatumGetInt32(SPI_getbinval(tuple, desc, 2, &isnull));

		text = SPI_getvalue(tuple, desc, 3);
		rule->any_operation = (text == NULL || strcmp(text, "*") == 0 ||
							   !guard_operation_parse(text, &rule->operation));
		rule->object_type = pattern_or_null(tuple, desc, 4);
		rule->schema_name = pattern_or_null(tuple, desc, 5);
		rule->object_name = pattern_or_null(tuple, desc, 6);
		rule->column_name = pattern_or_null(tuple, desc, 7);
		rule->role_name = pattern_or_null(tuple, desc, 8);
		rule->application_name = pattern_or_null(tuple, desc, 9);

		text = SPI_getvalue(tuple, desc, 10);
		if (text == NULL || !guard_action_parse(text, &rule->action))
		{
			ereport(WARNING,
					(errmsg("guarded_ddl: policy rule %lld has unknown action \"%s\"; treating it as deny",
							(long long) rule->id, text ? text : "(null)")));
			rule->action = GUARD_ACTION_DENY;
		}

		d = SPI_getbinval(tuple, desc, 11, &isnull);
		rule->backup_max_age_secs = isnull ? -1 : DatumGetFloat8(d);
		d = SPI_getbinval(tuple, desc, 12, &isnull);
		rule->require_verified = !isnull && DatumGetBool(d);
		d = SPI_getbinval(tuple, desc, 13, &isnull);
		rule->has_expiry = !isnull;
		rule->expires_at = isnull ? 0 : DatumGetTimestampTz(d);

		if (rule->object_name != NULL &&
			glob_is_literal(rule->object_name, &literal))
		{
			/* longer than any name can be: the rule can never match */
			if (strlen(literal) < NAMEDATALEN)
			{
				RuleBucket *bucket;
				bool		found;

				bucket = hash_search(rules_by_name, literal, HASH_ENTER, &found);
				if (!found)
					bucket->rules = NIL;
				bucket->rules = lappend(bucket->rules, rule);
			}
		}
		else
			wildcard_rules = lappend(wildcard_rules, rule);
		policy_action_used[rule->action] = true;
		policy_rule_count++;
	}
	MemoryContextSwitchTo(oldcxt);

	guard_spi_finish_as_owner(&saved);

	policy_cached_relid = catalog->policy_relid;
	policy_valid = true;
}

/* A pattern column; '*' (match anything) is stored as NULL. */
static char *
pattern_or_null(HeapTuple tuple, TupleDesc desc, int attno)
{
	char	   *value = SPI_getvalue(tuple, desc, attno);

	if (value == NULL || strcmp(value, "*") == 0)
		return NULL;
	return value;
}

static inline bool
pattern_matches(const char *pattern, const char *subject)
{
	if (pattern == NULL)
		return true;
	return glob_match(pattern, subject ? subject : "");
}

/* Whether every pattern of the rule matches the intent, role and application. */
static bool
rule_matches(const GuardRule *rule, const GuardIntent *intent,
			 const char *role, const char *application, TimestampTz now)
{
	if (rule->has_expiry && rule->expires_at <= now)
		return false;
	if (!rule->any_operation && rule->operation != intent->operation)
		return false;
	if (rule->object_type != NULL &&
		strcmp(rule->object_type, intent->object_type) != 0)
		return false;
	return pattern_matches(rule->schema_name, intent->schema_name) &&
		pattern_matches(rule->object_name, intent->object_name) &&
		pattern_matches(rule->column_name, intent->column_name) &&
		pattern_matches(rule->role_name, role) &&
		pattern_matches(rule->application_name, application);
}

/*
 * The first rule, in (priority, id) order, whose every pattern matches the
 * intent; NULL when none does.  The result points into the backend cache and
 * stays valid until the next policy_match() call.
 */
const GuardRule *
policy_match(const GuardCatalog *catalog, const GuardIntent *intent,
			 const char *role, const char *application)
{
	List	   *named = NIL;
	ListCell   *a;
	ListCell   *b;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	policy_ensure_loaded(catalog);
	if (policy_rule_count == 0)
		return NULL;

	if (intent->object_name != NULL && strlen(intent->object_name) < NAMEDATALEN)
	{
		char		key[NAMEDATALEN];
		RuleBucket *bucket;

		memset(key, 0, sizeof(key));
		strlcpy(key, intent->object_name, NAMEDATALEN);
		bucket = hash_search(rules_by_name, key, HASH_FIND, NULL);
		if (bucket != NULL)
			named = bucket->rules;
	}

	/* merge the two lists, both in evaluation order */
	a = list_head(named);
	b = list_head(wildcard_rules);
	while (a != NULL || b != NULL)
	{
		const GuardRule *rule;

		if (b == NULL ||
			(a != NULL && ((GuardRule *) lfirst(a))->rank <
			 ((GuardRule *) lfirst(b))->rank))
		{
			rule = lfirst(a);
			a = lnext(named, a);
		}
		else
		{
			rule = lfirst(b);
			b = lnext(wildcard_rules, b);
		}
		if (rule_matches(rule, intent, role, application, now))
			return rule;
	}
	return NULL;
}

/* Whether any enabled rule uses the action (cheap test for the hook). */
bool
policy_has_action(const GuardCatalog *catalog, GuardAction action)
{
	policy_ensure_loaded(catalog);
	return policy_action_used[action];
}
