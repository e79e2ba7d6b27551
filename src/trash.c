/*-------------------------------------------------------------------------
 *
 * trash.c
 *	  The recycle bin for tables.  A policy rule with action soft_drop turns
 *	  the drop of a matching table -- DROP TABLE, DROP TABLE ... CASCADE,
 *	  DROP SCHEMA ... CASCADE -- into a move to the schema guarded_ddl_trash
 *	  under a unique name, with its indexes, constraints, triggers, policies,
 *	  owned sequences and, for a partitioned table, its partitions; the
 *	  client still sees its command.  guarded_ddl.restore() moves it back,
 *	  guarded_ddl.purge_trash() drops old entries for real.
 *
 *	  What the statement would delete is learnt by deleting it: the DROP
 *	  runs once in a subtransaction that is rolled back, and the
 *	  object_access hook captures every object as PostgreSQL deletes it
 *	  (statement.c).  That is exact whatever the path -- CASCADE, schema
 *	  contents, partitions -- and every error of the real statement (RESTRICT
 *	  with dependents, missing rights, a missing table) comes out of it as
 *	  PostgreSQL's own.  Then the tables soft_drop rules keep are moved, what
 *	  depended on them elsewhere is recorded for restore() and dropped
 *	  (trash_dependents.c), and the statement runs for what is left, judged
 *	  as usual by the event triggers.
 *
 *	  What is not moved is dropped for real under the normal rules (where
 *	  soft_drop counts as require_backup): temporary tables, a partition on
 *	  its own, inheritance trees, tables of extensions, a table whose
 *	  columns use a type the statement drops too, and every table of a
 *	  statement that would take data no rule keeps along with a moved table.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "assess.h"
#include "audit.h"
#include "catalog.h"
#include "pipeline.h"
#include "policy.h"
#include "probe.h"
#include "settings.h"
#include "statement.h"
#include "trash.h"

static List *choose_soft(GuardStatement *stmt, List *captured, HTAB *gone,
						 List **trees);
static bool move_all(GuardStatement *stmt, List *soft, List *trees,
					 DropStmt *rest, List *captured, List *members,
					 Oid trash_nsp, List **matviews);
static bool named_tables_may_be_kept(GuardStatement *stmt, DropStmt *drop);
static bool named_in_drop(DropStmt *drop, Oid relid);
static DropStmt *remaining_drop(DropStmt *drop, List *soft);
static void record_trash_entry(GuardStatement *stmt, GuardIntent *intent,
							   const char *trash_name, List *renames,
							   const char *recreate);
static Datum names_array(List *renames, bool to);

/*
 * Called by the utility hook for DROP statements.  Returns the statement
 * that still has to run: pstmt itself when nothing is soft-dropped (or for
 * DROP SCHEMA, whose schema and other contents still go), a copy naming
 * only the tables dropped for real, or NULL when every table went to the
 * trash (qc then says DROP TABLE).
 */
