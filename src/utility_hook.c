/*-------------------------------------------------------------------------
 *
 * utility_hook.c
 *	  The ProcessUtility hook, installed only when the library is preloaded
 *	  (shared_preload_libraries or session_preload_libraries).  It sees what
 *	  event triggers cannot:
 *
 *	  TRUNCATE               classify -> assess -> decide -> enforce, audit after
 *	  LOCK TABLE             of guarded_ddl's own tables: refused unless
 *							 overridden (it would make refusals wait)
 *	  DROP DATABASE          refused for protected databases unless allowed
 *	  ALTER/DROP EVENT TRIGGER on guarded_ddl's own triggers: refused unless
 *							 overridden
 *	  DROP TABLE + soft_drop the table moves to the recycle bin (trash.c)
 *	  ALTER TABLE + soft_drop the values of dropped or lossily retyped
 *							 columns are kept first (trash_columns.c)
 *	  event_triggers = off   (PostgreSQL 17+) setting it, and any guarded
 *							 statement while it is off: refused unless
 *							 overridden, since no event trigger would fire
 *
 *	  It always chains to the previous hook, and does nothing but remember
 *	  the statement text in databases without the extension (DROP DATABASE
 *	  is the exception: it is issued from another database by nature).
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_event_trigger.h"
#include "commands/trigger.h"
#include "commands/event_trigger.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "catalog.h"
#include "classify.h"
#include "glob.h"
#include "pipeline.h"
#include "settings.h"
#include "statement.h"
#include "trash.h"
#include "utility_hook.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void guard_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								 bool readOnlyTree,
								 ProcessUtilityContext context,
								 ParamListInfo params,
								 QueryEnvironment *queryEnv,
								 DestReceiver *dest, QueryCompletion *qc);
static GuardStatement *judge_truncate(TruncateStmt *stmt);
static GuardStatement *judge_lock(LockStmt *stmt);
static void judge_database(const char *dbname, const char *command);
static GuardStatement *judge_event_trigger_change(Node *parsetree);
static const char *own_event_trigger_named(Node *parsetree,
										   GuardOperation *op);
static GuardStatement *judge_event_triggers_off(Node *parsetree);
static bool sets_event_triggers_off(Node *parsetree);

void
utility_hook_install(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = guard_ProcessUtility;
	guard_hook_installed = true;
}

/* Hand the statement down the chain: the previous hook, or PostgreSQL's own. */
static void
run_previous_hook(PlannedStmt *pstmt, const char *queryString,
				  bool readOnlyTree, ProcessUtilityContext context,
				  ParamListInfo params, QueryEnvironment *queryEnv,
				  DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * Judge what event triggers cannot see, then run the statement down the
 * chain, then audit what was allowed.  The exact text of the statement is
 * made available to the audit for the event triggers that fire inside.
 */
static void
guard_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	const char *save_query_text = guard_current_query_text;
	char	   *query_text = NULL;
	GuardStatement *volatile stmt = NULL;
	PlannedStmt *volatile to_run = pstmt;
	volatile bool kept_columns = false;

	if (queryString != NULL && pstmt->stmt_location >= 0 &&
		pstmt->stmt_len > 0 &&
		pstmt->stmt_location + pstmt->stmt_len <= (int) strlen(queryString))
		query_text = pnstrdup(queryString + pstmt->stmt_location,
							  pstmt->stmt_len);
	else if (queryString != NULL)
		query_text = pstrdup(queryString);

	guard_current_query_text = query_text;
	PG_TRY();
	{
		if (!guard_should_skip() && IsUnderPostmaster)
			stmt = judge_event_triggers_off(parsetree);
		if (stmt == NULL && !guard_should_skip() && IsUnderPostmaster)
		{
			switch (nodeTag(parsetree))
			{
				case T_TruncateStmt:
					stmt = judge_truncate((TruncateStmt *) parsetree);
					break;
				case T_LockStmt:
					stmt = judge_lock((LockStmt *) parsetree);
					break;
				case T_DropdbStmt:
					judge_database(((DropdbStmt *) parsetree)->dbname,
								   "DROP DATABASE");
					break;
				case T_RenameStmt:
					if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
						judge_database(((RenameStmt *) parsetree)->subname,
									   "ALTER DATABASE RENAME");
					else
						stmt = judge_event_trigger_change(parsetree);
					break;
				case T_AlterTableStmt:
					/* soft_drop rules keep the values of the columns */
					kept_columns = trash_keep_columns(pstmt);
					break;
				case T_AlterEventTrigStmt:
				case T_AlterOwnerStmt:
				case T_DropStmt:
					stmt = judge_event_trigger_change(parsetree);
					if (stmt == NULL && IsA(parsetree, DropStmt))
						to_run = trash_soft_drop(pstmt, qc);
					break;
				default:
					break;
			}
		}

		if (to_run != NULL)
			run_previous_hook(to_run, queryString,
							  readOnlyTree && to_run == pstmt, context,
							  params, queryEnv, dest, qc);

		/* no ddl_command_end for these: audit here, in the transaction */
		if (stmt != NULL)
		{
			pipeline_finish(stmt);
			statement_pop(stmt);
		}
	}
	PG_FINALLY();
	{
		guard_current_query_text = save_query_text;
		if (kept_columns)
			statement_forget_kept_columns();
	}
	PG_END_TRY();
}

