/*-------------------------------------------------------------------------
 *
 * classify.c
 *	  Turns a statement into intents: one per object it would destroy,
 *	  rewrite, rename, detach, make unlogged or strip of a constraint.
 *
 *	  Two sources feed it.  At ddl_command_start (and in the utility hook)
 *	  the parse tree names the targets; nothing is locked or looked up with
 *	  a lock here, that is assess.c's job.  At sql_drop the list of objects
 *	  PostgreSQL really dropped adds everything the statement removed as a
 *	  side effect (CASCADE, DROP SCHEMA, DROP OWNED, DROP EXTENSION ...).
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "catalog/pg_extension.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/tablecmds.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "access/htup_details.h"

#include "classify.h"

static void classify_drop(DropStmt *stmt, List **intents);
static void classify_alter_table(AlterTableStmt *stmt, List **intents);
static void classify_alter_type_attributes(AlterTableStmt *stmt,
										   List **intents);
static void classify_rename(RenameStmt *stmt, List **intents);
static void classify_set_schema(AlterObjectSchemaStmt *stmt, List **intents);
static void classify_enum_rename(AlterEnumStmt *stmt, List **intents);
static void classify_truncate(TruncateStmt *stmt, List **intents);
static GuardIntent *type_intent(GuardOperation op, List *names);
static GuardIntent *moved_object_intent(ObjectType objtype, RangeVar *relation,
										Node *object, List **intents);

/*
 * Cheap test, run for every DDL statement: can this statement produce an
 * intent at all?  Everything else only reaches the audit (audit = all).
 */
bool
classify_is_guarded_statement(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
		case T_DropOwnedStmt:
		case T_AlterTableStmt:
		case T_RenameStmt:
		case T_AlterObjectSchemaStmt:
		case T_AlterEnumStmt:
		case T_TruncateStmt:
		case T_AlterExtensionContentsStmt:
		case T_CreateFunctionStmt:
		case T_AlterFunctionStmt:
		case T_RuleStmt:
		case T_CreateTrigStmt:
		case T_CreatePolicyStmt:
		case T_ViewStmt:
		case T_AlterOwnerStmt:
		case T_AlterSeqStmt:
		case T_LockStmt:
		case T_GrantStmt:
			return true;
		default:
			return false;
	}
}

/*
 * The intents a parse tree names, unresolved: relations are still RangeVars
 * for assess.c to check, lock and probe.  Allocated in CurrentMemoryContext.
 * Objects only known once dropped (DROP SCHEMA contents, functions, types)
 * get their intents at sql_drop instead.
 */