PlannedStmt *
trash_soft_drop(PlannedStmt *pstmt, QueryCompletion *qc)
{
	DropStmt   *drop = (DropStmt *) pstmt->utilityStmt;
	GuardCatalog catalog;
	GuardStatement *stmt;
	MemoryContext oldcxt;
	List	   *captured;
	List	   *soft;
	List	   *trees = NIL;
	List	   *members = NIL;
	List	   *dependents;
	List	   *matviews = NIL;
	HTAB	   *gone;
	DropStmt   *rest;
	Oid			trash_nsp;
	bool		moved;
	ListCell   *lc;
	ListCell   *tlc;

	if ((drop->removeType != OBJECT_TABLE && drop->removeType != OBJECT_SCHEMA) ||
		drop->concurrent)
		return pstmt;
	if (!guard_catalog_lookup(&catalog) ||
		!policy_has_action(&catalog, GUARD_ACTION_SOFT_DROP))
		return pstmt;
	trash_nsp = catalog.trash_schema_oid;
	if (!OidIsValid(trash_nsp))
		return pstmt;
	/* a dry run inside another command would feed its sql_drop list */
	if (statement_depth() > 0)
		return pstmt;

	stmt = statement_push(drop, drop->removeType == OBJECT_SCHEMA
						  ? "DROP SCHEMA" : "DROP TABLE", &catalog);
	oldcxt = MemoryContextSwitchTo(stmt->context);
	if (drop->removeType == OBJECT_TABLE && !named_tables_may_be_kept(stmt, drop))
	{
		MemoryContextSwitchTo(oldcxt);
		statement_pop(stmt);
		return pstmt;
	}
	MemoryContextSwitchTo(oldcxt);
	captured = trash_dry_run(stmt, drop);
	oldcxt = MemoryContextSwitchTo(stmt->context);
	gone = trash_address_set(captured);
	soft = choose_soft(stmt, captured, gone, &trees);
	foreach(tlc, trees)
		members = list_concat(members, lfirst(tlc));
	if (soft == NIL)
	{
		MemoryContextSwitchTo(oldcxt);
		statement_pop(stmt);
		return pstmt;
	}

	/*
	 * What depends on the kept tables is recorded while it still exists;
	 * then the tables move, and what would now outlive the statement only
	 * because its tables did is dropped -- unless that would take data no
	 * rule keeps, in which case nothing is moved at all (the subtransaction
	 * is rolled back) and the statement is judged as usual.
	 */
	dependents = trash_record_dependents(captured, gone, members);
	/* a 1.0 recycle bin (extension not updated yet) cannot keep them */
	if (dependents != NIL && !trash_bin_has_column(&catalog, "recreate"))
	{
		MemoryContextSwitchTo(oldcxt);
		statement_pop(stmt);
		return pstmt;
	}
	rest = remaining_drop(drop, soft);
	moved = move_all(stmt, soft, trees, rest, captured, members, trash_nsp,
					 &matviews);
	if (!moved)
	{
		MemoryContextSwitchTo(oldcxt);
		statement_pop(stmt);
		return pstmt;
	}

	/*
	 * Only the soft-dropped tables are this statement's to audit, and the
	 * materialized views that went with them; the rest is the real
	 * statement's.
	 */
	stmt->intents = list_concat(list_copy(soft), matviews);
	pipeline_finish(stmt);
	forboth(lc, soft, tlc, trees)
	{
		GuardIntent *intent = lfirst(lc);
		int			recreated = 0;
		char	   *recreate = trash_dependents_json(dependents, lfirst(tlc),
													 &recreated);

		record_trash_entry(stmt, intent, intent->trash_name,
						   intent->trash_renames, recreate);
		ereport(NOTICE,
				(errmsg("table %s was moved to the recycle bin as %s.%s",
						intent->object_identity, GUARD_TRASH_SCHEMA_NAME,
						quote_identifier(intent->trash_name)),
				 recreated > 0
				 ? errdetail_plural("%d object that depended on it was dropped; restore() re-creates it.",
									"%d objects that depended on it were dropped; restore() re-creates them.",
									recreated, recreated)
				 : 0,
				 errhint("guarded_ddl.restore() brings it back; see guarded_ddl.trash.")));
	}
	MemoryContextSwitchTo(oldcxt);
	statement_pop(stmt);
	trash_apply_retention(&catalog);

	if (drop->removeType == OBJECT_SCHEMA)
		return pstmt;
	if (rest == NULL)
	{
		if (qc)
			SetQueryCompletion(qc, CMDTAG_DROP_TABLE, 0);
		return NULL;
	}
	{
		PlannedStmt *result = copyObject(pstmt);

		result->utilityStmt = (Node *) rest;
		return result;
	}
}

/*
 * Move every kept table (with its partitions and the sequences of its
 * defaults) to the trash and drop what only depended on them, in a
 * subtransaction: when that would take data no rule keeps, everything is
 * rolled back and false returned.  The intents are decided soft_dropped.
 */
static bool
move_all(GuardStatement *stmt, List *soft, List *trees, DropStmt *rest,
		 List *captured, List *members, Oid trash_nsp, List **matviews)
{
	ResourceOwner oldowner = CurrentResourceOwner;
	MemoryContext oldcxt = CurrentMemoryContext;
	bool		dropped;
	ListCell   *lc;
	ListCell   *tlc;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	forboth(lc, soft, tlc, trees)
	{
		GuardIntent *intent = lfirst(lc);
		List	   *tree = lfirst(tlc);
		char	   *trash_name;

		intent->trash_renames = trash_move_to_trash(intent->data_relid, tree,
											  trash_nsp, &trash_name);
		intent->trash_name = trash_name;
		intent->decision = GUARD_SOFT_DROPPED;
		intent->reason = psprintf("moved to %s.%s", GUARD_TRASH_SCHEMA_NAME,
								  quote_identifier(trash_name));
	}
	dropped = trash_drop_orphans(stmt, rest, captured, members, matviews);
	if (dropped)
		ReleaseCurrentSubTransaction();
	else
		RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return dropped;
}

