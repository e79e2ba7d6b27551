/*-------------------------------------------------------------------------
 *
 * trash_capture.c
 *	  What the recycle bin's dry run of a DROP deleted (trash.c runs it; the
 *	  object_access hook captures every object): the set of addresses, which
 *	  relation each object is part of, and -- once the kept tables have
 *	  moved -- the objects that would now outlive the statement only
 *	  because the kept tables did, dropped here as the statement would have
 *	  dropped them.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "assess.h"
#include "objects.h"
#include "trash.h"

static GuardIntent *matview_intent(GuardStatement *stmt, Oid relid);
static Oid	object_relation(const ObjectAddress *object);
static Oid	row_column(Oid catalog, Oid index, AttrNumber oid_att, Oid objid,
					   AttrNumber att);

/* The set of captured object addresses, for lookups (objects.c). */
HTAB *
trash_address_set(List *captured)
{
	HTAB	   *set = guard_address_set(list_length(captured));
	ListCell   *lc;

	foreach(lc, captured)
	{
		ObjectAddress *object = lfirst(lc);

		guard_address_add(set, object->classId, object->objectId,
						  object->objectSubId);
	}
	return set;
}

/*
 * After the move: run the rest of the statement once more as a dry run, and
 * drop now what would otherwise outlive it only because the kept tables
 * did -- what CASCADE would have taken with them.  False, with nothing
 * dropped, when one of those holds data no rule keeps (a table, a column of
 * another table, a sequence): the caller then undoes the move.
 */
bool
trash_drop_orphans(GuardStatement *stmt, DropStmt *rest, List *captured,
				   List *members, List **matviews)
{
	List	   *still = rest ? trash_dry_run(stmt, rest) : NIL;
	HTAB	   *taken = trash_address_set(still);
	ObjectAddresses *orphans = new_object_addresses();
	ListCell   *lc;

	foreach(lc, captured)
	{
		ObjectAddress *object = lfirst(lc);
		Oid			relid = object_relation(object);

		if (guard_address_in(taken, object->classId, object->objectId,
							 object->objectSubId) ||
			(OidIsValid(relid) && list_member_oid(members, relid)) ||
			getObjectDescription(object, true) == NULL)
			continue;
		if (object->classId == RelationRelationId)
		{
			char		relkind = get_rel_relkind(object->objectId);

			if (object->objectSubId != 0 ||
				(relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW &&
				 relkind != RELKIND_INDEX && relkind != RELKIND_PARTITIONED_INDEX &&
				 relkind != RELKIND_TOASTVALUE && relkind != RELKIND_COMPOSITE_TYPE))
			{
				free_object_addresses(orphans);
				return false;
			}
			if (relkind == RELKIND_MATVIEW)
				*matviews = lappend(*matviews, matview_intent(stmt, object->objectId));
		}
		add_exact_object_address(object, orphans);
	}
	performMultipleDeletions(orphans, DROP_CASCADE,
							 PERFORM_DELETION_INTERNAL | PERFORM_DELETION_QUIETLY);
	free_object_addresses(orphans);
	CommandCounterIncrement();
	return true;
}

/*
 * The drop intent of a relation that holds data, to be decided or decided
 * by the caller (holds_data still unknown), in CurrentMemoryContext.
 */
GuardIntent *
trash_drop_intent(Oid relid, const char *object_type)
{
	GuardIntent *intent = guard_intent_new(GUARD_OP_DROP, object_type);

	ObjectAddressSet(intent->address, RelationRelationId, relid);
	intent->object_identity = getObjectIdentity(&intent->address, false);
	intent->schema_name = get_namespace_name(get_rel_namespace(relid));
	intent->object_name = get_rel_name(relid);
	intent->data_bearing = true;
	intent->data_relid = relid;
	return intent;
}

/*
 * A materialized view that goes with the kept tables holds data too: it is
 * decided (soft_dropped: restore() builds it again from what it is made
 * of, with its data) and audited like them, in the statement's context.
 */
static GuardIntent *
matview_intent(GuardStatement *stmt, Oid relid)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(stmt->context);
	GuardIntent *intent = trash_drop_intent(relid, "materialized view");
	GuardRelVerdict *verdict = assess_lookup_verdict(stmt, relid);

	intent->cascaded = true;
	/* not probed by the dry run: it holds data until shown otherwise */
	intent->holds_data = verdict ? verdict->holds_data : GUARD_DATA_UNKNOWN;
	intent->row_estimate = verdict ? verdict->row_estimate : -1;
	intent->action = GUARD_ACTION_SOFT_DROP;
	intent->decision = GUARD_SOFT_DROPPED;
	intent->reason = pstrdup("dropped with a table kept in the recycle bin; restore() of that entry builds it again");
	MemoryContextSwitchTo(oldcxt);
	return intent;
}

