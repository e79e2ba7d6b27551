/*-------------------------------------------------------------------------
 *
 * assess.c
 *	  Does the object hold data?  Decided before the statement runs, in
 *	  this order for every relation a statement names:
 *
 *	  1. the caller's right, with PostgreSQL's own rule and error (table or
 *		 schema owner for DROP) -- before anything is locked or probed, so a
 *		 role that may not drop a table learns nothing about its rows;
 *	  2. the lock the command itself will take, so there is no upgrade;
 *	  3. zero blocks means empty; otherwise one visible tuple under the
 *		 latest snapshot (the transaction snapshot lies under REPEATABLE
 *		 READ).  Never a scan of the table: its size does not matter.
 *
 *	  Verdicts are recorded per relation for the whole statement, because at
 *	  sql_drop the dropped relations can no longer be opened.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/heap.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "optimizer/plancat.h"
#include "parser/parse_type.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "guarded_ddl.h"
#include "intent.h"
#include "type_change.h"

/*
 * Blocks a probe may read looking for one visible tuple.  A table whose
 * first blocks hold only dead tuples (mass DELETE, no VACUUM yet) stops the
 * probe here and counts as holding data: bounded cost, fail closed.
 */
#define GUARD_PROBE_MAX_BLOCKS 256

/*
 * Tables of at most this many blocks (256 kB) get their visible rows counted
 * for the audit and the error message; bigger ones get the planner's
 * estimate.  Either way the cost is bounded.
 */
#define GUARD_COUNT_MAX_BLOCKS 32

static void resolve_relation_intent(GuardStatement *stmt, GuardIntent *intent);
static void assess_type_change(GuardIntent *intent, Oid relid,
							   AttrNumber attnum);
static List *assess_typed_table_columns(GuardStatement *stmt,
										const GuardIntent *type_intent);
static void check_right_callback(const RangeVar *rv, Oid relid, Oid oldrelid,
								 void *arg);
static GuardDataVerdict probe_heap(Relation rel, int64 *counted);
static GuardDataVerdict probe_sequence(Relation rel);
static int64 estimate_rows(Relation rel);
static void assess_relations_where(GuardStatement *stmt, AttrNumber attno,
								   Oid value);
static void assess_extension_members(GuardStatement *stmt, Oid extoid);
static void assess_relid_list(GuardStatement *stmt, List *relids);
static void assess_truncate_cascade(GuardStatement *stmt);
static bool may_look_at_rows(Oid relid);
static void note_sequence_owner(GuardStatement *stmt, Oid seqid);
static GuardDataVerdict assess_relation_tree(GuardStatement *stmt, Oid relid,
											 LOCKMODE lockmode, int64 *rows);

/*
 * Resolve, check, lock and probe what the statement names.  Intents whose
 * target does not exist are removed: the command itself reports that (or
 * skips it under IF EXISTS).
 *
 * What a statement drops wholesale (a schema's contents, a role's objects,
 * an extension's members, CASCADE victims) is not walked here: each of those
 * relations gets its verdict as PostgreSQL deletes it (object_access.c).
 * Only a preflight (check()), which deletes nothing, still walks them to
 * predict what the statement would take.
 */
