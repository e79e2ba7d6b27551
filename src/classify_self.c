/*-------------------------------------------------------------------------
 *
 * classify_self.c
 *	  Intents about guarded_ddl itself: changes to its functions, tables,
 *	  views and event triggers, rights granted or revoked on them, the
 *	  deletion of any of its objects, and PostgreSQL 17's event_triggers
 *	  setting.  The decide stage refuses them
 *	  (self-protection, ZG003) unless overridden.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/objectaddress.h"
#include "catalog/pg_event_trigger.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"

#include "classify.h"

static void own_schema(const char *name, List **intents);
static void own_type(List *names, List **intents);

/*
 * A rule, trigger or policy added to one of guarded_ddl's tables could
 * swallow audit rows; the probe intent is kept only for those tables.
 */
void
classify_own_table_part(RangeVar *rv, const char *object_type,
						const char *name, List **intents)
{
	GuardIntent *intent = classify_relation_intent(GUARD_OP_DDL, rv, GUARD_RIGHT_NONE,
										  NoLock, false);

	intent->object_type = object_type;
	intent->part_name = pstrdup(name);
	intent->only_if_self = true;
	intent->missing_ok = true;
	*intents = lappend(*intents, intent);
}

/*
 * Functions in guarded_ddl's schema are the guard: replacing glob_match or
 * an event trigger function would blind it.  Only schema-qualified names
 * are recognised; guarded_ddl's schema is never on a sane search_path.
 */
void
classify_own_function(List *names, List **intents)
{
	GuardIntent *intent;

	if (list_length(names) < 2 ||
		strcmp(strVal(linitial(names)), GUARD_SCHEMA_NAME) != 0)
		return;
	intent = guard_intent_new(GUARD_OP_DDL, "function");
	intent->schema_name = pstrdup(GUARD_SCHEMA_NAME);
	intent->object_name = pstrdup(strVal(llast(names)));
	intent->object_identity = pstrdup(NameListToQuotedString(names));
	intent->only_if_self = true;
	*intents = lappend(*intents, intent);
}


/*
 * The deletion of one of guarded_ddl's own objects, seen at OAT_DROP while
 * its catalog rows are still there.  Allocated in CurrentMemoryContext.
 */
GuardIntent *
classify_own_object_drop(const ObjectAddress *object)
{
	const char *type = getObjectTypeDescription(object, true);
	char	   *identity = getObjectIdentity(object, true);
	GuardIntent *intent = guard_intent_new(GUARD_OP_DROP, type ? type : "object");

	intent->address = *object;
	intent->object_identity = identity ? identity : pstrdup("?");
	/* everything it stands for lives in (or is) guarded_ddl's schema */
	intent->schema_name = pstrdup(GUARD_SCHEMA_NAME);
	intent->cascaded = true;
	intent->holds_data = GUARD_DATA_NONE;
	return intent;
}

/*
 * ALTER, RENAME, OWNER TO or DROP of one of guarded_ddl's four event
 * triggers (only the utility hook sees those commands).
 */
GuardIntent *
classify_own_event_trigger(GuardOperation op, Oid evtoid, const char *name)
{
	GuardIntent *intent = guard_intent_new(op, "event trigger");

	ObjectAddressSet(intent->address, EventTriggerRelationId, evtoid);
	intent->object_name = pstrdup(name);
	intent->object_identity = pstrdup(quote_identifier(name));
	return intent;
}

/*
 * PostgreSQL 17's event_triggers setting switched off, or a guarded
 * statement run while it is off.  It stands for all of guarded_ddl's event
 * triggers, so self-protection decides it.
 */
GuardIntent *
classify_event_triggers_off(void)
{
	GuardIntent *intent = guard_intent_new(GUARD_OP_DDL,
										   GUARD_SETTING_OBJECT_TYPE);

	ObjectAddressSet(intent->address, EventTriggerRelationId, InvalidOid);
	intent->object_name = pstrdup("event_triggers");
	intent->object_identity = pstrdup("event_triggers");
	return intent;
}