/*
 * The relation an object belongs to, when it is part of one: the relation
 * itself, an index's or TOAST relation's table, an owned sequence's table,
 * a row type's relation, the table of a constraint, trigger, policy, rule,
 * default or statistics object.  InvalidOid otherwise.
 */
static Oid
object_relation(const ObjectAddress *object)
{
	switch (object->classId)
	{
		case RelationRelationId:
			{
				char		relkind = get_rel_relkind(object->objectId);
				Oid			owner;
				int32		column;

				if (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX)
					return IndexGetRelation(object->objectId, true);
				if (relkind == RELKIND_SEQUENCE &&
					(sequenceIsOwned(object->objectId, DEPENDENCY_AUTO, &owner, &column) ||
					 sequenceIsOwned(object->objectId, DEPENDENCY_INTERNAL, &owner, &column)))
					return owner;
				if (relkind == RELKIND_TOASTVALUE)
				{
					List	   *owners = trash_relations_used(RelationRelationId, object->objectId);

					return owners != NIL ? linitial_oid(owners) : InvalidOid;
				}
				return object->objectId;
			}
		case TypeRelationId:
			{
				Oid			relid = get_typ_typrelid(object->objectId);
				Oid			elem = get_element_type(object->objectId);

				if (!OidIsValid(relid) && OidIsValid(elem))
					relid = get_typ_typrelid(elem);
				return relid;
			}
		case ConstraintRelationId:
			return row_column(ConstraintRelationId, ConstraintOidIndexId,
							  Anum_pg_constraint_oid, object->objectId,
							  Anum_pg_constraint_conrelid);
		case TriggerRelationId:
			{
				/* a foreign key's triggers belong to the key's table */
				Oid			conoid = row_column(TriggerRelationId, TriggerOidIndexId,
												Anum_pg_trigger_oid, object->objectId,
												Anum_pg_trigger_tgconstraint);

				if (OidIsValid(conoid))
					return row_column(ConstraintRelationId, ConstraintOidIndexId,
									  Anum_pg_constraint_oid, conoid,
									  Anum_pg_constraint_conrelid);
				return row_column(TriggerRelationId, TriggerOidIndexId,
								  Anum_pg_trigger_oid, object->objectId,
								  Anum_pg_trigger_tgrelid);
			}
		case PolicyRelationId:
			return row_column(PolicyRelationId, PolicyOidIndexId,
							  Anum_pg_policy_oid, object->objectId,
							  Anum_pg_policy_polrelid);
		case RewriteRelationId:
			return row_column(RewriteRelationId, RewriteOidIndexId,
							  Anum_pg_rewrite_oid, object->objectId,
							  Anum_pg_rewrite_ev_class);
		case AttrDefaultRelationId:
			return row_column(AttrDefaultRelationId, AttrDefaultOidIndexId,
							  Anum_pg_attrdef_oid, object->objectId,
							  Anum_pg_attrdef_adrelid);
		case StatisticExtRelationId:
			return row_column(StatisticExtRelationId, StatisticExtOidIndexId,
							  Anum_pg_statistic_ext_oid, object->objectId,
							  Anum_pg_statistic_ext_stxrelid);
		default:
			return InvalidOid;
	}
}

/*
 * A copy of the row with this oid of a catalog without a syscache on oids
 * (found through its oid index), and the catalog's row type to read it
 * with; NULL when there is none.
 */
HeapTuple
trash_catalog_row(Oid catalog, Oid index, AttrNumber oid_att, Oid objid,
				  TupleDesc *desc)
{
	Relation	rel = table_open(catalog, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	ScanKeyInit(&key, oid_att, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(objid));
	scan = systable_beginscan(rel, index, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		tuple = heap_copytuple(tuple);
	*desc = CreateTupleDescCopy(RelationGetDescr(rel));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return tuple;
}

/* One oid column of the catalog row with this oid, or InvalidOid. */
static Oid
row_column(Oid catalog, Oid index, AttrNumber oid_att, Oid objid,
		   AttrNumber att)
{
	TupleDesc	desc;
	HeapTuple	tuple = trash_catalog_row(catalog, index, oid_att, objid, &desc);
	Oid			result = InvalidOid;

	if (tuple != NULL)
	{
		bool		isnull;
		Datum		value = heap_getattr(tuple, att, desc, &isnull);

		if (!isnull)
			result = DatumGetObjectId(value);
	}
	return result;
}

/* The relations an object depends on, whatever the kind. */
List *
trash_relations_used(Oid classid, Oid objid)
{
	List	   *used = NIL;
	ListCell   *lc;

	foreach(lc, guard_dependencies(classid, objid))
	{
		Form_pg_depend dep = lfirst(lc);

		if (dep->refclassid == RelationRelationId && dep->refobjid != objid)
			used = list_append_unique_oid(used, dep->refobjid);
	}
	return used;
}
