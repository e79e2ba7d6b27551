/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  Records decisions in guarded_ddl.audit, one row per intent.
 *
 *	  Allowed, warned and overridden intents are written in the statement's
 *	  own transaction (as the extension owner, straight into the table), so
 *	  a statement that fails or rolls back leaves no "allowed" row.  Refused
 *	  intents are written by a background worker in a transaction of its
 *	  own (audit_writer.c), because
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

#include "access/genam.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/toast_internals.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "catalog/indexing.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "backup.h"
#include "catalog.h"
#include "settings.h"
#include "statement.h"

static uint32 restore_point_counter = 0;

static char *client_addr_text(void);

/*
 * The columns every row of one statement shares (command, statement text,
 * roles, client, transaction, WAL position, restore point, backup age), as
 * text (NULL pointer = SQL NULL) in CurrentMemoryContext: looked up once per
 * statement, however many objects it drops.  with_txid assigns a
 * transaction id if there is none (the statement is about to write
 * anyway); denials only report one that exists.
 */
static char **
statement_values(GuardStatement *stmt, bool with_txid)
{
	char	  **v = palloc0(sizeof(char *) * AUDIT_NCOLUMNS);
	FullTransactionId fxid;

	v[10] = pstrdup(stmt->command_tag);
	v[11] = stmt->query_text;
	if (stmt->backups.loaded && stmt->backups.newest_id != 0)
	{
		long		secs;
		int			usecs;

		TimestampDifference(stmt->backups.newest_finished,
							GetCurrentTransactionStartTimestamp(),
							&secs, &usecs);
		v[14] = psprintf("%ld seconds", secs);
	}
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
 * The text values of one audit row: the statement's shared values (the
 * same pointers, which audit_insert_rows() converts once) and the intent's
 * own, in CurrentMemoryContext.
 */
static char **
intent_values(char *const *shared, const GuardIntent *intent)
{
	char	  **v = palloc(sizeof(char *) * AUDIT_NCOLUMNS);

	memcpy(v, shared, sizeof(char *) * AUDIT_NCOLUMNS);
	v[0] = unconstify(char *, guard_decision_name(intent->decision));
	v[1] = unconstify(char *, guard_operation_name(intent->operation));
	v[2] = unconstify(char *, intent->object_type);
	v[3] = intent->object_identity ? intent->object_identity : "?";
	v[4] = intent->schema_name;
	v[5] = intent->object_name;
	v[6] = intent->column_name;
	v[7] = intent->cascaded ? "true" : "false";
	v[8] = NULL;
	if (intent->data_bearing && !intent->is_temporary)
	{
		if (intent->holds_data == GUARD_DATA_PRESENT)
			v[8] = "true";
		else if (intent->holds_data == GUARD_DATA_NONE)
			v[8] = "false";
	}
	else
		v[8] = "false";
	v[9] = intent->row_estimate >= 0 ?
		psprintf(INT64_FORMAT, intent->row_estimate) : NULL;
	v[12] = intent->policy_id != 0 ?
		psprintf(INT64_FORMAT, intent->policy_id) : NULL;
	v[13] = intent->backup_id != 0 ?
		psprintf(INT64_FORMAT, intent->backup_id) : NULL;
	v[15] = intent->reason;
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
	char	  **shared = NULL;
	ListCell   *lc;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if (intent->audited || intent->decision == GUARD_UNDECIDED ||
			intent->decision == GUARD_DENIED)
			continue;
		if (guard_intent_destroys_data(intent) && !stmt->backups.loaded)
		{
			backup_load(stmt);	/* backup_age is part of the evidence */
			shared = NULL;
		}
		if (shared == NULL)
			shared = statement_values(stmt, true);
		rows = lappend(rows, intent_values(shared, intent));
		audited = lappend(audited, intent);
		intent->audited = true;
	}
	if (rows != NIL)
		audit_insert_rows(&stmt->catalog, rows, audited);
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
	audit_insert_rows(&stmt->catalog,
					  list_make1(intent_values(statement_values(stmt, true),
											   &intent)), NIL);
}

/*
 * The audit table's columns the rows fill, in the order of
 * audit_row_values(); id and logged_at are filled here.
 */