/*
 * Run the DROP in a subtransaction, rolled back, capturing every object it
 * deletes (in deletion order: dependents first).  Its NOTICEs are not
 * shown (the real statement shows them); its error, if any, is the real
 * statement's and is raised as it is.
 */
List *
trash_dry_run(GuardStatement *stmt, DropStmt *drop)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;
	List	   *captured;

	stmt->captured = NIL;
	stmt->capturing = true;
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		(void) set_config_option("client_min_messages", "warning",
								 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);
		if (drop->removeType == OBJECT_TABLE)
			RemoveRelations(drop);
		else
			RemoveObjects(drop);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	stmt->capturing = false;
	captured = stmt->captured;
	stmt->captured = NIL;

	if (edata != NULL)
		ReThrowError(edata);
	return captured;
}

/*
 * The tables of the captured deletion a soft_drop rule keeps, each as a
 * decided intent naming its root table; *trees gets, for each, the
 * relations that move with it (the table, its partitions, the sequences of
 * its defaults), all locked.
 */
static List *
choose_soft(GuardStatement *stmt, List *captured, HTAB *gone, List **trees)
{
	List	   *candidates = NIL;
	List	   *soft = NIL;
	ListCell   *lc;

	foreach(lc, captured)
	{
		ObjectAddress *object = lfirst(lc);
		List	   *tree;
		GuardIntent *intent;
		ListCell   *tlc;

		if (object->classId != RelationRelationId || object->objectSubId != 0)
			continue;
		tree = trash_table_members(stmt, object->objectId, gone);
		if (tree == NIL || trash_uses_what_goes(gone, tree))
			continue;

		intent = trash_drop_intent(object->objectId, "table");
		intent->cascaded = !named_in_drop((DropStmt *) stmt->key, object->objectId);
		/* what the dry run saw, summed over the partitions */
		intent->holds_data = GUARD_DATA_NONE;
		intent->row_estimate = 0;
		foreach(tlc, tree)
		{
			GuardRelVerdict *verdict = assess_lookup_verdict(stmt, lfirst_oid(tlc));

			if (get_rel_relkind(lfirst_oid(tlc)) == RELKIND_PARTITIONED_TABLE ||
				get_rel_relkind(lfirst_oid(tlc)) == RELKIND_SEQUENCE)
				continue;		/* no rows of its own */
			if (verdict == NULL || verdict->holds_data == GUARD_DATA_UNKNOWN)
				intent->holds_data = GUARD_DATA_UNKNOWN;
			else if (verdict->holds_data == GUARD_DATA_PRESENT &&
					 intent->holds_data == GUARD_DATA_NONE)
				intent->holds_data = GUARD_DATA_PRESENT;
			if (verdict == NULL || verdict->row_estimate < 0 || intent->row_estimate < 0)
				intent->row_estimate = -1;
			else
				intent->row_estimate += verdict->row_estimate;
		}
		candidates = lappend(candidates, intent);
	}
	if (candidates == NIL)
		return NIL;
	pipeline_decide_intents(stmt, candidates);

	foreach(lc, candidates)
	{
		GuardIntent *intent = lfirst(lc);
		List	   *tree;
		ListCell   *tlc;

		if (intent->action != GUARD_ACTION_SOFT_DROP)
			continue;
		tree = trash_table_members(stmt, intent->data_relid, gone);
		tree = list_concat(tree, trash_default_sequences(tree, gone));
		foreach(tlc, tree)
			LockRelationOid(lfirst_oid(tlc), AccessExclusiveLock);
		soft = lappend(soft, intent);
		*trees = lappend(*trees, tree);
	}
	/* the other candidates are dropped for real: the event triggers judge them */
	stmt->intents = NIL;
	return soft;
}

/*
 * DROP TABLE can only keep the tables it names (a partition comes with its
 * root, an inheritance child is never kept): when no rule decides
 * soft_drop for any of them, the dry run is not worth running.  Unlocked
 * look-ups: a wrong "no" only means the statement is judged as usual.
 */
static bool
named_tables_may_be_kept(GuardStatement *stmt, DropStmt *drop)
{
	List	   *named = NIL;
	bool		any = false;
	ListCell   *lc;

	foreach(lc, drop->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (OidIsValid(relid))
			named = lappend(named, trash_drop_intent(relid, "table"));
	}
	if (named == NIL)
		return false;
	pipeline_decide_intents(stmt, named);
	foreach(lc, named)
		any |= ((GuardIntent *) lfirst(lc))->action == GUARD_ACTION_SOFT_DROP;
	stmt->intents = NIL;
	return any;
}