/*
 * Any change to one of guarded_ddl's relations (its sequences, views,
 * tables), as a probe intent kept only when the relation is guarded_ddl's.
 */
void
classify_own_relation(RangeVar *rv, List **intents)
{
	GuardIntent *intent;

	if (rv == NULL)
		return;
	intent = classify_relation_intent(GUARD_OP_DDL, rv, GUARD_RIGHT_NONE,
									  NoLock, false);
	intent->only_if_self = true;
	intent->missing_ok = true;
	*intents = lappend(*intents, intent);
}

/*
 * ALTER FUNCTION / SCHEMA / TYPE ... OWNER TO: handing guarded_ddl's
 * objects to another role would let that role change them.  (Its tables,
 * sequences and views go through ALTER TABLE; its event triggers through
 * the utility hook.)
 */
void
classify_own_owner_change(AlterOwnerStmt *stmt, List **intents)
{
	switch (stmt->objectType)
	{
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
			classify_own_function(castNode(ObjectWithArgs, stmt->object)->objname,
								  intents);
			break;
		case OBJECT_SCHEMA:
			own_schema(strVal(stmt->object), intents);
			break;
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			own_type(castNode(List, stmt->object), intents);
			break;
		default:
			break;
	}
}

/*
 * GRANT / REVOKE on guarded_ddl's objects: a right on its tables,
 * functions or schema is what lets a role rewrite the policy, forge backup
 * markers or call override() (DESIGN §3.7), so changing one is
 * self-protection, refused unless overridden -- also for a superuser, whose
 * accident it would be.  ALL ... IN SCHEMA guarded_ddl counts as the schema.
 * Role memberships (GRANT role TO role) are not objects and pass.
 */
void
classify_own_grant(GrantStmt *stmt, List **intents)
{
	ListCell   *lc;

	if (stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA)
	{
		foreach(lc, stmt->objects)
			own_schema(strVal(lfirst(lc)), intents);
		return;
	}
	if (stmt->targtype != ACL_TARGET_OBJECT)
		return;
	foreach(lc, stmt->objects)
	{
		switch (stmt->objtype)
		{
			case OBJECT_TABLE:
			case OBJECT_SEQUENCE:
				classify_own_relation(lfirst_node(RangeVar, lc), intents);
				break;
			case OBJECT_FUNCTION:
			case OBJECT_PROCEDURE:
			case OBJECT_ROUTINE:
				classify_own_function(lfirst_node(ObjectWithArgs, lc)->objname,
									  intents);
				break;
			case OBJECT_SCHEMA:
				own_schema(strVal(lfirst(lc)), intents);
				break;
			case OBJECT_TYPE:
			case OBJECT_DOMAIN:
				own_type(castNode(List, lfirst(lc)), intents);
				break;
			default:
				break;
		}
	}
}

/* A schema named in a statement, kept only when it is guarded_ddl's. */
static void
own_schema(const char *name, List **intents)
{
	GuardIntent *intent = guard_intent_new(GUARD_OP_DDL, "schema");

	intent->schema_name = pstrdup(name);
	intent->object_name = pstrdup(name);
	intent->object_identity = pstrdup(quote_identifier(name));
	ObjectAddressSet(intent->address, NamespaceRelationId,
					 get_namespace_oid(name, true));
	intent->only_if_self = true;
	*intents = lappend(*intents, intent);
}

/* A type or domain named guarded_ddl.NAME (qualified, as for functions). */
static void
own_type(List *names, List **intents)
{
	GuardIntent *intent;

	if (list_length(names) < 2 ||
		strcmp(strVal(linitial(names)), GUARD_SCHEMA_NAME) != 0)
		return;
	intent = guard_intent_new(GUARD_OP_DDL, "type");
	intent->schema_name = pstrdup(GUARD_SCHEMA_NAME);
	intent->object_name = pstrdup(strVal(llast(names)));
	intent->object_identity = pstrdup(NameListToQuotedString(names));
	intent->only_if_self = true;
	*intents = lappend(*intents, intent);
}