List *
classify_statement(Node *parsetree)
{
	List	   *intents = NIL;

	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			classify_drop((DropStmt *) parsetree, &intents);
			break;
		case T_AlterTableStmt:
			classify_alter_table((AlterTableStmt *) parsetree, &intents);
			break;
		case T_RenameStmt:
			classify_rename((RenameStmt *) parsetree, &intents);
			break;
		case T_AlterObjectSchemaStmt:
			classify_set_schema((AlterObjectSchemaStmt *) parsetree, &intents);
			break;
		case T_AlterEnumStmt:
			classify_enum_rename((AlterEnumStmt *) parsetree, &intents);
			break;
		case T_TruncateStmt:
			classify_truncate((TruncateStmt *) parsetree, &intents);
			break;
		case T_AlterExtensionContentsStmt:
			{
				AlterExtensionContentsStmt *stmt = (AlterExtensionContentsStmt *) parsetree;

				if (strcmp(stmt->extname, GUARD_EXTENSION_NAME) == 0)
				{
					GuardIntent *intent = guard_intent_new(GUARD_OP_DDL, "extension");

					intent->object_name = pstrdup(stmt->extname);
					intent->object_identity = pstrdup(quote_identifier(stmt->extname));
					ObjectAddressSet(intent->address, ExtensionRelationId,
									 get_extension_oid(stmt->extname, true));
					intent->missing = !OidIsValid(intent->address.objectId);
					intents = lappend(intents, intent);
				}
				break;
			}
		case T_CreateFunctionStmt:
			classify_own_function(((CreateFunctionStmt *) parsetree)->funcname,
								  &intents);
			break;
		case T_RuleStmt:
			classify_own_table_part(((RuleStmt *) parsetree)->relation, "rule",
									((RuleStmt *) parsetree)->rulename, &intents);
			break;
		case T_CreateTrigStmt:
			classify_own_table_part(((CreateTrigStmt *) parsetree)->relation, "trigger",
									((CreateTrigStmt *) parsetree)->trigname, &intents);
			break;
		case T_CreatePolicyStmt:
			classify_own_table_part(((CreatePolicyStmt *) parsetree)->table, "policy",
									((CreatePolicyStmt *) parsetree)->policy_name,
									&intents);
			break;
		case T_ViewStmt:
			{
				RangeVar   *view = ((ViewStmt *) parsetree)->view;

				/* CREATE OR REPLACE VIEW guarded_ddl.denials ... WHERE false */
				if (view->schemaname != NULL &&
					strcmp(view->schemaname, GUARD_SCHEMA_NAME) == 0)
				{
					GuardIntent *intent = guard_intent_new(GUARD_OP_DDL, "view");

					intent->schema_name = pstrdup(GUARD_SCHEMA_NAME);
					intent->object_name = pstrdup(view->relname);
					intent->object_identity = quote_qualified_identifier(view->schemaname,
																		 view->relname);
					intent->only_if_self = true;
					intents = lappend(intents, intent);
				}
				break;
			}
		case T_AlterFunctionStmt:
			classify_own_function(((AlterFunctionStmt *) parsetree)->func->objname,
								  &intents);
			break;
		case T_AlterSeqStmt:
			/* ALTER SEQUENCE guarded_ddl.audit_id_seq RESTART ... */
			classify_own_relation(((AlterSeqStmt *) parsetree)->sequence, &intents);
			break;
		case T_AlterOwnerStmt:
			classify_own_owner_change((AlterOwnerStmt *) parsetree, &intents);
			break;
		case T_GrantStmt:
			classify_own_grant((GrantStmt *) parsetree, &intents);
			break;
		case T_LockStmt:
			{
				ListCell   *lc;

				/* only the utility hook sees LOCK: on guarded_ddl's tables */
				foreach(lc, ((LockStmt *) parsetree)->relations)
					classify_own_relation(lfirst_node(RangeVar, lc), &intents);
				break;
			}
		default:
			break;
	}
	return intents;
}

/*
 * DROP of relations that can hold rows is decided before anything runs, so
 * the rows can still be counted.  Every other DROP is decided at sql_drop
 * from what PostgreSQL reports as dropped.
 */
