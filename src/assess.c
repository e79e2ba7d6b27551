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

#include "assess.h"
#include "catalog.h"
#include "probe.h"
#include "type_change.h"


static void resolve_relation_intent(GuardStatement *stmt, GuardIntent *intent);
static void assess_type_change(GuardIntent *intent, Oid relid,
							   AttrNumber attnum);
static List *assess_typed_table_columns(GuardStatement *stmt,
										const GuardIntent *type_intent);
static void check_right_callback(const RangeVar *rv, Oid relid, Oid oldrelid,
								 void *arg);

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

	if (parsetree != NULL && IsA(parsetree, TruncateStmt) &&
		((TruncateStmt *) parsetree)->behavior == DROP_CASCADE)
		assess_truncate_cascade(stmt);
	if (stmt->preflight && parsetree != NULL)
		assess_preflight_contents(stmt, parsetree);
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
		intent->operation != GUARD_OP_TRUNCATE &&
		intent->operation != GUARD_OP_DELETE_ALL)
		return;
	if (lockmode == NoLock)
		return;					/* own table: refused without a probe */
	if (stmt->preflight && !assess_may_look_at_rows(relid))
		return;					/* UNKNOWN: the caller may not know */

	if (!intent->relation->inh && relkind != RELKIND_PARTITIONED_TABLE)
	{
		/* ONLY: the children keep their rows */
		intent->holds_data = probe_relation(relid, true, &intent->row_estimate);
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
		if (!own_table && (!stmt->preflight || assess_may_look_at_rows(relid)))
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

