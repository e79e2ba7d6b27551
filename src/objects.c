/*-------------------------------------------------------------------------
 *
 * objects.c
 *	  Small readers of PostgreSQL's own catalogs that several stages share.
 *
 *	  An address set answers "is this object among those?" in constant
 *	  time: a statement may name, delete or capture thousands of objects,
 *	  and every one of them is looked up.  guard_dependencies() reads what
 *	  an object depends on.
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
#include "catalog/objectaddress.h"
#include "catalog/pg_depend.h"
#include "utils/fmgroids.h"

#include "objects.h"

/* An empty set of object addresses in CurrentMemoryContext. */
HTAB *
guard_address_set(long nelem)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(ObjectAddress);
	ctl.entrysize = sizeof(ObjectAddress);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create("guarded_ddl object addresses", Max(nelem, 16), &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* The key of an address: zeroed first, it is hashed as bytes. */
static ObjectAddress
address_key(Oid classid, Oid objid, int32 subid)
{
	ObjectAddress key;

	memset(&key, 0, sizeof(key));
	key.classId = classid;
	key.objectId = objid;
	key.objectSubId = subid;
	return key;
}

/* Add the object (subId 0: the whole object) to the set. */
void
guard_address_add(HTAB *set, Oid classid, Oid objid, int32 subid)
{
	ObjectAddress key = address_key(classid, objid, subid);

	(void) hash_search(set, &key, HASH_ENTER, NULL);
}

/* Whether the object (subId 0: the whole object) is in the set. */
bool
guard_address_in(HTAB *set, Oid classid, Oid objid, int32 subid)
{
	ObjectAddress key = address_key(classid, objid, subid);

	return hash_search(set, &key, HASH_FIND, NULL) != NULL;
}

/*
 * The pg_depend rows whose (class, object) pair -- depender or referenced,
 * after the index -- is (classid, objid), as palloc'd FormData_pg_depend
 * copies.
 */
static List *
depend_rows(Oid index, AttrNumber class_att, AttrNumber obj_att,
			Oid classid, Oid objid)
{
	Relation	depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *rows = NIL;

	ScanKeyInit(&keys[0], class_att, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(classid));
	ScanKeyInit(&keys[1], obj_att, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(objid));
	scan = systable_beginscan(depend, index, true, NULL, 2, keys);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		rows = lappend(rows, memcpy(palloc(sizeof(FormData_pg_depend)),
									GETSTRUCT(tuple), sizeof(FormData_pg_depend)));
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
	return rows;
}

/* What an object depends on (whole objects and columns alike). */
List *
guard_dependencies(Oid classid, Oid objid)
{
	return depend_rows(DependDependerIndexId, Anum_pg_depend_classid,
					   Anum_pg_depend_objid, classid, objid);
}

/* What depends on an object (on it as a whole or on one of its columns). */
List *
guard_dependents(Oid refclassid, Oid refobjid)
{
	return depend_rows(DependReferenceIndexId, Anum_pg_depend_refclassid,
					   Anum_pg_depend_refobjid, refclassid, refobjid);
}