static const char *const audit_columns[AUDIT_NCOLUMNS] = {
	"decision", "operation", "object_type", "object_identity", "schema_name",
	"object_name", "column_name", "cascaded", "holds_data", "row_estimate",
	"command_tag", "statement", "policy_id", "backup_id", "backup_age",
	"reason", "role_name", "session_role", "application_name", "client_addr",
	"backend_pid", "txid", "wal_lsn", "restore_point"
};

/*
 * The highest audit id there is (any snapshot: a row in flight counts),
 * 0 for an empty table.  One backward step of the primary key index.
 */
static int64
highest_audit_id(Relation rel, Oid pkeyid)
{
	Relation	index = index_open(pkeyid, AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tuple;
	int64		id = 0;

	scan = systable_beginscan_ordered(rel, index, SnapshotAny, 0, NULL);
	tuple = systable_getnext_ordered(scan, BackwardScanDirection);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, guard_column_number(rel, "id"),
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			id = DatumGetInt64(d);
	}
	systable_endscan_ordered(scan);
	index_close(index, AccessShareLock);
	return id;
}

/*
 * The next audit id: the id sequence's next value -- unless someone rewound
 * the sequence (setval) so that it hands out an id already taken: then one
 * past the highest id, and the sequence is moved there, so that no row, a
 * denial least of all, is lost to a duplicate key.  *highest is the highest
 * id known to the caller's statement (looked up once per statement: the
 * sequence only grows), updated here.
 */
static int64
next_audit_id(Oid seqid, int64 *highest)
{
	int64		id = nextval_internal(seqid, false);

	if (id <= *highest)
	{
		id = *highest + 1;
		DirectFunctionCall2(setval_oid, ObjectIdGetDatum(seqid),
							Int64GetDatum(id));
		ereport(LOG,
				(errmsg("guarded_ddl: the audit id sequence had been set back; continuing at %lld",
						(long long) id)));
	}
	*highest = id;
	return id;
}

/* How to turn one column's text into its Datum. */
typedef struct AuditColumn
{
	int			att;			/* 0-based position in the table */
	FmgrInfo	input;
	Oid			ioparam;
	int32		typmod;
	bool		compressible;	/* a varlena the heap may compress */
	char		compression;	/* the column's method, or the default's */
} AuditColumn;

/*
 * A value the heap would compress anyway (it tries once a tuple exceeds
 * TOAST_TUPLE_THRESHOLD) is compressed here, once per statement: a long
 * statement text is in every row of a DROP SCHEMA of thousands of tables,
 * and compressing it row by row made such a drop ten times slower.
 */
static Datum
compressed_once(const AuditColumn *col, Datum value)
{
	Datum		compressed;

	if (!col->compressible ||
		VARSIZE_ANY(DatumGetPointer(value)) <= TOAST_TUPLE_THRESHOLD ||
		VARATT_IS_EXTENDED(DatumGetPointer(value)))
		return value;
	compressed = toast_compress_datum(value, col->compression);
	return DatumGetPointer(compressed) != NULL ? compressed : value;
}

/*
 * The Datums of one row in values/nulls (the table's width).  A value equal
 * to the previous row's (prev, NULL for the first row) is taken from
 * prev_values rather than converted again: most columns are the
 * statement's and the same in every row.
 */
static void
row_datums(const AuditColumn *cols, char **v, char **prev,
		   const Datum *prev_values, Datum *values, bool *nulls)
{
	for (int i = 0; i < AUDIT_NCOLUMNS; i++)
	{
		int			att = cols[i].att;

		if (v[i] == NULL)
			continue;
		if (prev != NULL && prev[i] != NULL &&
			(prev[i] == v[i] || strcmp(prev[i], v[i]) == 0))
			values[att] = prev_values[att];
		else
			values[att] = compressed_once(&cols[i],
										  InputFunctionCall(unconstify(FmgrInfo *, &cols[i].input),
															v[i], cols[i].ioparam,
															cols[i].typmod));
		nulls[att] = false;
	}
}

/*
 * Insert the rows (each an array of AUDIT_NCOLUMNS text values, NULL for
 * SQL NULL) straight into guarded_ddl.audit, as its owner, with index
 * maintenance -- no SQL, so nothing of it shows up in pgaudit's log under
 * the user's statement, and no trigger of the table runs (the extension's
 * own rows need no checking).  When intents is given (one per row), each
 * learns the id of its row.  Used in the statement's transaction and by
 * the workers that commit denials.
 */