void
assess_statement(GuardStatement *stmt, Node *parsetree)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if (intent->relation != NULL)
			resolve_relation_intent(stmt, intent);
		if (intent->missing)
			continue;
		if (intent->typed_tables)
			kept = list_concat(kept, assess_typed_table_columns(stmt, intent));
		else
			kept = lappend(kept, intent);
	}
	stmt->intents = kept;

	if (stmt->preflight && IsA(parsetree, DropStmt))
	{
		DropStmt   *drop = (DropStmt *) parsetree;

		foreach(lc, drop->objects)
		{
			Node	   *name = lfirst(lc);

			if (drop->removeType == OBJECT_SCHEMA)
			{
				Oid			nspid = get_namespace_oid(strVal(name), true);

				if (OidIsValid(nspid))
					assess_relations_where(stmt, Anum_pg_class_relnamespace,
										   nspid);
			}
			else if (drop->removeType == OBJECT_EXTENSION)
			{
				Oid			extoid = get_extension_oid(strVal(name), true);

				if (OidIsValid(extoid))
					assess_extension_members(stmt, extoid);
			}
		}
	}
	else if (IsA(parsetree, TruncateStmt) &&
			 ((TruncateStmt *) parsetree)->behavior == DROP_CASCADE)
		assess_truncate_cascade(stmt);
	else if (stmt->preflight && IsA(parsetree, DropOwnedStmt))
	{
		DropOwnedStmt *owned = (DropOwnedStmt *) parsetree;

		foreach(lc, owned->roles)
		{
			Oid			roleid = get_rolespec_oid(lfirst(lc), true);

			if (OidIsValid(roleid))
				assess_relations_where(stmt, Anum_pg_class_relowner, roleid);
		}
	}
}

/*
 * Step 1 and 2 for one named relation, then step 3 when the intent would
 * destroy rows.  Raises PostgreSQL's own permission error.
 */
static void
resolve_relation_intent(GuardStatement *stmt, GuardIntent *intent)
{
	Oid			relid;
	char		relkind;
	Form_pg_class classform;
	HeapTuple	tuple;
	LOCKMODE	lockmode = intent->lockmode;

	/*
	 * guarded_ddl's own tables are refused before any lock: the worker that
	 * records the refusal must be able to write the audit.
	 */
	relid = RangeVarGetRelid(intent->relation, NoLock, true);
	if (OidIsValid(relid) &&
		get_rel_namespace(relid) == stmt->catalog.schema_oid)
		lockmode = NoLock;

	/* preflight: no exclusive locks, no errors for missing rights */
	if (stmt->preflight)
	{
		if (lockmode != NoLock)
			lockmode = AccessShareLock;
		intent->right = GUARD_RIGHT_NONE;
	}

	relid = RangeVarGetRelidExtended(intent->relation, lockmode,
									 RVR_MISSING_OK, check_right_callback,
									 intent);
	if (!OidIsValid(relid))
	{
		intent->missing = true;
		return;
	}

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
	{
		intent->missing = true;
		return;
	}
	classform = (Form_pg_class) GETSTRUCT(tuple);
	relkind = classform->relkind;
	intent->is_temporary = (classform->relpersistence == RELPERSISTENCE_TEMP);
	intent->schema_name = get_namespace_name(classform->relnamespace);
	intent->object_name = pstrdup(NameStr(classform->relname));
	ReleaseSysCache(tuple);

	/* DROP TABLE on a view and the like: the command raises its own error */
	if (intent->expected_relkind != '\0' && relkind != intent->expected_relkind &&
		!(intent->expected_relkind == RELKIND_RELATION &&
		  relkind == RELKIND_PARTITIONED_TABLE))
	{
		intent->missing = true;
		return;
	}

	intent->data_relid = relid;
	ObjectAddressSet(intent->address, RelationRelationId, relid);

	if (intent->column_name != NULL)
	{
		AttrNumber	attnum = get_attnum(relid, intent->column_name);

		if (attnum == InvalidAttrNumber)
		{
			intent->missing = true;
			return;
		}
		intent->address.objectSubId = attnum;
		/* DROP COLUMN and DROP NOT NULL take it along (PG 18+) */
		if (intent->operation == GUARD_OP_DROP ||
			intent->operation == GUARD_OP_DROP_CONSTRAINT)
			intent->column_not_null = gd_not_null_constraint_oid(relid, attnum);
		/* the column is locked: its type stays what it is now */
		if (intent->operation == GUARD_OP_ALTER_TYPE)
			assess_type_change(intent, relid, attnum);
	}
	else if (intent->constraint_name != NULL)
	{
		Oid			conoid = get_relation_constraint_oid(relid,
														 intent->constraint_name,
														 true);

		if (!OidIsValid(conoid))
		{
			intent->missing = true;
			return;
		}
		ObjectAddressSet(intent->address, ConstraintRelationId, conoid);
	}
	else if (intent->part_name != NULL)
	{
		/* a trigger, rule or policy of the table: "name on schema.table" */
		char	   *table = getObjectIdentity(&intent->address, true);

		if (table == NULL)
		{
			intent->missing = true;
			return;
		}
		intent->object_identity = psprintf("%s on %s",
										   quote_identifier(intent->part_name),
										   table);
		return;
	}
	else if (intent->subject != NULL)
	{
		Oid			partid = RangeVarGetRelid(intent->subject, NoLock, true);

		if (!OidIsValid(partid))
		{
			intent->missing = true;
			return;
		}
		ObjectAddressSet(intent->address, RelationRelationId, partid);
		intent->schema_name = get_namespace_name(get_rel_namespace(partid));
		intent->object_name = get_rel_name(partid);
	}

	intent->object_identity = getObjectIdentity(&intent->address, true);
	intent->object_type = getObjectTypeDescription(&intent->address, true);
	if (intent->object_identity == NULL || intent->object_type == NULL)
	{
		intent->missing = true;
		return;
	}

	/* temporary objects take nothing with them that outlives the session */
	if (intent->is_temporary)
	{
		intent->missing = true;
		return;
	}
	if (!intent->data_bearing)
	{
		intent->holds_data = GUARD_DATA_NONE;
		return;
	}
	if (intent->operation != GUARD_OP_DROP &&
		intent->operation != GUARD_OP_ALTER_TYPE &&
		intent->operation != GUARD_OP_TRUNCATE)
		return;
	if (lockmode == NoLock)
		return;					/* own table: refused without a probe */
	if (stmt->preflight && !may_look_at_rows(relid))
		return;					/* UNKNOWN: the caller may not know */

	if (!intent->relation->inh && relkind != RELKIND_PARTITIONED_TABLE)
	{
		/* ONLY: the children keep their rows */
		intent->holds_data = assess_relation(relid, true, &intent->row_estimate);
		assess_record_verdict(stmt, relid, intent->holds_data,
							  intent->row_estimate);
	}
	else
		intent->holds_data = assess_relation_tree(stmt, relid, lockmode,
												  &intent->row_estimate);
}