static void
classify_drop(DropStmt *stmt, List **intents)
{
	char		relkind;
	ListCell   *lc;

	switch (stmt->removeType)
	{
		case OBJECT_TRIGGER:
		case OBJECT_RULE:
		case OBJECT_POLICY:
			/* only of interest on guarded_ddl's own tables */
			foreach(lc, stmt->objects)
			{
				List	   *names = list_copy((List *) lfirst(lc));
				GuardIntent *intent;

				if (list_length(names) < 2)
					continue;
				intent = classify_relation_intent(GUARD_OP_DROP,
										 makeRangeVarFromNameList(list_truncate(list_copy(names),
																				list_length(names) - 1)),
										 GUARD_RIGHT_NONE, NoLock, false);
				intent->object_type = stmt->removeType == OBJECT_TRIGGER ? "trigger"
					: stmt->removeType == OBJECT_RULE ? "rule" : "policy";
				intent->part_name = pstrdup(strVal(llast(names)));
				intent->only_if_self = true;
				intent->missing_ok = true;
				*intents = lappend(*intents, intent);
			}
			return;
		case OBJECT_SCHEMA:
			/* decided up front: dropping guarded_ddl's schema drops the guard */
			foreach(lc, stmt->objects)
			{
				char	   *name = strVal(lfirst(lc));
				GuardIntent *intent = guard_intent_new(GUARD_OP_DROP, "schema");

				intent->schema_name = pstrdup(name);
				intent->object_name = pstrdup(name);
				intent->object_identity = pstrdup(quote_identifier(name));
				ObjectAddressSet(intent->address, NamespaceRelationId,
								 get_namespace_oid(name, true));
				intent->missing = !OidIsValid(intent->address.objectId);
				intent->holds_data = GUARD_DATA_NONE;
				*intents = lappend(*intents, intent);
			}
			return;
		case OBJECT_EXTENSION:
			foreach(lc, stmt->objects)
			{
				char	   *name = strVal(lfirst(lc));
				GuardIntent *intent = guard_intent_new(GUARD_OP_DROP, "extension");

				intent->object_name = pstrdup(name);
				intent->object_identity = pstrdup(quote_identifier(name));
				ObjectAddressSet(intent->address, ExtensionRelationId,
								 get_extension_oid(name, true));
				intent->missing = !OidIsValid(intent->address.objectId);
				*intents = lappend(*intents, intent);
			}
			return;
		case OBJECT_TABLE:
			relkind = RELKIND_RELATION;
			break;
		case OBJECT_MATVIEW:
			relkind = RELKIND_MATVIEW;
			break;
		case OBJECT_SEQUENCE:
			relkind = RELKIND_SEQUENCE;
			break;
		default:
			return;
	}

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		GuardIntent *intent;

		intent = classify_relation_intent(GUARD_OP_DROP, rv, GUARD_RIGHT_DROP_RELATION,
								 AccessExclusiveLock, true);
		intent->expected_relkind = relkind;
		*intents = lappend(*intents, intent);
	}
}

/*
 * Every subcommand of ALTER TABLE is classified; several destructive ones in
 * one statement (Prisma joins DROP COLUMNs) give several intents.  The lock
 * is the one the whole statement will take, so probing causes no upgrade.
 */
static void
classify_alter_table(AlterTableStmt *stmt, List **intents)
{
	LOCKMODE	lockmode;
	bool		table_data;
	ListCell   *lc;

	if (stmt->objtype == OBJECT_TYPE)
	{
		classify_alter_type_attributes(stmt, intents);
		return;
	}
	if (stmt->objtype != OBJECT_TABLE && stmt->objtype != OBJECT_FOREIGN_TABLE)
	{
		/* ALTER SEQUENCE / VIEW ... OWNER TO and the like, on guarded_ddl's */
		classify_own_relation(stmt->relation, intents);
		return;
	}

	lockmode = AlterTableGetLockLevel(stmt->cmds);
	/* a foreign table's rows live elsewhere */
	table_data = (stmt->objtype == OBJECT_TABLE);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		GuardIntent *intent = NULL;

		switch (cmd->subtype)
		{
			case AT_DropColumn:
				intent = classify_relation_intent(GUARD_OP_DROP, stmt->relation,
										 GUARD_RIGHT_OWN_RELATION, lockmode,
										 table_data);
				intent->object_type = "table column";
				intent->column_name = pstrdup(cmd->name);
				break;
			case AT_AlterColumnType:
				intent = classify_relation_intent(GUARD_OP_ALTER_TYPE, stmt->relation,
										 GUARD_RIGHT_OWN_RELATION, lockmode,
										 table_data);
				intent->object_type = "table column";
				intent->column_name = pstrdup(cmd->name);
				/* assess.c judges the conversion once the column is known */
				intent->new_type = castNode(ColumnDef, cmd->def)->typeName;
				intent->using_expr = castNode(ColumnDef, cmd->def)->raw_default;
				break;
			case AT_SetUnLogged:
				intent = classify_relation_intent(GUARD_OP_SET_UNLOGGED, stmt->relation,
										 GUARD_RIGHT_OWN_RELATION, lockmode,
										 false);
				break;
			case AT_DetachPartition:
			case AT_DetachPartitionFinalize:
				{
					PartitionCmd *pc = (PartitionCmd *) cmd->def;

					intent = classify_relation_intent(GUARD_OP_DETACH_PARTITION,
											 stmt->relation,
											 GUARD_RIGHT_OWN_RELATION,
											 lockmode, false);
					intent->subject = pc->name;
					break;
				}
			case AT_DropConstraint:
				intent = classify_relation_intent(GUARD_OP_DROP_CONSTRAINT,
										 stmt->relation,
										 GUARD_RIGHT_OWN_RELATION, lockmode,
										 false);
				intent->object_type = "table constraint";
				intent->constraint_name = pstrdup(cmd->name);
				break;
			case AT_DropNotNull:
			case AT_DropIdentity:
			case AT_DropExpression:
				intent = classify_relation_intent(GUARD_OP_DROP_CONSTRAINT,
										 stmt->relation,
										 GUARD_RIGHT_OWN_RELATION, lockmode,
										 false);
				intent->object_type = "table column";
				intent->column_name = pstrdup(cmd->name);
				break;
			case AT_ColumnDefault:
				/* SET DEFAULT has a def; DROP DEFAULT has none */
				if (cmd->def != NULL)
					break;
				intent = classify_relation_intent(GUARD_OP_DROP_CONSTRAINT,
										 stmt->relation,
										 GUARD_RIGHT_OWN_RELATION, lockmode,
										 false);
				intent->object_type = "table column";
				intent->column_name = pstrdup(cmd->name);
				break;
			default:
				break;
		}
		if (intent != NULL)
		{
			intent->missing_ok = stmt->missing_ok || cmd->missing_ok;
			*intents = lappend(*intents, intent);
		}
	}

	/* any other change to guarded_ddl's own tables is refused too */
	if (*intents == NIL)
	{
		GuardIntent *intent = classify_relation_intent(GUARD_OP_DDL, stmt->relation,
											  GUARD_RIGHT_NONE, NoLock, false);

		intent->only_if_self = true;
		intent->missing_ok = true;
		*intents = lappend(*intents, intent);
	}
}

