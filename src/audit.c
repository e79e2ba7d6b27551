/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  Records decisions in guarded_ddl.audit, one row per intent.
 *
 *	  Allowed, warned and overridden intents are written in the statement's
 *	  own transaction (as the extension owner), so a statement that fails or
 *	  rolls back leaves no "allowed" row.  Refused intents are written by a
 *	  background worker in a transaction of its own (audit_worker.c), because
 *	  the refusal's ERROR rolls back everything this transaction wrote; they
 *	  always also go to the server log.
 *
 *	  Before a statement destroys data a named restore point is created, so
 *	  that guarded_ddl.recovery can say how to get the data back.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/fmgrprotos.h"
#include "utils/inet.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "backup.h"
#include "catalog.h"
#include "settings.h"
#include "statement.h"

/* Longest statement text kept in an audit row. */

static SPIPlanPtr insert_plan = NULL;
static uint32 restore_point_counter = 0;

static char *client_addr_text(void);
static void insert_rows(const GuardCatalog *catalog, List *rows,
						List *intents);

/*
 * The INSERT every audit row goes through, in this backend and in the
 * worker.  All values travel as text and are cast here, so both paths share
 * one row format.
 */
const char *const audit_insert_sql =
"INSERT INTO guarded_ddl.audit (decision, operation, object_type,"
" object_identity, schema_name, object_name, column_name, cascaded,"
" holds_data, row_estimate, command_tag, statement, policy_id, backup_id,"
" backup_age, reason, role_name, session_role, application_name,"
" client_addr, backend_pid, txid, wal_lsn, restore_point)"
" VALUES ($1, $2, $3, $4, $5, $6, $7, $8::pg_catalog.bool,"
" $9::pg_catalog.bool, $10::pg_catalog.int8, $11, $12, $13::pg_catalog.int8,"
" $14::pg_catalog.int8, $15::pg_catalog.interval, $16, $17::pg_catalog.name,"
" $18::pg_catalog.name, $19, $20::pg_catalog.inet, $21::pg_catalog.int4,"
" $22::pg_catalog.xid8, $23::pg_catalog.pg_lsn, $24)"
" RETURNING id";

/*
 * The text values of one audit row (NULL pointer = SQL NULL), allocated in
 * CurrentMemoryContext.  with_txid assigns a transaction id if there is none
 * (the statement is about to write anyway); denials only report one that
 * exists.
 */
char	  **
audit_row_values(GuardStatement *stmt, const GuardIntent *intent,
				 bool with_txid)
{
	char	  **v = palloc0(sizeof(char *) * AUDIT_NCOLUMNS);
	FullTransactionId fxid;

	v[0] = pstrdup(guard_decision_name(intent->decision));
	v[1] = pstrdup(guard_operation_name(intent->operation));
	v[2] = pstrdup(intent->object_type);
	v[3] = pstrdup(intent->object_identity ? intent->object_identity : "?");
	v[4] = intent->schema_name;
	v[5] = intent->object_name;
	v[6] = intent->column_name;
	v[7] = intent->cascaded ? "true" : "false";
	if (intent->data_bearing && !intent->is_temporary)
	{
		if (intent->holds_data == GUARD_DATA_PRESENT)
			v[8] = "true";
		else if (intent->holds_data == GUARD_DATA_NONE)
			v[8] = "false";
	}
	else
		v[8] = "false";
	if (intent->row_estimate >= 0)
		v[9] = psprintf(INT64_FORMAT, intent->row_estimate);
	v[10] = pstrdup(stmt->command_tag);
	v[11] = stmt->query_text;
	if (intent->policy_id != 0)
		v[12] = psprintf(INT64_FORMAT, intent->policy_id);
	if (intent->backup_id != 0)
		v[13] = psprintf(INT64_FORMAT, intent->backup_id);
	if (stmt->backups.loaded && stmt->backups.newest_id != 0)
	{
		long		secs;
		int			usecs;

		TimestampDifference(stmt->backups.newest_finished,
							GetCurrentTransactionStartTimestamp(),
							&secs, &usecs);
		v[14] = psprintf("%ld seconds", secs);
	}
	v[15] = intent->reason;
	v[16] = GetUserNameFromId(GetUserId(), false);
	v[17] = GetUserNameFromId(GetSessionUserId(), false);
	v[18] = application_name ? pstrdup(application_name) : NULL;
	v[19] = client_addr_text();
	v[20] = psprintf("%d", MyProcPid);
	fxid = with_txid ? GetTopFullTransactionId()
		: GetTopFullTransactionIdIfAny();
	if (FullTransactionIdIsValid(fxid))
		v[21] = psprintf(UINT64_FORMAT, U64FromFullTransactionId(fxid));
	if (!XLogRecPtrIsInvalid(stmt->wal_lsn))
		v[22] = psprintf("%X/%X", LSN_FORMAT_ARGS(stmt->wal_lsn));
	v[23] = stmt->restore_point;
	return v;
}

