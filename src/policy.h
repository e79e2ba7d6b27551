/*-------------------------------------------------------------------------
 *
 * policy.h
 *	  A cached rule of guarded_ddl.policy, and how to find the one that
 *	  decides an intent.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_POLICY_H
#define GUARDED_DDL_POLICY_H

#include "intent.h"

typedef struct GuardRule
{
	int64		id;
	int32		priority;
	int			rank;			/* position in (priority, id) order */
	bool		any_operation;
	GuardOperation operation;
	/* patterns; NULL means '*' */
	char	   *object_type;
	char	   *schema_name;
	char	   *object_name;
	char	   *column_name;
	char	   *role_name;
	char	   *application_name;
	GuardAction action;
	double		backup_max_age_secs;	/* < 0: use the setting */
	bool		require_verified;
	bool		has_expiry;
	TimestampTz expires_at;
} GuardRule;

extern const GuardRule *policy_match(const GuardCatalog *catalog,
									 const GuardIntent *intent,
									 const char *role,
									 const char *application);
extern bool policy_has_action(const GuardCatalog *catalog, GuardAction action);
extern bool policy_has_delete_all_rule(const GuardCatalog *catalog);
extern const GuardRule *policy_match_guarding(const GuardCatalog *catalog,
											  const GuardIntent *intent,
											  const char *role,
											  const char *application);

/* Register the cache invalidation callbacks; once, from _PG_init. */
extern void policy_register_invalidation(void);

#endif							/* GUARDED_DDL_POLICY_H */