/* Whether a DROP TABLE names the table itself (not reached by CASCADE). */
static bool
named_in_drop(DropStmt *drop, Oid relid)
{
	ListCell   *lc;

	if (drop->removeType != OBJECT_TABLE)
		return false;
	foreach(lc, drop->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));

		if (RangeVarGetRelid(rv, NoLock, true) == relid)
			return true;
	}
	return false;
}

/*
 * The DROP that still has to run once the soft-dropped tables are gone from
 * their schema: DROP SCHEMA as it is (the schema and the rest of its
 * contents); DROP TABLE naming only the other tables, or NULL when none is
 * left.
 */
static DropStmt *
remaining_drop(DropStmt *drop, List *soft)
{
	DropStmt   *rest;
	ListCell   *lc;

	if (drop->removeType == OBJECT_SCHEMA)
		return drop;
	rest = copyObject(drop);
	rest->objects = NIL;
	foreach(lc, drop->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		bool		moved = false;
		ListCell   *slc;

		foreach(slc, soft)
		{
			if (((GuardIntent *) lfirst(slc))->data_relid == relid)
				moved = true;
		}
		if (!moved)
			rest->objects = lappend(rest->objects, lfirst(lc));
	}
	return rest->objects == NIL ? NULL : rest;
}

/* A name[] of the old (to = false) or new names of the renamed parts. */
static Datum
names_array(List *renames, bool to)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, renames)
	{
		TrashRename *rename = lfirst(lc);

		names = lappend(names, to ? rename->to : rename->from);
	}
	return guard_name_array(names);
}

/* One row of guarded_ddl.trash_bin, written as the extension owner. */
static void
record_trash_entry(GuardStatement *stmt, GuardIntent *intent,
				   const char *trash_name, List *renames,
				   const char *recreate)
{
	GuardOwnerContext saved;
	Oid			argtypes[9] = {TEXTOID, TEXTOID, TEXTOID, INT8OID, TEXTOID,
	INT8OID, NAMEARRAYOID, NAMEARRAYOID, TEXTOID};
	Datum		values[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	const char *dropped_by = GetUserNameFromId(GetUserId(), false);
	int			ret;

	values[0] = CStringGetTextDatum(intent->schema_name);
	values[1] = CStringGetTextDatum(intent->object_name);
	values[2] = CStringGetTextDatum(trash_name);
	values[3] = Int64GetDatum(intent->row_estimate);
	if (intent->row_estimate < 0)
		nulls[3] = 'n';
	values[4] = CStringGetTextDatum(dropped_by);
	values[5] = Int64GetDatum(intent->audit_id);
	if (intent->audit_id == 0)
		nulls[5] = 'n';
	values[6] = names_array(renames, false);
	values[7] = names_array(renames, true);
	values[8] = recreate ? CStringGetTextDatum(recreate) : (Datum) 0;
	nulls[8] = recreate ? ' ' : 'n';

	guard_spi_connect_as_owner(&stmt->catalog, &saved);
	if (recreate != NULL)
		ret = SPI_execute_with_args("INSERT INTO guarded_ddl.trash_bin"
									" (original_schema, original_name, trash_name,"
									"  row_estimate, dropped_by, audit_id,"
									"  renamed_from, renamed_to, recreate)"
									" VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
									"         $9::pg_catalog.jsonb)",
									9, argtypes, values, nulls, false, 0);
	else						/* also what a 1.0 recycle bin has */
		ret = SPI_execute_with_args("INSERT INTO guarded_ddl.trash_bin"
									" (original_schema, original_name, trash_name,"
									"  row_estimate, dropped_by, audit_id,"
									"  renamed_from, renamed_to)"
									" VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
									8, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "guarded_ddl: could not record the trash entry: %s",
			 SPI_result_code_string(ret));
	guard_spi_finish_as_owner(&saved);
}

/*
 * Whether guarded_ddl.trash_bin has the column: a library of version 1.1
 * may run on a database whose extension is still at 1.0 until ALTER
 * EXTENSION ... UPDATE; what needs a 1.1 column is then not kept.
 */
bool
trash_bin_has_column(const GuardCatalog *catalog, const char *column)
{
	Oid			relid = get_relname_relid("trash_bin", catalog->schema_oid);

	return OidIsValid(relid) && get_attnum(relid, column) != InvalidAttrNumber;
}