/*
 * alter_type: does the conversion keep every value (type_change.c)?  The
 * new type is resolved as the command will resolve it, but a name that does
 * not resolve -- the command reports it -- only makes the change lossy here
 * (fail closed).  %TYPE is not followed: it would print its NOTICE twice.
 * Fills intent->lossless and intent->type_change.
 */
static void
assess_type_change(GuardIntent *intent, Oid relid, AttrNumber attnum)
{
	Oid			oldtype;
	int32		oldtypmod;
	Oid			oldcollid;
	Oid			newtype = InvalidOid;
	int32		newtypmod = -1;
	const char *reason;

	intent->lossless = false;
	get_atttypetypmodcoll(relid, attnum, &oldtype, &oldtypmod, &oldcollid);
	if (intent->new_type != NULL && !intent->new_type->pct_type)
	{
		Type		tup = LookupTypeName(NULL, intent->new_type, &newtypmod, true);

		if (tup != NULL)
		{
			if (((Form_pg_type) GETSTRUCT(tup))->typisdefined)
				newtype = typeTypeId(tup);
			ReleaseSysCache(tup);
		}
	}
	if (!OidIsValid(oldtype) || !OidIsValid(newtype))
	{
		intent->type_change = psprintf("%s to %s: the new type could not be resolved beforehand",
									   format_type_be(oldtype),
									   intent->new_type != NULL
									   ? TypeNameToString(intent->new_type) : "?");
		return;
	}
	intent->lossless = type_change_is_lossless(oldtype, oldtypmod,
											   newtype, newtypmod,
											   intent->using_expr,
											   intent->column_name, &reason);
	intent->type_change = pstrdup(reason);
}

