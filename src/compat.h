/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every difference between the PostgreSQL major versions guarded_ddl
 *	  builds against (14-17) is absorbed here, so the rest of the code is
 *	  written once against the PostgreSQL 15 API.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_COMPAT_H
#define GUARDED_DDL_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 140000
#error "guarded_ddl needs PostgreSQL 14 or later"
#endif

#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "utils/acl.h"

/* PG 16 replaced the per-catalog owner checks by object_ownercheck(). */
#if PG_VERSION_NUM >= 160000
#define gd_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#define gd_namespace_ownercheck(nspid, roleid) \
	object_ownercheck(NamespaceRelationId, (nspid), (roleid))
#define gd_event_trigger_ownercheck(oid, roleid) \
	object_ownercheck(EventTriggerRelationId, (oid), (roleid))
#define gd_type_ownercheck(typid, roleid) \
	object_ownercheck(TypeRelationId, (typid), (roleid))
#else
#define gd_type_ownercheck(typid, roleid) pg_type_ownercheck((typid), (roleid))
#define gd_class_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#define gd_namespace_ownercheck(nspid, roleid) \
	pg_namespace_ownercheck((nspid), (roleid))
#define gd_event_trigger_ownercheck(oid, roleid) \
	pg_event_trigger_ownercheck((oid), (roleid))
#endif

/* PG 15 reserves a GUC prefix; 14 only warns about placeholders. */
#if PG_VERSION_NUM >= 150000
#define gd_reserve_guc_prefix(prefix) MarkGUCPrefixReserved(prefix)
#else
#define gd_reserve_guc_prefix(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* PG 17 widened bgw_library_name; always copy with sizeof. */

/* PG 17 adds a flags argument to BackgroundWorkerInitializeConnectionByOid. */
#if PG_VERSION_NUM >= 170000
#define gd_bgw_connect(dboid, roleoid) \
	BackgroundWorkerInitializeConnectionByOid((dboid), (roleoid), \
											  BGWORKER_BYPASS_ROLELOGINCHECK)
#else
#define gd_bgw_connect(dboid, roleoid) \
	BackgroundWorkerInitializeConnectionByOid((dboid), (roleoid), 0)
#endif

/* PG 14 has Value nodes where 15 has String; strVal() reads both. */

/* process_shared_preload_libraries_done exists from PG 15 on. */
#if PG_VERSION_NUM < 150000
#define GD_NO_PRELOAD_DONE_FLAG 1
#endif

#endif							/* GUARDED_DDL_COMPAT_H */