void
audit_insert_rows(const GuardCatalog *catalog, List *rows, List *intents)
{
	Relation	rel;
	TupleDesc	desc;
	AuditColumn cols[AUDIT_NCOLUMNS];
	AttrNumber	id_att;
	AttrNumber	logged_att;
	Oid			seqid;
	Oid			pkeyid;
	int64		highest;
	CatalogIndexState indstate;
	Datum	   *values[2];
	bool	   *nulls;
	char	  **prev = NULL;
	int			cur = 0;
	Oid			save_userid;
	int			save_sec_context;
	ListCell   *lc;
	ListCell   *ilc = list_head(intents);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(catalog->owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);

	rel = table_open(catalog->audit_relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);
	for (int i = 0; i < AUDIT_NCOLUMNS; i++)
	{
		Form_pg_attribute attr;
		Oid			typinput;

		cols[i].att = guard_column_number(rel, audit_columns[i]) - 1;
		attr = TupleDescAttr(desc, cols[i].att);
		getTypeInputInfo(attr->atttypid, &typinput, &cols[i].ioparam);
		fmgr_info(typinput, &cols[i].input);
		cols[i].typmod = attr->atttypmod;
		cols[i].compressible = attr->attlen == -1 &&
			(attr->attstorage == TYPSTORAGE_EXTENDED ||
			 attr->attstorage == TYPSTORAGE_MAIN);
		cols[i].compression = attr->attcompression;
	}
	id_att = guard_column_number(rel, "id");
	logged_att = guard_column_number(rel, "logged_at");
	seqid = get_relname_relid("audit_id_seq", catalog->schema_oid);
	pkeyid = get_relname_relid("audit_pkey", catalog->schema_oid);
	if (!OidIsValid(seqid) || !OidIsValid(pkeyid))
		elog(ERROR, "guarded_ddl: guarded_ddl.audit_id_seq or audit_pkey is missing");
	highest = highest_audit_id(rel, pkeyid);
	/* the indexes opened once for all the rows, not once per row */
	indstate = CatalogOpenIndexes(rel);
	values[0] = palloc(sizeof(Datum) * desc->natts);
	values[1] = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);

	foreach(lc, rows)
	{
		char	  **v = lfirst(lc);
		HeapTuple	tuple;
		int64		id;

		memset(nulls, true, sizeof(bool) * desc->natts);
		row_datums(cols, v, prev, values[1 - cur], values[cur], nulls);
		id = next_audit_id(seqid, &highest);
		values[cur][id_att - 1] = Int64GetDatum(id);
		nulls[id_att - 1] = false;
		values[cur][logged_att - 1] = TimestampTzGetDatum(GetCurrentTimestamp());
		nulls[logged_att - 1] = false;

		/*
		 * One row at a time: heap_insert() gives the tuple its TID even
		 * when it stores a toasted copy (a long statement text), which the
		 * index entries then point to.  (The catalogs' multi-insert does
		 * not: its index entries would point nowhere for a toasted row.)
		 */
		tuple = heap_form_tuple(desc, values[cur], nulls);
		CatalogTupleInsertWithInfo(rel, tuple, indstate);
		heap_freetuple(tuple);
		if (ilc != NULL)
		{
			((GuardIntent *) lfirst(ilc))->audit_id = id;
			ilc = lnext(intents, ilc);
		}
		prev = v;
		cur = 1 - cur;
	}
	CatalogCloseIndexes(indstate);
	table_close(rel, RowExclusiveLock);
	CommandCounterIncrement();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * Record every refused intent of the statement where its rollback cannot
 * reach: the server log (always) and a row committed by a background worker.
 * Never raises: the caller refuses the statement whatever happens here.
 */
void
audit_denials_durably(GuardStatement *stmt)
{
	List	   *volatile rows = NIL;
	char	  **shared = NULL;
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
		if (shared == NULL)
			shared = statement_values(stmt, false);
		rows = lappend(rows, intent_values(shared, intent));
		intent->audited = true;
	}
	if (rows == NIL)
		return;

	/*
	 * No cancel, statement_timeout or terminate may cut the hand-over short:
	 * the worker would find the rows gone with this backend's segment.  It
	 * is bounded by guarded_ddl.audit_worker_timeout.
	 */
	HOLD_INTERRUPTS();
	PG_TRY();
	{
		if (!audit_worker_write(&stmt->catalog, rows, !stmt->guard_locked))
			audit_note_log_only(list_length(rows));
	}
	PG_FINALLY();
	{
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();
}