/*
 * ALTER TYPE ... ALTER ATTRIBUTE ... TYPE ... CASCADE changes that column in
 * every typed table of the type (CREATE TABLE ... OF).  One intent per
 * attribute stands for them all here; assess.c finds the tables, locks them
 * as the command will, and puts one intent per table column in its place.
 * Without CASCADE the command refuses to touch typed tables: nothing to
 * decide.
 */
static void
classify_alter_type_attributes(AlterTableStmt *stmt, List **intents)
{
	LOCKMODE	lockmode = AlterTableGetLockLevel(stmt->cmds);
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		GuardIntent *intent;

		if (cmd->subtype != AT_AlterColumnType || cmd->behavior != DROP_CASCADE)
			continue;
		intent = classify_relation_intent(GUARD_OP_ALTER_TYPE, stmt->relation,
								 GUARD_RIGHT_OWN_RELATION, lockmode, false);
		intent->object_type = "table column";
		intent->column_name = pstrdup(cmd->name);
		intent->expected_relkind = RELKIND_COMPOSITE_TYPE;
		intent->typed_tables = true;
		intent->new_type = castNode(ColumnDef, cmd->def)->typeName;
		intent->using_expr = castNode(ColumnDef, cmd->def)->raw_default;
		*intents = lappend(*intents, intent);
	}
}

/*
 * RENAME and SET SCHEMA of a relation, type or (guarded_ddl's own) function:
 * the object keeps its data but applications lose it.  NULL for objects no
 * intent is made for.
 */
static GuardIntent *
moved_object_intent(ObjectType objtype, RangeVar *relation, Node *object,
					List **intents)
{
	switch (objtype)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_FOREIGN_TABLE:
		case OBJECT_SEQUENCE:
			return classify_relation_intent(GUARD_OP_RENAME, relation,
								   GUARD_RIGHT_OWN_RELATION, NoLock, false);
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			return type_intent(GUARD_OP_RENAME, castNode(List, object));
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
			classify_own_function(castNode(ObjectWithArgs, object)->objname,
								  intents);
			return NULL;
		default:
			return NULL;
	}
}

/*
 * RENAME of a column, schema, table, view, type ...: a rename intent under
 * the old name (the rule that covers the object decides, DESIGN §3.1).
 */