/*
 * TRUNCATE of every listed table and every table CASCADE reaches, decided
 * like any other intent; where a soft_drop rule decides, the rows are kept
 * in the recycle bin first (trash_truncate.c) and the intent is decided
 * again.  Returns the statement to audit after it ran, or
 * NULL where guarded_ddl is not installed.
 */
static GuardStatement *
judge_truncate(TruncateStmt *parsetree)
{
	GuardCatalog catalog;
	GuardStatement *stmt;

	if (!guard_catalog_lookup(&catalog))
		return NULL;

	stmt = statement_push(parsetree, "TRUNCATE TABLE", &catalog);
	pipeline_decide_only(stmt, (Node *) parsetree);
	/* soft_drop rules: the rows go to the recycle bin before it runs */
	if (trash_keep_truncated(stmt))
		pipeline_decide_kept(stmt);
	pipeline_enforce(stmt);
	return stmt;
}

/*
 * LOCK TABLE of guarded_ddl's own tables: an exclusive lock held by a role
 * with rights through a predefined role (pg_write_all_data) would make the
 * denial writer wait, and refusals wait for it -- a self-protection intent,
 * refused unless overridden.  NULL where guarded_ddl is not installed.
 */
static GuardStatement *
judge_lock(LockStmt *parsetree)
{
	GuardCatalog catalog;
	GuardStatement *stmt;

	if (!guard_catalog_lookup(&catalog))
		return NULL;
	stmt = statement_push(parsetree, "LOCK TABLE", &catalog);
	pipeline_command_start(stmt, (Node *) parsetree);
	return stmt;
}

/*
 * DROP DATABASE cannot be undone and runs outside any transaction: refuse it
 * for every database guarded_ddl.protected_databases matches, unless this
 * session named that very database in guarded_ddl.allow_drop_database.
 * ALTER DATABASE ... RENAME of a protected database is refused the same
 * way: renamed, it would no longer match and could be dropped.  Settings
 * only, so it works from any database.  Always logged.
 */
static void
judge_database(const char *dbname, const char *command)
{
	char	   *rawstring;
	List	   *patterns;
	ListCell   *lc;
	const char *matched = NULL;
	const char *user = GetUserNameFromId(GetUserId(), false);

	if (!OidIsValid(get_database_oid(dbname, true)))
		return;					/* the command reports it (or skips) */

	rawstring = pstrdup(guard_protected_databases ? guard_protected_databases : "");
	if (!SplitGUCList(rawstring, ',', &patterns))
		patterns = list_make1(pstrdup("*"));	/* unparsable: protect all */
	foreach(lc, patterns)
	{
		if (glob_match((const char *) lfirst(lc), dbname))
		{
			matched = lfirst(lc);
			break;
		}
	}

	if (matched != NULL && guard_allow_drop_database != NULL &&
		strcmp(guard_allow_drop_database, dbname) == 0)
	{
		/*
		 * Consumed by this one DROP DATABASE (or RENAME), whatever becomes of it: it
		 * must not linger for the next client of a pooled connection.
		 */
		(void) set_config_option("guarded_ddl.allow_drop_database", "",
								 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SET,
								 true, 0, false);
		ereport(LOG,
				(errmsg("guarded_ddl: allowing %s %s by %s (named in guarded_ddl.allow_drop_database, now cleared)",
						command, quote_identifier(dbname), user)));
		return;
	}
	if (matched == NULL)
	{
		ereport(LOG,
				(errmsg("guarded_ddl: allowing %s %s by %s (not protected)",
						command, quote_identifier(dbname), user)));
		return;
	}

	ereport(LOG,
			(errmsg("guarded_ddl: refused %s %s by %s",
					command, quote_identifier(dbname), user)));
	ereport(ERROR,
			(errcode(ERRCODE_GUARD_PROTECTED_DATABASE),
			 strcmp(command, "DROP DATABASE") == 0
			 ? errmsg("refusing to drop database \"%s\"", dbname)
			 : errmsg("refusing to rename database \"%s\"", dbname),
			 errdetail("guarded_ddl.protected_databases matches it (pattern \"%s\").",
					   matched),
			 errhint("A superuser may run SET guarded_ddl.allow_drop_database = %s first, in this session, if the database really must go.",
					 quote_literal_cstr(dbname))));
}

/*
 * ALTER EVENT TRIGGER (other than ENABLE ALWAYS), ALTER ... OWNER, RENAME
 * and DROP of guarded_ddl's own event triggers would switch the guard off:
 * a self-protection intent, refused unless overridden.  Only for roles that
 * may change the trigger at all; others get PostgreSQL's own error.
 */