/*
 * ALTER TYPE ... ALTER ATTRIBUTE ... CASCADE: the type is resolved, locked
 * and its owner checked (resolve_relation_intent); now one alter_type intent
 * per typed table of it, each locked as the command will lock it (the
 * type's lock mode, AccessShareLock in preflight) and probed, and judged as
 * the type's attribute was: a typed table's column always has its type's
 * attribute type.  The tables are found as PostgreSQL finds them, by a pass
 * over pg_class on reloftype, which has no index.  Owning the type is the
 * right the command checks (resolve_relation_intent did); it changes typed
 * tables of other owners too, so they are probed too.  Returns the intents,
 * allocated in CurrentMemoryContext.
 */
static List *
assess_typed_table_columns(GuardStatement *stmt, const GuardIntent *type_intent)
{
	Oid			typid = get_rel_type_id(type_intent->data_relid);
	LOCKMODE	lockmode = stmt->preflight ? AccessShareLock : type_intent->lockmode;
	List	   *relids = NIL;
	List	   *result = NIL;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	ListCell   *lc;

	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_class_reloftype, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(typid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		relids = lappend_oid(relids, ((Form_pg_class) GETSTRUCT(tuple))->oid);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		bool		own_table = (get_rel_namespace(relid) == stmt->catalog.schema_oid);
		GuardIntent *intent;
		AttrNumber	attnum;

		/* guarded_ddl's own tables stay unlocked: refused without a probe */
		if (!own_table)
			LockRelationOid(relid, lockmode);
		attnum = get_attnum(relid, type_intent->column_name);
		if (attnum == InvalidAttrNumber ||
			get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
			continue;			/* gone meanwhile; or nothing outlives the session */

		intent = guard_intent_new(GUARD_OP_ALTER_TYPE, "table column");
		ObjectAddressSubSet(intent->address, RelationRelationId, relid, attnum);
		intent->object_identity = getObjectIdentity(&intent->address, true);
		intent->object_type = getObjectTypeDescription(&intent->address, true);
		intent->schema_name = get_namespace_name(get_rel_namespace(relid));
		intent->object_name = get_rel_name(relid);
		intent->column_name = pstrdup(type_intent->column_name);
		if (intent->object_identity == NULL || intent->object_type == NULL ||
			intent->schema_name == NULL || intent->object_name == NULL)
			continue;
		intent->cascaded = true;
		intent->data_bearing = true;
		intent->data_relid = relid;
		intent->lockmode = lockmode;
		intent->lossless = type_intent->lossless;
		intent->type_change = type_intent->type_change;
		if (!own_table && (!stmt->preflight || may_look_at_rows(relid)))
			intent->holds_data = assess_relation_tree(stmt, relid, lockmode,
													  &intent->row_estimate);
		result = lappend(result, intent);
	}
	return result;
}

/*
 * PostgreSQL's own permission rule for the command, applied by
 * RangeVarGetRelidExtended before it locks (and again if the name moves to
 * another relation while waiting).
 */
static void
check_right_callback(const RangeVar *rv, Oid relid, Oid oldrelid, void *arg)
{
	GuardIntent *intent = (GuardIntent *) arg;
	HeapTuple	tuple;
	Form_pg_class classform;
	Oid			userid = GetUserId();
	bool		allowed = true;
	AclResult	aclresult = ACLCHECK_OK;

	if (!OidIsValid(relid))
		return;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return;					/* concurrently dropped */
	classform = (Form_pg_class) GETSTRUCT(tuple);

	switch (intent->right)
	{
		case GUARD_RIGHT_NONE:
			break;
		case GUARD_RIGHT_DROP_RELATION:
			allowed = gd_class_ownercheck(relid, userid) ||
				gd_namespace_ownercheck(classform->relnamespace, userid);
			aclresult = ACLCHECK_NOT_OWNER;
			break;
		case GUARD_RIGHT_OWN_RELATION:
			allowed = gd_class_ownercheck(relid, userid);
			aclresult = ACLCHECK_NOT_OWNER;
			break;
		case GUARD_RIGHT_TRUNCATE:
			aclresult = pg_class_aclcheck(relid, userid, ACL_TRUNCATE);
			allowed = (aclresult == ACLCHECK_OK);
			break;
	}

	if (!allowed)
	{
		ObjectType objtype = get_relkind_objtype(classform->relkind);

		ReleaseSysCache(tuple);
		aclcheck_error(aclresult, objtype, rv->relname);
	}
	ReleaseSysCache(tuple);
}

/*
 * Before a refusal is recorded (which starts a worker) the caller's right is
 * checked for intents that were not resolved through the callback above.
 */
void
assess_intent_permission(const GuardIntent *intent)
{
	Oid			userid = GetUserId();

	if (intent->cascaded || intent->relation != NULL)
		return;
	if (intent->address.classId == NamespaceRelationId &&
		OidIsValid(intent->address.objectId) &&
		!gd_namespace_ownercheck(intent->address.objectId, userid))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_SCHEMA, intent->object_name);
	if (intent->address.classId == TypeRelationId &&
		OidIsValid(intent->address.objectId) &&
		!gd_type_ownercheck(intent->address.objectId, userid))
		aclcheck_error_type(ACLCHECK_NOT_OWNER, intent->address.objectId);
}