static void
classify_rename(RenameStmt *stmt, List **intents)
{
	GuardIntent *intent;

	switch (stmt->renameType)
	{
		case OBJECT_COLUMN:
			intent = classify_relation_intent(GUARD_OP_RENAME, stmt->relation,
									 GUARD_RIGHT_OWN_RELATION, NoLock, false);
			intent->object_type = "table column";
			intent->column_name = pstrdup(stmt->subname);
			break;
		case OBJECT_SCHEMA:
			intent = guard_intent_new(GUARD_OP_RENAME, "schema");
			intent->schema_name = pstrdup(stmt->subname);
			intent->object_name = pstrdup(stmt->subname);
			intent->object_identity = pstrdup(quote_identifier(stmt->subname));
			intent->address.classId = NamespaceRelationId;
			intent->address.objectId = get_namespace_oid(stmt->subname, true);
			if (!OidIsValid(intent->address.objectId))
				intent->missing = true;
			break;
		default:
			intent = moved_object_intent(stmt->renameType, stmt->relation,
										 stmt->object, intents);
			break;
	}
	if (intent == NULL)
		return;
	intent->missing_ok = stmt->missing_ok;
	*intents = lappend(*intents, intent);
}

/* ALTER ... SET SCHEMA: moving an object is a rename intent too. */
static void
classify_set_schema(AlterObjectSchemaStmt *stmt, List **intents)
{
	GuardIntent *intent = moved_object_intent(stmt->objectType, stmt->relation,
											  stmt->object, intents);

	if (intent == NULL)
		return;
	intent->missing_ok = stmt->missing_ok;
	*intents = lappend(*intents, intent);
}

/* ALTER TYPE ... RENAME VALUE; column_name carries the old value. */
static void
classify_enum_rename(AlterEnumStmt *stmt, List **intents)
{
	GuardIntent *intent;

	if (stmt->oldVal == NULL)
		return;
	intent = type_intent(GUARD_OP_RENAME, stmt->typeName);
	intent->column_name = pstrdup(stmt->oldVal);
	*intents = lappend(*intents, intent);
}

/* Tables CASCADE reaches are added by the utility hook once resolved. */
static void
classify_truncate(TruncateStmt *stmt, List **intents)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		GuardIntent *intent;

		intent = classify_relation_intent(GUARD_OP_TRUNCATE, rv, GUARD_RIGHT_TRUNCATE,
								 AccessExclusiveLock, true);
		*intents = lappend(*intents, intent);
	}
}

/*
 * An intent about a relation the parse tree names: still a RangeVar, which
 * the assess stage resolves, checks the caller's right on, locks and
 * probes.  Allocated in CurrentMemoryContext.
 */
GuardIntent *
classify_relation_intent(GuardOperation op, RangeVar *rv,
						 GuardRightNeeded right, LOCKMODE lockmode,
						 bool data_bearing)
{
	GuardIntent *intent = guard_intent_new(op, "table");

	intent->relation = rv;
	intent->right = right;
	intent->lockmode = lockmode;
	intent->data_bearing = data_bearing;
	return intent;
}

/*
 * Types are resolved here by name, without a lock: renaming one destroys no
 * data, so there is nothing to probe and nothing to hold still.
 */
static GuardIntent *
type_intent(GuardOperation op, List *names)
{
	GuardIntent *intent = guard_intent_new(op, "type");
	TypeName   *typename = makeTypeNameFromNameList(names);
	Oid			typid = LookupTypeNameOid(NULL, typename, true);
	HeapTuple	tuple;

	if (!OidIsValid(typid))
	{
		intent->missing = true;
		intent->object_identity = pstrdup(NameListToQuotedString(names));
		return intent;
	}
	ObjectAddressSet(intent->address, TypeRelationId, typid);
	intent->object_identity = getObjectIdentity(&intent->address, true);
	intent->object_type = getObjectTypeDescription(&intent->address, true);
	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_type typ = (Form_pg_type) GETSTRUCT(tuple);

		intent->schema_name = get_namespace_name(typ->typnamespace);
		intent->object_name = pstrdup(NameStr(typ->typname));
		ReleaseSysCache(tuple);
	}
	return intent;
}

