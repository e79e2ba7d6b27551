/*-------------------------------------------------------------------------
 *
 * objects.h
 *	  Small readers of PostgreSQL's own catalogs that several stages share:
 *	  a set of object addresses, the dependencies of an object and its
 *	  dependents.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_OBJECTS_H
#define GUARDED_DDL_OBJECTS_H

#include "nodes/pg_list.h"
#include "utils/hsearch.h"

extern HTAB *guard_address_set(long nelem);
extern void guard_address_add(HTAB *set, Oid classid, Oid objid, int32 subid);
extern bool guard_address_in(HTAB *set, Oid classid, Oid objid, int32 subid);
extern List *guard_dependencies(Oid classid, Oid objid);
extern List *guard_dependents(Oid refclassid, Oid refobjid);

#endif							/* GUARDED_DDL_OBJECTS_H */