/*
 * The verdict for a relation and, for partitioned tables and inheritance
 * parents, everything below it (a DROP takes them all).  Each relation's
 * own verdict is recorded for sql_drop.  Locks with the given mode.
 */
static GuardDataVerdict
assess_relation_tree(GuardStatement *stmt, Oid relid, LOCKMODE lockmode,
					 int64 *rows)
{
	List	   *members;
	ListCell   *lc;
	GuardDataVerdict result = GUARD_DATA_NONE;
	int64		total = 0;
	bool		total_known = true;

	if (!has_subclass(relid))
		members = list_make1_oid(relid);
	else
		members = find_all_inheritors(relid, lockmode, NULL);

	foreach(lc, members)
	{
		Oid			member = lfirst_oid(lc);
		GuardRelVerdict *known = assess_lookup_verdict(stmt, member);
		GuardDataVerdict verdict;
		int64		member_rows;

		if (known != NULL)
		{
			verdict = known->holds_data;
			member_rows = known->row_estimate;
		}
		else
		{
			verdict = assess_relation(member, true, &member_rows);
			assess_record_verdict(stmt, member, verdict, member_rows);
		}

		if (verdict == GUARD_DATA_PRESENT)
			result = GUARD_DATA_PRESENT;
		else if (verdict == GUARD_DATA_UNKNOWN && result == GUARD_DATA_NONE)
			result = GUARD_DATA_UNKNOWN;
		if (member_rows >= 0)
			total += member_rows;
		else if (verdict != GUARD_DATA_NONE)
			total_known = false;
	}
	*rows = total_known ? total : -1;
	if (list_length(members) > 1 || members == NIL)
		assess_record_verdict(stmt, relid, result, *rows);
	return result;
}

/*
 * Whether one relation holds data.  With lock_held the caller holds a lock
 * that keeps it still; otherwise AccessShareLock is taken here (preflight).
 * Returns UNKNOWN for anything it cannot tell.
 */
