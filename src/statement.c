/*-------------------------------------------------------------------------
 *
 * statement.c
 *	  Lifetime of the GuardStatement a DDL command is judged in.
 *
 *	  The events of one command (ddl_command_start, table_rewrite,
 *	  sql_drop, ddl_command_end, and the utility hook before them) run at
 *	  different times; they meet in one GuardStatement, found by the parse
 *	  tree they all receive.  Commands nest (DDL run by DDL), so statements
 *	  form a stack.  A command that fails never reaches ddl_command_end:
 *	  transaction and subtransaction abort discard its statement.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "mb/pg_wchar.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"

#include "statement.h"

/* Statement text kept for the audit is cut at this many bytes. */
#define GUARD_MAX_QUERY_TEXT 65536

static GuardStatement *statement_stack = NULL;
static bool callbacks_registered = false;

/*
 * Set when a statement deleted part of guarded_ddl itself (overridden): its
 * later events may never fire, so nothing on the stack outlives the commit.
 */
static bool end_all_at_commit = false;

const char *guard_current_query_text = NULL;

static void statement_xact_callback(XactEvent event, void *arg);
static void statement_subxact_callback(SubXactEvent event,
									   SubTransactionId mySubid,
									   SubTransactionId parentSubid,
									   void *arg);

/*
 * Begin judging a command.  The statement lives in its own context under
 * TopMemoryContext: a command with CONCURRENTLY commits in the middle, and
 * its statement must survive that.
 */
GuardStatement *
statement_push(void *key, const char *command_tag, const GuardCatalog *catalog)
{
	MemoryContext context;
	GuardStatement *stmt;
	const char *text;

	if (!callbacks_registered)
	{
		RegisterXactCallback(statement_xact_callback, NULL);
		RegisterSubXactCallback(statement_subxact_callback, NULL);
		callbacks_registered = true;
	}

	context = AllocSetContextCreate(TopMemoryContext, "guarded_ddl statement",
									ALLOCSET_SMALL_SIZES);
	stmt = MemoryContextAllocZero(context, sizeof(GuardStatement));
	stmt->context = context;
	stmt->key = key;
	stmt->command_tag = MemoryContextStrdup(context, command_tag);
	stmt->catalog = *catalog;
	stmt->subid = GetCurrentSubTransactionId();
	stmt->wal_lsn = RecoveryInProgress() ? InvalidXLogRecPtr
		: GetXLogInsertRecPtr();

	text = guard_current_query_text ? guard_current_query_text
		: debug_query_string;
	if (text != NULL)
	{
		size_t		len = strlen(text);

		if (len > GUARD_MAX_QUERY_TEXT)
			len = pg_mbcliplen(text, len, GUARD_MAX_QUERY_TEXT);
		stmt->query_text = MemoryContextAlloc(context, len + 1);
		memcpy(stmt->query_text, text, len);
		stmt->query_text[len] = '\0';
	}

	stmt->outer = statement_stack;
	statement_stack = stmt;
	return stmt;
}

/* The statement of the command with this parse tree, if it is on top. */
GuardStatement *
statement_find(void *key)
{
	if (statement_stack != NULL && statement_stack->key == key)
		return statement_stack;
	return NULL;
}

/* The innermost command being judged, or NULL. */
GuardStatement *
statement_current(void)
{
	return statement_stack;
}

/* Whether any intent of the statement is refused. */
bool
statement_has_denial(const GuardStatement *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->intents)
	{
		if (((GuardIntent *) lfirst(lc))->decision == GUARD_DENIED)
			return true;
	}
	return false;
}

/* How many commands are being judged right now. */
int
statement_depth(void)
{
	int			depth = 0;

	for (GuardStatement *s = statement_stack; s != NULL; s = s->outer)
		depth++;
	return depth;
}

/* Done with a command: drop it and everything nested above it. */
void
statement_pop(GuardStatement *stmt)
{
	while (statement_stack != NULL)
	{
		GuardStatement *top = statement_stack;

		statement_stack = top->outer;
		MemoryContextDelete(top->context);
		if (top == stmt)
			break;
	}
}

/*
 * The commands being judged are about to lose guarded_ddl's event triggers
 * (an overridden DROP EXTENSION, say): their ddl_command_end will not fire
 * to end them, so the commit does.
 */
void
statement_end_all_at_commit(void)
{
	end_all_at_commit = true;
}

/*
 * Abort ends every command in flight.  A commit normally ends none (a
 * CONCURRENTLY command commits in its middle), except after
 * statement_end_all_at_commit().
 */
static void
statement_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			while (statement_stack != NULL)
				statement_pop(statement_stack);
			guard_current_query_text = NULL;
			end_all_at_commit = false;
			statement_forget_kept_columns();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			if (end_all_at_commit)
			{
				while (statement_stack != NULL)
					statement_pop(statement_stack);
				end_all_at_commit = false;
			}
			break;
		default:
			break;
	}
}

/*
 * Columns whose values the recycle bin has just kept (trash_columns.c), for
 * the ALTER TABLE about to drop or retype them: decide.c finds them here
 * when the event triggers judge that command.  One top-level command at a
 * time; in TopMemoryContext, forgotten when it ends or its transaction
 * does.
 */
typedef struct KeptColumn
{
	Oid			relid;
	char	   *column;
	GuardOperation operation;
	char	   *trash_name;
} KeptColumn;

static List *kept_columns = NIL;

/* Remember that the values of this column are in the recycle bin. */
void
statement_keep_column(Oid relid, const char *column, GuardOperation operation,
					  const char *trash_name)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	KeptColumn *kept = palloc(sizeof(KeptColumn));

	kept->relid = relid;
	kept->column = pstrdup(column);
	kept->operation = operation;
	kept->trash_name = pstrdup(trash_name);
	kept_columns = lappend(kept_columns, kept);
	MemoryContextSwitchTo(oldcxt);
}

/* The trash relation keeping this column's values, or NULL. */
const char *
statement_column_kept(Oid relid, const char *column, GuardOperation operation)
{
	ListCell   *lc;

	foreach(lc, kept_columns)
	{
		KeptColumn *kept = lfirst(lc);

		if (kept->relid == relid && kept->operation == operation &&
			column != NULL && strcmp(kept->column, column) == 0)
			return kept->trash_name;
	}
	return NULL;
}

/* The command that dropped or retyped the kept columns is over. */
void
statement_forget_kept_columns(void)
{
	list_free_deep(kept_columns);
	kept_columns = NIL;
}

/* Commands started inside a rolled-back subtransaction are over. */
static void
statement_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						   SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (statement_stack != NULL && statement_stack->subid >= mySubid)
		statement_pop(statement_stack);
}