/*
 * The client's address as text, or NULL for Unix-socket connections.  Goes
 * through inet_client_addr() so that libpq-be.h (and its GSSAPI headers)
 * is not needed.
 */
static char *
client_addr_text(void)
{
	LOCAL_FCINFO(fc, 0);
	Datum		addr;

	InitFunctionCallInfoData(*fc, NULL, 0, InvalidOid, NULL, NULL);
	addr = inet_client_addr(fc);
	if (fc->isnull)
		return NULL;
	return DatumGetCString(DirectFunctionCall1(inet_out, addr));
}

/*
 * Before the statement destroys data: note the WAL position once, and create
 * a named restore point once per statement if allowed data is about to go.
 */
void
audit_prepare_statement(GuardStatement *stmt)
{
	ListCell   *lc;
	bool		destroys = false;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if ((intent->decision == GUARD_ALLOWED ||
			 intent->decision == GUARD_WARNED ||
			 intent->decision == GUARD_OVERRIDDEN) &&
			guard_intent_destroys_data(intent))
			destroys = true;
	}
	if (!destroys || stmt->restore_point != NULL)
		return;
	if (!guard_restore_points || !XLogIsNeeded() || RecoveryInProgress())
		return;

	{
		char		name[MAXFNAMELEN];

		snprintf(name, sizeof(name), "guarded_ddl_%u_%u",
				 XidFromFullTransactionId(GetTopFullTransactionId()),
				 ++restore_point_counter);
		stmt->restore_point = MemoryContextStrdup(stmt->context, name);
	}
	(void) XLogRestorePoint(stmt->restore_point);
}

/*
 * Write the audit rows of every decided, not yet audited intent, in this
 * transaction.  Refused intents never get here (they went to the worker).
 */
void
audit_record_statement(GuardStatement *stmt)
{
	List	   *rows = NIL;
	List	   *audited = NIL;
	ListCell   *lc;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if (intent->audited || intent->decision == GUARD_UNDECIDED ||
			intent->decision == GUARD_DENIED)
			continue;
		if (guard_intent_destroys_data(intent))
			backup_load(stmt);	/* backup_age is part of the evidence */
		rows = lappend(rows, audit_row_values(stmt, intent, true));
		audited = lappend(audited, intent);
		intent->audited = true;
	}
	if (rows != NIL)
		insert_rows(&stmt->catalog, rows, audited);
}

/*
 * audit = all: a DDL command that produced no intent gets one row with
 * operation 'ddl', decision 'allowed'.
 */
void
audit_record_command(GuardStatement *stmt, const char *object_type,
					 const char *object_identity, const char *schema_name)
{
	GuardIntent intent;

	memset(&intent, 0, sizeof(intent));
	intent.operation = GUARD_OP_DDL;
	intent.decision = GUARD_ALLOWED;
	intent.object_type = object_type ? object_type : "";
	intent.object_identity = object_identity ? (char *) object_identity : "";
	intent.schema_name = (char *) schema_name;
	intent.row_estimate = -1;
	insert_rows(&stmt->catalog,
				list_make1(audit_row_values(stmt, &intent, true)), NIL);
}

/*
 * The same INSERT for many rows at once: one executor run per statement
 * however many intents it has (a DROP SCHEMA of thousands of tables).  Each
 * parameter is a text[] holding one column; unnest() (unqualified: the
 * parser expands its multi-argument form itself, always from pg_catalog)
 * zips them back into rows, in order.
 */