GuardDataVerdict
assess_relation(Oid relid, bool lock_held, int64 *row_estimate)
{
	Relation	rel;
	GuardDataVerdict verdict;

	*row_estimate = -1;
	rel = try_relation_open(relid, lock_held ? NoLock : AccessShareLock);
	if (rel == NULL)
		return GUARD_DATA_UNKNOWN;

	if (RELATION_IS_OTHER_TEMP(rel))
		verdict = GUARD_DATA_UNKNOWN;
	else
	{
		switch (rel->rd_rel->relkind)
		{
			case RELKIND_RELATION:
			case RELKIND_MATVIEW:
			case RELKIND_TOASTVALUE:
				{
					int64		counted = -1;

					verdict = probe_heap(rel, &counted);
					if (verdict == GUARD_DATA_NONE)
						*row_estimate = 0;
					else
						*row_estimate = counted >= 0 ? counted : estimate_rows(rel);
					break;
				}
			case RELKIND_SEQUENCE:
				verdict = probe_sequence(rel);
				break;
			case RELKIND_PARTITIONED_TABLE:
				/* no storage of its own; callers walk the partitions */
				verdict = GUARD_DATA_NONE;
				*row_estimate = 0;
				break;
			case RELKIND_VIEW:
			case RELKIND_FOREIGN_TABLE:
			case RELKIND_COMPOSITE_TYPE:
				verdict = GUARD_DATA_NONE;
				break;
			default:
				verdict = GUARD_DATA_UNKNOWN;
				break;
		}
	}
	relation_close(rel, NoLock);
	return verdict;
}

/*
 * One visible tuple under the latest snapshot, reading a bounded prefix.
 * Small tables are read whole to count their rows into *counted (else -1).
 */
static GuardDataVerdict
probe_heap(Relation rel, int64 *counted)
{
	BlockNumber nblocks;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		found;
	bool		bounded = false;
	bool		count = false;

	*counted = -1;
	nblocks = RelationGetNumberOfBlocks(rel);
	if (nblocks == 0)
		return GUARD_DATA_NONE;

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	/* no synchronized scan: it could start in the middle of the table */
	scan = table_beginscan_strat(rel, snapshot, 0, NULL, true, false);
	if (rel->rd_tableam == GetHeapamTableAmRoutine())
	{
		if (nblocks <= GUARD_COUNT_MAX_BLOCKS)
			count = true;
		else if (nblocks > GUARD_PROBE_MAX_BLOCKS)
		{
			heap_setscanlimits(scan, 0, GUARD_PROBE_MAX_BLOCKS);
			bounded = true;
		}
	}
	slot = table_slot_create(rel, NULL);
	found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
	if (count)
	{
		int64		n = found ? 1 : 0;

		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
			n++;
		*counted = n;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);

	if (found)
		return GUARD_DATA_PRESENT;
	return bounded ? GUARD_DATA_UNKNOWN : GUARD_DATA_NONE;
}

/* A sequence that was ever used counts as data (keys were handed out). */
static GuardDataVerdict
probe_sequence(Relation rel)
{
	LOCAL_FCINFO(fcinfo, 1);
	Oid			relid = RelationGetRelid(rel);

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
		return GUARD_DATA_UNKNOWN;

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(relid);
	fcinfo->args[0].isnull = false;
	(void) pg_sequence_last_value(fcinfo);
	return fcinfo->isnull ? GUARD_DATA_NONE : GUARD_DATA_PRESENT;
}

/* The planner's estimate: statistics when there are some, a guess if not. */
static int64
estimate_rows(Relation rel)
{
	BlockNumber pages;
	double		tuples;
	double		allvisfrac;

	estimate_rel_size(rel, NULL, &pages, &tuples, &allvisfrac);
	return (tuples < 1) ? 1 : (int64) tuples;
}

/*
 * Pre-assess every relation of a schema or of an owner, which a DROP SCHEMA
 * or DROP OWNED is about to remove.  pg_class has no index on these columns;
 * one sequential pass over it is cheap next to dropping the relations.
 */
static void
assess_relations_where(GuardStatement *stmt, AttrNumber attno, Oid value)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *relids = NIL;

	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyInit(&key, attno, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(value));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_class classform = (Form_pg_class) GETSTRUCT(tuple);

		if (classform->relpersistence == RELPERSISTENCE_TEMP)
			continue;
		/* never lock guarded_ddl's own tables: the audit worker needs them */
		if (classform->relnamespace == stmt->catalog.schema_oid)
			continue;
		if (classform->relkind == RELKIND_RELATION ||
			classform->relkind == RELKIND_MATVIEW ||
			classform->relkind == RELKIND_PARTITIONED_TABLE ||
			classform->relkind == RELKIND_SEQUENCE)
			relids = lappend_oid(relids, classform->oid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	assess_relid_list(stmt, relids);
}

