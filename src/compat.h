/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every difference between the PostgreSQL major versions guarded_ddl
 *	  builds against (15 to 19) is absorbed here, so the rest of the code is
 *	  written once.  Nothing outside this file tests PG_VERSION_NUM.
 *
 *	  Behaviour that differs by major (not only the API) is named here too,
 *	  as a constant the code can test without knowing version numbers.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_COMPAT_H
#define GUARDED_DDL_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "guarded_ddl needs PostgreSQL 15 or later"
#endif

#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "utils/acl.h"

/*
 * PG 19 moved get_database_oid() from commands/dbcommands.h to
 * catalog/pg_database.h.  Include this header wherever it is called.
 */
#if PG_VERSION_NUM >= 190000
#include "catalog/pg_database.h"
#else
#include "commands/dbcommands.h"
#endif

/*
 * PG 16 replaced the per-catalog owner and ACL checks (pg_class_ownercheck,
 * pg_namespace_aclcheck ...) by object_ownercheck() / object_aclcheck().
 * pg_class_aclcheck() itself survives in every major.
 */
#if PG_VERSION_NUM >= 160000
#define gd_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#define gd_namespace_ownercheck(nspid, roleid) \
	object_ownercheck(NamespaceRelationId, (nspid), (roleid))
#define gd_event_trigger_ownercheck(oid, roleid) \
	object_ownercheck(EventTriggerRelationId, (oid), (roleid))
#define gd_type_ownercheck(typid, roleid) \
	object_ownercheck(TypeRelationId, (typid), (roleid))
#define gd_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#else
#define gd_class_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#define gd_namespace_ownercheck(nspid, roleid) \
	pg_namespace_ownercheck((nspid), (roleid))
#define gd_event_trigger_ownercheck(oid, roleid) \
	pg_event_trigger_ownercheck((oid), (roleid))
#define gd_type_ownercheck(typid, roleid) pg_type_ownercheck((typid), (roleid))
#define gd_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck((nspid), (roleid), (mode))
#endif

/* PG 17 adds a flags argument to BackgroundWorkerInitializeConnectionByOid. */
#if PG_VERSION_NUM >= 170000
#define gd_bgw_connect(dboid, roleoid, flags) \
	BackgroundWorkerInitializeConnectionByOid((dboid), (roleoid), \
											  BGWORKER_BYPASS_ROLELOGINCHECK | (flags))
#else
#define gd_bgw_connect(dboid, roleoid, flags) \
	BackgroundWorkerInitializeConnectionByOid((dboid), (roleoid), (flags))
#endif

/*
 * PG 17 added the event_triggers setting: SET event_triggers = off switches
 * every event trigger off for the session (superusers only).  Its C variable
 * is declared in commands/event_trigger.h.
 */
#if PG_VERSION_NUM >= 170000
#include "commands/event_trigger.h"
#define GD_HAS_EVENT_TRIGGERS_GUC 1
#define gd_event_triggers_enabled() (event_triggers)
#else
#define GD_HAS_EVENT_TRIGGERS_GUC 0
#define gd_event_triggers_enabled() (true)
#endif

/*
 * PG 18 stores NOT NULL as pg_constraint rows: ALTER COLUMN ... DROP NOT
 * NULL and DROP COLUMN also drop a "<table>_<column>_not_null" constraint,
 * which pg_event_trigger_dropped_objects() reports as a table constraint of
 * its own.  It belongs to the column's intent; this finds it while it still
 * exists (InvalidOid before 18, and for a column without one).
 */
#if PG_VERSION_NUM >= 180000
#include "access/htup_details.h"
#include "catalog/pg_constraint.h"

static inline Oid
gd_not_null_constraint_oid(Oid relid, AttrNumber attnum)
{
	/* a palloc'd copy of the row, in the caller's memory context */
	HeapTuple	tuple = findNotNullConstraintAttnum(relid, attnum);

	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	return ((Form_pg_constraint) GETSTRUCT(tuple))->oid;
}
#else
static inline Oid
gd_not_null_constraint_oid(Oid relid, AttrNumber attnum)
{
	return InvalidOid;
}
#endif

/*
 * PG 19 moved make_new_heap() and finish_heap_swap() from
 * commands/cluster.h to commands/repack.h and gave finish_heap_swap() a
 * reindex flag (true is what earlier majors always did).
 */
#if PG_VERSION_NUM >= 190000
#include "commands/repack.h"
#define gd_finish_heap_swap(old_heap, new_heap, frozen_xid, cutoff_multi, persistence) \
	finish_heap_swap((old_heap), (new_heap), false, false, true, true, true, \
					 (frozen_xid), (cutoff_multi), (persistence))
#else
#include "commands/cluster.h"
#define gd_finish_heap_swap(old_heap, new_heap, frozen_xid, cutoff_multi, persistence) \
	finish_heap_swap((old_heap), (new_heap), false, false, true, true, \
					 (frozen_xid), (cutoff_multi), (persistence))
#endif

/*
 * The path of a permanent relation's main fork, relative to the data
 * directory: PG 16 renamed RelFileNode to RelFileLocator, PG 18 made
 * relpathperm() return a struct.  tablespace 0 is the database's default.
 */
#if PG_VERSION_NUM >= 160000
#include "storage/relfilelocator.h"
#else
#include "storage/relfilenode.h"
#endif
#include "common/relpath.h"
#include "miscadmin.h"

static inline char *
gd_main_fork_path(Oid tablespace, Oid relfilenumber)
{
#if PG_VERSION_NUM >= 160000
	RelFileLocator locator;

	locator.spcOid = OidIsValid(tablespace) ? tablespace : MyDatabaseTableSpace;
	locator.dbOid = MyDatabaseId;
	locator.relNumber = relfilenumber;
#if PG_VERSION_NUM >= 180000
	return pstrdup(relpathperm(locator, MAIN_FORKNUM).str);
#else
	return relpathperm(locator, MAIN_FORKNUM);
#endif
#else
	RelFileNode node;

	node.spcNode = OidIsValid(tablespace) ? tablespace : MyDatabaseTableSpace;
	node.dbNode = MyDatabaseId;
	node.relNode = relfilenumber;
	return relpathperm(node, MAIN_FORKNUM);
#endif
}

#endif							/* GUARDED_DDL_COMPAT_H */
