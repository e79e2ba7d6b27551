/*-------------------------------------------------------------------------
 *
 * temp_guard.c
 *	  A permanent table never depends on a temporary object.
 *
 *	  When a session ends (or runs DISCARD TEMP), PostgreSQL drops its
 *	  temporary schema with CASCADE, outside any event trigger and with no
 *	  way to refuse: a permanent table made to depend on a temporary type
 *	  (ALTER TABLE ... OF pg_temp.t, a column of a temporary type or domain)
 *	  or function (a default or generated column calling it) would lose the
 *	  column -- or the whole table -- with nobody asked.  So the dependency
 *	  is refused when it is made, at ddl_command_end of the command that
 *	  made it, while its transaction can still be rolled back.
 *
 *	  PostgreSQL itself already turns views over temporary tables into
 *	  temporary views and refuses permanent children of temporary tables.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "objects.h"
#include "settings.h"
#include "temp_guard.h"

static Oid	relation_of(Node *parsetree);
static Oid	domain_of(Node *parsetree);
static void check_dependencies_of(const ObjectAddress *dependent,
								  const ObjectAddress *shown_as);
static void check_column_defaults(Oid relid);
static char *temp_identity(const ObjectAddress *object);

/*
 * Refuse the command if the permanent relation or domain it created or
 * altered now depends on a temporary object.  Called at ddl_command_end;
 * ERROR in enforce mode, WARNING in warn mode.
 */
void
temp_guard_check(Node *parsetree)
{
	ObjectAddress object;
	Oid			relid = relation_of(parsetree);
	Oid			typid = InvalidOid;

	if (OidIsValid(relid))
	{
		if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
			return;
		ObjectAddressSet(object, RelationRelationId, relid);
		check_dependencies_of(&object, &object);
		check_column_defaults(relid);
		return;
	}

	typid = domain_of(parsetree);
	if (OidIsValid(typid))
	{
		ObjectAddressSet(object, TypeRelationId, typid);
		if (!isAnyTempNamespace(get_object_namespace(&object)))
			check_dependencies_of(&object, &object);
	}
}

/*
 * The relation a command creates or alters (tables, materialized views,
 * foreign tables, composite types), InvalidOid for every other command.
 * It exists and is locked by the command that just ran.
 */
static Oid
relation_of(Node *parsetree)
{
	RangeVar   *rv = NULL;

	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
			rv = ((CreateStmt *) parsetree)->relation;
			break;
		case T_CreateForeignTableStmt:
			rv = ((CreateForeignTableStmt *) parsetree)->base.relation;
			break;
		case T_AlterTableStmt:
			rv = ((AlterTableStmt *) parsetree)->relation;
			break;
		case T_CreateTableAsStmt:
			rv = ((CreateTableAsStmt *) parsetree)->into->rel;
			break;
		case T_CompositeTypeStmt:
			rv = ((CompositeTypeStmt *) parsetree)->typevar;
			break;
		default:
			return InvalidOid;
	}
	return rv ? RangeVarGetRelid(rv, NoLock, true) : InvalidOid;
}

/* The domain CREATE DOMAIN or ALTER DOMAIN names, InvalidOid otherwise. */
static Oid
domain_of(Node *parsetree)
{
	List	   *names;

	switch (nodeTag(parsetree))
	{
		case T_CreateDomainStmt:
			names = ((CreateDomainStmt *) parsetree)->domainname;
			break;
		case T_AlterDomainStmt:
			names = ((AlterDomainStmt *) parsetree)->typeName;
			break;
		default:
			return InvalidOid;
	}
	return typenameTypeId(NULL, makeTypeNameFromNameList(names));
}

/*
 * Every object the dependent one (or any of its columns) depends on must be
 * permanent.  shown_as is what the error names (the table for a default).
 */
static void
check_dependencies_of(const ObjectAddress *dependent,
					  const ObjectAddress *shown_as)
{
	ListCell   *lc;

	foreach(lc, guard_dependencies(dependent->classId, dependent->objectId))
	{
		Form_pg_depend dep = lfirst(lc);
		ObjectAddress referenced;
		Oid			nsp;

		if (dep->deptype != DEPENDENCY_NORMAL && dep->deptype != DEPENDENCY_AUTO)
			continue;
		ObjectAddressSet(referenced, dep->refclassid, dep->refobjid);
		nsp = get_object_namespace(&referenced);
		if (!OidIsValid(nsp) || !isAnyTempNamespace(nsp))
			continue;

		ereport(guard_mode == GUARD_MODE_WARN ? WARNING : ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("permanent %s %s cannot depend on temporary %s %s",
						getObjectTypeDescription(shown_as, false),
						getObjectIdentity(shown_as, false),
						getObjectTypeDescription(&referenced, false),
						temp_identity(&referenced)),
				 errdetail("When the session ends, PostgreSQL drops its temporary objects with everything that depends on them, so the data of %s would go with %s.",
						   getObjectIdentity(shown_as, false),
						   temp_identity(&referenced)),
				 errhint("Use a permanent type or function, or make the table temporary too.")));
	}
}

/*
 * Column defaults and generated columns are pg_attrdef rows that depend on
 * the functions they call, not the table itself.
 */
static void
check_column_defaults(Oid relid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	ObjectAddress table;

	ObjectAddressSet(table, RelationRelationId, relid);
	rel = table_open(AttrDefaultRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_attrdef_adrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, AttrDefaultIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		ObjectAddress def;

		ObjectAddressSet(def, AttrDefaultRelationId,
						 ((Form_pg_attrdef) GETSTRUCT(tuple))->oid);
		check_dependencies_of(&def, &table);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * A temporary object's identity as the user wrote it: "pg_temp.f()" rather
 * than the backend-numbered "pg_temp_7.f()".  Palloc'd.
 */
static char *
temp_identity(const ObjectAddress *object)
{
	char	   *identity = getObjectIdentity(object, false);
	const char *p = identity;

	if (strncmp(p, "pg_temp_", 8) != 0)
		return identity;
	for (p += 8; *p >= '0' && *p <= '9'; p++)
		;
	return *p == '.' ? psprintf("pg_temp%s", p) : identity;
}