/* The tables, materialized views and sequences DROP EXTENSION would take. */
static void
assess_extension_members(GuardStatement *stmt, Oid extoid)
{
	Relation	rel;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *relids = NIL;

	/* guarded_ddl's own: refused anyway, and its tables stay unlocked */
	if (extoid == stmt->catalog.extension_oid)
		return;

	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ExtensionRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tuple);
		char		relkind;

		if (dep->deptype != DEPENDENCY_EXTENSION ||
			dep->classid != RelationRelationId)
			continue;
		relkind = get_rel_relkind(dep->objid);
		if (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW ||
			relkind == RELKIND_PARTITIONED_TABLE || relkind == RELKIND_SEQUENCE)
			relids = lappend_oid(relids, dep->objid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	assess_relid_list(stmt, relids);
}

/*
 * Preflight: lock (AccessShareLock) and probe each relation; one that
 * vanished while we waited for its lock is simply skipped.
 */
static void
assess_relid_list(GuardStatement *stmt, List *relids)
{
	ListCell   *lc;
	LOCKMODE	lockmode = AccessShareLock;

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		int64		rows;

		if (assess_lookup_verdict(stmt, relid) != NULL)
			continue;
		if (!may_look_at_rows(relid))
		{
			assess_record_verdict(stmt, relid, GUARD_DATA_UNKNOWN, -1);
			continue;
		}
		LockRelationOid(relid, lockmode);
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		{
			UnlockRelationOid(relid, lockmode);
			continue;
		}
		(void) assess_relation_tree(stmt, relid, lockmode, &rows);
		if (get_rel_relkind(relid) == RELKIND_SEQUENCE)
			note_sequence_owner(stmt, relid);
	}
}

/*
 * A sequence owned by a table column (serial, identity) hands out that
 * table's keys: its verdict remembers the table, and sql_drop lets the
 * table's intent speak for it -- unless the table was empty and the
 * sequence used (OWNED BY an empty table does not make a used sequence's
 * data go away).
 */
static void
note_sequence_owner(GuardStatement *stmt, Oid seqid)
{
	Oid			tableid;
	int32		colid;
	GuardRelVerdict *verdict = assess_lookup_verdict(stmt, seqid);

	if (verdict == NULL)
		return;
	if (sequenceIsOwned(seqid, DEPENDENCY_AUTO, &tableid, &colid) ||
		sequenceIsOwned(seqid, DEPENDENCY_INTERNAL, &tableid, &colid))
	{
		verdict->owned = true;
		verdict->owner_relid = tableid;
	}
}

/*
 * OAT_DROP of a relation (object_access.c): record whether it holds data,
 * unless the statement already knows.  PostgreSQL still has its catalog row
 * and holds the deleting command's lock on it, so it can be opened without
 * one.  Temporary relations hold nothing that outlives the session;
 * guarded_ddl's own are refused there, never probed; indexes, views, TOAST
 * tables and the like hold no rows of their own.
 */
void
assess_dropped_relation(GuardStatement *stmt, Oid relid)
{
	HeapTuple	tuple;
	Form_pg_class classform;
	char		relkind;
	bool		skip;
	GuardDataVerdict verdict;
	int64		rows;

	if (assess_lookup_verdict(stmt, relid) != NULL)
		return;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return;
	classform = (Form_pg_class) GETSTRUCT(tuple);
	relkind = classform->relkind;
	skip = classform->relpersistence == RELPERSISTENCE_TEMP ||
		classform->relnamespace == stmt->catalog.schema_oid ||
		(relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW &&
		 relkind != RELKIND_SEQUENCE && relkind != RELKIND_PARTITIONED_TABLE);
	ReleaseSysCache(tuple);
	if (skip)
		return;

	verdict = assess_relation(relid, true, &rows);
	assess_record_verdict(stmt, relid, verdict, rows);
	if (relkind == RELKIND_SEQUENCE)
		note_sequence_owner(stmt, relid);
}