static const char *const audit_insert_many_sql =
"INSERT INTO guarded_ddl.audit (decision, operation, object_type,"
" object_identity, schema_name, object_name, column_name, cascaded,"
" holds_data, row_estimate, command_tag, statement, policy_id, backup_id,"
" backup_age, reason, role_name, session_role, application_name,"
" client_addr, backend_pid, txid, wal_lsn, restore_point)"
" SELECT u.c1, u.c2, u.c3, u.c4, u.c5, u.c6, u.c7, u.c8::pg_catalog.bool,"
" u.c9::pg_catalog.bool, u.c10::pg_catalog.int8, u.c11, u.c12,"
" u.c13::pg_catalog.int8, u.c14::pg_catalog.int8, u.c15::pg_catalog.interval,"
" u.c16, u.c17::pg_catalog.name, u.c18::pg_catalog.name, u.c19,"
" u.c20::pg_catalog.inet, u.c21::pg_catalog.int4, u.c22::pg_catalog.xid8,"
" u.c23::pg_catalog.pg_lsn, u.c24"
" FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
"             $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
"      WITH ORDINALITY AS u (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11,"
"                            c12, c13, c14, c15, c16, c17, c18, c19, c20,"
"                            c21, c22, c23, c24, ord)"
" ORDER BY u.ord"
" RETURNING id";

/*
 * Insert the rows (each an array of AUDIT_NCOLUMNS text values) with one
 * statement; when intents is given (one per row), each learns the id of its
 * audit row.
 */
static void
insert_rows(const GuardCatalog *catalog, List *rows, List *intents)
{
	GuardOwnerContext saved;
	int			nrows = list_length(rows);
	Datum		columns[AUDIT_NCOLUMNS];
	Datum	   *elems = palloc(sizeof(Datum) * nrows);
	bool	   *elemnulls = palloc(sizeof(bool) * nrows);
	int			ret;

	for (int col = 0; col < AUDIT_NCOLUMNS; col++)
	{
		int			dims[1] = {nrows};
		int			lbs[1] = {1};
		int			r = 0;
		ListCell   *lc;

		foreach(lc, rows)
		{
			char	  **v = lfirst(lc);

			elemnulls[r] = (v[col] == NULL);
			elems[r] = v[col] ? CStringGetTextDatum(v[col]) : (Datum) 0;
			r++;
		}
		columns[col] = PointerGetDatum(construct_md_array(elems, elemnulls, 1,
														  dims, lbs, TEXTOID,
														  -1, false,
														  TYPALIGN_INT));
	}

	guard_spi_connect_as_owner(catalog, &saved);
	if (insert_plan == NULL)
	{
		Oid			argtypes[AUDIT_NCOLUMNS];
		SPIPlanPtr	plan;

		for (int i = 0; i < AUDIT_NCOLUMNS; i++)
			argtypes[i] = TEXTARRAYOID;
		plan = SPI_prepare(audit_insert_many_sql, AUDIT_NCOLUMNS, argtypes);
		if (plan == NULL)
			elog(ERROR, "guarded_ddl: could not prepare the audit insert: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "guarded_ddl: could not keep the audit insert plan");
		insert_plan = plan;
	}
	ret = SPI_execute_plan(insert_plan, columns, NULL, false, 0);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != (uint64) nrows)
		elog(ERROR, "guarded_ddl: audit insert failed: %s",
			 SPI_result_code_string(ret));
	if (intents != NIL)
	{
		for (int r = 0; r < nrows; r++)
		{
			bool		isnull;
			GuardIntent *intent = list_nth(intents, r);

			intent->audit_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
														   SPI_tuptable->tupdesc,
														   1, &isnull));
		}
	}
	guard_spi_finish_as_owner(&saved);
}

/*
 * Record every refused intent of the statement where its rollback cannot
 * reach: the server log (always) and a row committed by a background worker.
 * Never raises: the caller refuses the statement whatever happens here.
 */
void
audit_denials_durably(GuardStatement *stmt)
{
	List	   *rows = NIL;
	ListCell   *lc;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if (intent->decision != GUARD_DENIED || intent->audited)
			continue;
		ereport(LOG,
				(errmsg("guarded_ddl: refused %s of %s \"%s\" by %s (session %s, application \"%s\"): %s",
						guard_operation_name(intent->operation),
						intent->object_type, intent->object_identity,
						GetUserNameFromId(GetUserId(), false),
						GetUserNameFromId(GetSessionUserId(), false),
						application_name ? application_name : "",
						intent->reason ? intent->reason : ""),
				 errhidestmt(false)));
		rows = lappend(rows, audit_row_values(stmt, intent, false));
		intent->audited = true;
	}
	if (rows != NIL)
		audit_worker_write(&stmt->catalog, rows, !stmt->guard_locked);
}