static GuardStatement *
judge_event_trigger_change(Node *parsetree)
{
	GuardCatalog catalog;
	GuardStatement *stmt;
	GuardIntent *intent;
	GuardOperation op;
	const char *name;
	Oid			evtoid;
	MemoryContext oldcxt;

	name = own_event_trigger_named(parsetree, &op);
	if (name == NULL || !guard_catalog_lookup(&catalog))
		return NULL;
	evtoid = get_event_trigger_oid(name, true);
	if (!OidIsValid(evtoid) || !gd_event_trigger_ownercheck(evtoid, GetUserId()))
		return NULL;

	stmt = statement_push(parsetree, GetCommandTagName(CreateCommandTag(parsetree)),
						  &catalog);
	oldcxt = MemoryContextSwitchTo(stmt->context);
	intent = classify_own_event_trigger(op, evtoid, name);
	MemoryContextSwitchTo(oldcxt);
	pipeline_intent(stmt, intent);
	return stmt;
}

/*
 * PostgreSQL 17's event_triggers setting switches every event trigger off
 * for the session.  Turning it off (SET, ALTER ROLE/DATABASE ... SET, ALTER
 * SYSTEM), and running any statement the event triggers would judge while
 * it is off (set_config(), PGOPTIONS), are self-protection intents: refused
 * unless overridden.  NULL when neither applies.
 */
static GuardStatement *
judge_event_triggers_off(Node *parsetree)
{
	GuardCatalog catalog;
	GuardStatement *stmt;
	GuardIntent *intent;
	MemoryContext oldcxt;
	bool		setting_it = sets_event_triggers_off(parsetree);

	if (!setting_it &&
		(gd_event_triggers_enabled() || !classify_is_guarded_statement(parsetree)))
		return NULL;
	if (!guard_catalog_lookup(&catalog))
		return NULL;

	stmt = statement_push(parsetree, GetCommandTagName(CreateCommandTag(parsetree)),
						  &catalog);
	oldcxt = MemoryContextSwitchTo(stmt->context);
	intent = classify_event_triggers_off();
	MemoryContextSwitchTo(oldcxt);
	pipeline_intent(stmt, intent);
	return stmt;
}

/* Whether the statement turns the event_triggers setting off anywhere. */
static bool
sets_event_triggers_off(Node *parsetree)
{
	VariableSetStmt *set = NULL;
	Node	   *arg;
	bool		value;

	if (!GD_HAS_EVENT_TRIGGERS_GUC)
		return false;
	switch (nodeTag(parsetree))
	{
		case T_VariableSetStmt:
			set = (VariableSetStmt *) parsetree;
			break;
		case T_AlterRoleSetStmt:
			set = ((AlterRoleSetStmt *) parsetree)->setstmt;
			break;
		case T_AlterDatabaseSetStmt:
			set = ((AlterDatabaseSetStmt *) parsetree)->setstmt;
			break;
		case T_AlterSystemStmt:
			set = ((AlterSystemStmt *) parsetree)->setstmt;
			break;
		default:
			return false;
	}
	if (set == NULL || set->kind != VAR_SET_VALUE || set->name == NULL ||
		pg_strcasecmp(set->name, "event_triggers") != 0 ||
		list_length(set->args) != 1)
		return false;

	/* the value as PostgreSQL would read it; anything unreadable fails there */
	arg = (Node *) &castNode(A_Const, linitial(set->args))->val;
	if (IsA(arg, String))
		return parse_bool(strVal(arg), &value) && !value;
	if (IsA(arg, Integer))
		return intVal(arg) == 0;
	if (IsA(arg, Boolean))
		return !boolVal(arg);
	return false;
}

/* The name of one of guarded_ddl's event triggers the statement changes. */
static const char *
own_event_trigger_named(Node *parsetree, GuardOperation *op)
{
	List	   *names = NIL;
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_AlterEventTrigStmt:
			{
				AlterEventTrigStmt *stmt = (AlterEventTrigStmt *) parsetree;

				if (stmt->tgenabled == TRIGGER_FIRES_ALWAYS)
					return NULL;
				names = list_make1(stmt->trigname);
				*op = GUARD_OP_DDL;
				break;
			}
		case T_AlterOwnerStmt:
			{
				AlterOwnerStmt *stmt = (AlterOwnerStmt *) parsetree;

				if (stmt->objectType != OBJECT_EVENT_TRIGGER)
					return NULL;
				names = list_make1(strVal(stmt->object));
				*op = GUARD_OP_DDL;
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType != OBJECT_EVENT_TRIGGER)
					return NULL;
				names = list_make1(strVal(stmt->object));
				*op = GUARD_OP_RENAME;
				break;
			}
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;

				if (stmt->removeType != OBJECT_EVENT_TRIGGER)
					return NULL;
				foreach(lc, stmt->objects)
					names = lappend(names, strVal(lfirst(lc)));
				*op = GUARD_OP_DROP;
				break;
			}
		default:
			return NULL;
	}

	foreach(lc, names)
	{
		const char *name = lfirst(lc);

		if (guard_is_own_event_trigger(name))
			return name;
	}
	return NULL;
}