/* Preflight only tells about rows the caller could see anyway. */
static bool
may_look_at_rows(Oid relid)
{
	return gd_class_ownercheck(relid, GetUserId()) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
}

/*
 * TRUNCATE ... CASCADE also empties every table that references a truncated
 * one by foreign key, transitively, as ExecuteTruncate does.  Each becomes a
 * cascaded truncate intent, locked and probed like the named ones; tables
 * the caller may not truncate are left for the command to refuse.
 */
static void
assess_truncate_cascade(GuardStatement *stmt)
{
	List	   *seen = NIL;
	List	   *frontier = NIL;
	ListCell   *lc;

	foreach(lc, stmt->intents)
	{
		GuardIntent *intent = lfirst(lc);

		if (OidIsValid(intent->data_relid))
		{
			List	   *members = list_make1_oid(intent->data_relid);
			ListCell   *mlc;

			/* partitions and children are truncated too; FKs into them count */
			if (intent->relation == NULL || intent->relation->inh)
				members = find_all_inheritors(intent->data_relid, NoLock, NULL);
			foreach(mlc, members)
			{
				seen = list_append_unique_oid(seen, lfirst_oid(mlc));
				frontier = list_append_unique_oid(frontier, lfirst_oid(mlc));
			}
		}
	}

	while (frontier != NIL)
	{
		List	   *next = NIL;

		foreach(lc, heap_truncate_find_FKs(frontier))
		{
			Oid			relid = lfirst_oid(lc);
			GuardIntent *intent;
			HeapTuple	tuple;

			if (list_member_oid(seen, relid))
				continue;
			seen = lappend_oid(seen, relid);
			next = lappend_oid(next, relid);

			if (pg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
				continue;
			LockRelationOid(relid, stmt->preflight ? AccessShareLock
							: AccessExclusiveLock);
			tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
			if (!HeapTupleIsValid(tuple))
				continue;
			intent = guard_intent_new(GUARD_OP_TRUNCATE, "table");
			intent->schema_name =
				get_namespace_name(((Form_pg_class) GETSTRUCT(tuple))->relnamespace);
			intent->object_name =
				pstrdup(NameStr(((Form_pg_class) GETSTRUCT(tuple))->relname));
			intent->is_temporary =
				((Form_pg_class) GETSTRUCT(tuple))->relpersistence == RELPERSISTENCE_TEMP;
			ReleaseSysCache(tuple);
			if (intent->is_temporary)
				continue;
			ObjectAddressSet(intent->address, RelationRelationId, relid);
			intent->object_identity = getObjectIdentity(&intent->address, true);
			intent->object_type = getObjectTypeDescription(&intent->address, true);
			intent->cascaded = true;
			intent->data_bearing = true;
			intent->data_relid = relid;
			intent->holds_data = assess_relation_tree(stmt, relid,
													  stmt->preflight ? AccessShareLock
													  : AccessExclusiveLock,
													  &intent->row_estimate);
			stmt->intents = lappend(stmt->intents, intent);
		}
		frontier = next;
	}
}

void
assess_record_verdict(GuardStatement *stmt, Oid relid,
					  GuardDataVerdict verdict, int64 rows)
{
	GuardRelVerdict *entry;
	bool		found;

	if (stmt->verdicts == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(GuardRelVerdict);
		ctl.hcxt = stmt->context;
		stmt->verdicts = hash_create("guarded_ddl verdicts", 64, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(stmt->verdicts, &relid, HASH_ENTER, &found);
	entry->holds_data = verdict;
	entry->row_estimate = rows;
	if (!found)
	{
		entry->owned = false;
		entry->owner_relid = InvalidOid;
	}
}

GuardRelVerdict *
assess_lookup_verdict(GuardStatement *stmt, Oid relid)
{
	if (stmt == NULL || stmt->verdicts == NULL)
		return NULL;
	return hash_search(stmt->verdicts, &relid, HASH_FIND, NULL);
}
