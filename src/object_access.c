/*-------------------------------------------------------------------------
 *
 * object_access.c
 *	  The object_access_hook: PostgreSQL calls it with OAT_DROP for every
 *	  object just before deleting it -- named, cascaded or internal, by
 *	  whatever path (CASCADE, DROP SCHEMA, DROP OWNED, DROP EXTENSION) --
 *	  with its catalog rows still in place and the deleting command's locks
 *	  already taken.  That is the one moment every deletion can be seen:
 *
 *	  - a table, partition, materialized view or sequence gets its verdict
 *		(does it hold data?) recorded for the statement being judged, so
 *		that sql_drop decides with facts rather than predictions;
 *	  - deleting one of guarded_ddl's own objects is refused on the spot
 *		unless override() was called, even when the deletion would take the
 *		event triggers away before sql_drop could fire.
 *
 *	  Installed whenever the library is loaded (the first event trigger of
 *	  any guarded statement loads it, so the hook is in place before that
 *	  statement deletes anything).  Every other access type -- the hook is
 *	  also called for every namespace search and function call -- returns at
 *	  once.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_event_trigger.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "assess.h"
#include "catalog.h"
#include "classify.h"
#include "object_access.h"
#include "pipeline.h"
#include "settings.h"
#include "statement.h"

static object_access_hook_type prev_object_access_hook = NULL;

static void guard_object_access(ObjectAccessType access, Oid classId,
								Oid objectId, int subId, void *arg);
static bool is_own_object(const GuardCatalog *catalog,
						  const ObjectAddress *object);
static Oid	trigger_relation(Oid trigger_oid);

/* Chain in front of whatever hook was there (sepgsql and others use it). */
void
object_access_install(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = guard_object_access;
}

/*
 * OAT_DROP only.  Every object deleted is captured for the recycle bin's
 * dry run when it asks (trash.c).  Outside a statement being judged there
 * is nothing to record: deletions by commands no event trigger sees (temporary-schema
 * cleanup, REFRESH's transient heaps) are kept from touching permanent data
 * elsewhere (temp_guard.c).
 */
static void
guard_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					int subId, void *arg)
{
	GuardStatement *stmt;
	ObjectAddress object;
	GuardIntent *intent;
	MemoryContext oldcxt;

	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access != OAT_DROP)
		return;
	stmt = statement_current();
	if (stmt == NULL || stmt->preflight || guard_should_skip())
		return;

	if (classId == RelationRelationId && subId == 0)
		assess_dropped_relation(stmt, objectId);

	ObjectAddressSubSet(object, classId, objectId, subId);
	if (stmt->capturing)
	{
		oldcxt = MemoryContextSwitchTo(stmt->context);
		stmt->captured = lappend(stmt->captured,
								 memcpy(palloc(sizeof(ObjectAddress)), &object,
										sizeof(ObjectAddress)));
		MemoryContextSwitchTo(oldcxt);
	}
	if (!is_own_object(&stmt->catalog, &object))
		return;
	if (guard_override_active())
	{
		statement_end_all_at_commit();	/* its events may be going away */
		return;
	}

	/*
	 * Refused now: the ERROR aborts the deleting statement before anything
	 * of guarded_ddl is gone.  The cascade has locked the audit table, so
	 * the denial is committed right after the abort (audit_writer.c).
	 */
	stmt->guard_locked = true;
	oldcxt = MemoryContextSwitchTo(stmt->context);
	intent = classify_own_object_drop(&object);
	MemoryContextSwitchTo(oldcxt);
	pipeline_intent(stmt, intent);
}

/*
 * Whether the object is part of guarded_ddl: the extension, its schema and
 * the recycle bin's, anything in its schema (tables, indexes, sequences,
 * views, functions, types), its event triggers, triggers on its tables.
 * Syscache lookups only: this runs for every object a statement deletes.
 */
static bool
is_own_object(const GuardCatalog *catalog, const ObjectAddress *object)
{
	switch (object->classId)
	{
		case ExtensionRelationId:
			return object->objectId == catalog->extension_oid;
		case NamespaceRelationId:
			return object->objectId == catalog->schema_oid ||
				(OidIsValid(catalog->trash_schema_oid) &&
				 object->objectId == catalog->trash_schema_oid);
		case RelationRelationId:
			return get_rel_namespace(object->objectId) == catalog->schema_oid;
		case ProcedureRelationId:
			return get_func_namespace(object->objectId) == catalog->schema_oid;
		case TypeRelationId:
			{
				HeapTuple	tuple = SearchSysCache1(TYPEOID,
													ObjectIdGetDatum(object->objectId));
				bool		own = false;

				if (HeapTupleIsValid(tuple))
				{
					own = ((Form_pg_type) GETSTRUCT(tuple))->typnamespace ==
						catalog->schema_oid;
					ReleaseSysCache(tuple);
				}
				return own;
			}
		case EventTriggerRelationId:
			{
				HeapTuple	tuple = SearchSysCache1(EVENTTRIGGEROID,
													ObjectIdGetDatum(object->objectId));
				bool		own = false;

				if (HeapTupleIsValid(tuple))
				{
					own = guard_is_own_event_trigger(NameStr(((Form_pg_event_trigger) GETSTRUCT(tuple))->evtname));
					ReleaseSysCache(tuple);
				}
				return own;
			}
		case TriggerRelationId:
			return get_rel_namespace(trigger_relation(object->objectId)) ==
				catalog->schema_oid;
		default:
			return false;
	}
}

/* The table a trigger belongs to, InvalidOid if it is gone. */
static Oid
trigger_relation(Oid trigger_oid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			relid = InvalidOid;

	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(trigger_oid));
	scan = systable_beginscan(rel, TriggerOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		relid = ((Form_pg_trigger) GETSTRUCT(tuple))->tgrelid;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return relid;
}

