/*-------------------------------------------------------------------------
 *
 * trash_members.c
 *	  Which tables a DROP can keep in the recycle bin, and what moves with
 *	  each: its partitions, the sequences its defaults use, its indexes and
 *	  owned sequences under names unique in the bin (trash.c decides, this
 *	  file does the moving).
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
#include "commands/tablecmds.h"
#include "mb/pg_wchar.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "objects.h"
#include "trash.h"

static char *trash_unique_name(const char *name, Oid relid);

/*
 * The relations that move when this table is soft-dropped: the table, and
 * for a partitioned table every partition below it.  NIL when it cannot be
 * moved: not a plain or partitioned permanent table of its own (a
 * partition alone, an inheritance tree, a temporary table, a table of an
 * extension or of guarded_ddl), or a partitioned table with a partition in
 * another schema, of another kind, or that the statement would not drop.
 */
List *
trash_table_members(const GuardStatement *stmt, Oid relid, HTAB *gone)
{
	List	   *tree;
	ListCell   *lc;

	if (get_rel_relkind(relid) == RELKIND_RELATION)
	{
		if (has_subclass(relid) || has_superclass(relid))
			return NIL;
		tree = list_make1_oid(relid);
	}
	else if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		tree = find_all_inheritors(relid, NoLock, NULL);
	else
		return NIL;

	foreach(lc, tree)
	{
		Oid			member = lfirst_oid(lc);
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(member));
		Form_pg_class classform;
		bool		movable;

		if (!HeapTupleIsValid(tuple))
			return NIL;
		classform = (Form_pg_class) GETSTRUCT(tuple);
		movable = (classform->relkind == RELKIND_RELATION ||
				   classform->relkind == RELKIND_PARTITIONED_TABLE) &&
			classform->relpersistence == RELPERSISTENCE_PERMANENT &&
			classform->relispartition == (member != relid) &&
			classform->relnamespace == get_rel_namespace(relid) &&
			classform->relnamespace != stmt->catalog.schema_oid &&
			classform->relnamespace != stmt->catalog.trash_schema_oid &&
			guard_address_in(gone, RelationRelationId, member, 0);
		ReleaseSysCache(tuple);
		if (!movable ||
			OidIsValid(getExtensionOfObject(RelationRelationId, member)))
			return NIL;
	}
	return tree;
}

/*
 * Whether the table (or one of its partitions, or a column of them) itself
 * depends on something else the statement deletes -- the type or collation
 * of a column, the type of a typed table.  Deleting that after the move
 * would take the column, or the table, out of the bin: such a table is
 * dropped for real under the normal rules instead.  Constraints, defaults
 * and indexes that use a function the statement deletes only lose that
 * part (the sequences of defaults move with the table).
 */
bool
trash_uses_what_goes(HTAB *gone, List *members)
{
	ListCell   *lc;

	foreach(lc, members)
	{
		ListCell   *dlc;

		foreach(dlc, guard_dependencies(RelationRelationId, lfirst_oid(lc)))
		{
			Form_pg_depend dep = lfirst(dlc);

			/* its schema: the table moves out of it */
			if (dep->deptype != DEPENDENCY_NORMAL ||
				dep->refclassid == NamespaceRelationId)
				continue;
			if (dep->refclassid == RelationRelationId &&
				list_member_oid(members, dep->refobjid))
				continue;
			if (guard_address_in(gone, dep->refclassid, dep->refobjid, 0))
				return true;
		}
	}
	return false;
}

/*
 * Sequences the statement deletes that a column default of the table uses
 * without the table owning them (owned ones move with their table anyway):
 * they move along, so the defaults keep working after restore().
 */
List *
trash_default_sequences(List *tree, HTAB *gone)
{
	Relation	attrdef = table_open(AttrDefaultRelationId, AccessShareLock);
	List	   *sequences = NIL;
	ListCell   *lc;

	foreach(lc, tree)
	{
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tuple;

		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_SEQUENCE)
			continue;
		ScanKeyInit(&key, Anum_pg_attrdef_adrelid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(lfirst_oid(lc)));
		scan = systable_beginscan(attrdef, AttrDefaultIndexId, true, NULL, 1, &key);
		while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		{
			Oid			defoid = ((Form_pg_attrdef) GETSTRUCT(tuple))->oid;
			ListCell   *dlc;

			foreach(dlc, guard_dependencies(AttrDefaultRelationId, defoid))
			{
				Form_pg_depend dep = lfirst(dlc);
				Oid			owner;
				int32		column;

				if (dep->refclassid != RelationRelationId ||
					get_rel_relkind(dep->refobjid) != RELKIND_SEQUENCE ||
					!guard_address_in(gone, RelationRelationId, dep->refobjid, 0) ||
					sequenceIsOwned(dep->refobjid, DEPENDENCY_AUTO, &owner, &column) ||
					sequenceIsOwned(dep->refobjid, DEPENDENCY_INTERNAL, &owner, &column))
					continue;
				sequences = list_append_unique_oid(sequences, dep->refobjid);
			}
		}
		systable_endscan(scan);
	}
	table_close(attrdef, AccessShareLock);
	return sequences;
}

/*
 * Rename the table, its indexes and owned sequences -- and the extra
 * relations moving with it (partitions, sequences of defaults) with their
 * indexes -- to names unique in the trash (suffix _gd<oid>), then move them
 * all there.  Internal calls: no event trigger sees the move, no privilege
 * on the trash schema is needed -- the caller's right to drop was checked
 * by the dry run.  Returns the renames for restore().
 */
List *
trash_move_to_trash(Oid relid, List *extra, Oid trash_nsp, char **trash_name)
{
	List	   *parts = NIL;
	List	   *renames = NIL;
	Relation	rel;
	ListCell   *lc;

	rel = relation_open(relid, NoLock);
	parts = list_concat(RelationGetIndexList(rel), getOwnedSequences(relid));
	relation_close(rel, NoLock);
	foreach(lc, extra)
	{
		Oid			partid = lfirst_oid(lc);

		if (partid == relid)
			continue;
		parts = lappend_oid(parts, partid);
		if (get_rel_relkind(partid) != RELKIND_SEQUENCE)
		{
			rel = relation_open(partid, NoLock);
			parts = list_concat(parts, RelationGetIndexList(rel));
			relation_close(rel, NoLock);
		}
	}

	foreach(lc, parts)
	{
		Oid			partid = lfirst_oid(lc);
		TrashRename *rename = palloc(sizeof(TrashRename));

		rename->from = get_rel_name(partid);
		/* each part's own oid: two long names cut alike still differ */
		rename->to = trash_unique_name(rename->from, partid);
		RenameRelationInternal(partid, rename->to, true,
							   get_rel_relkind(partid) == RELKIND_INDEX ||
							   get_rel_relkind(partid) == RELKIND_PARTITIONED_INDEX);
		CommandCounterIncrement();
		renames = lappend(renames, rename);
	}

	*trash_name = trash_unique_name(get_rel_name(relid), relid);
	RenameRelationInternal(relid, *trash_name, true, false);
	CommandCounterIncrement();

	trash_move_relation(relid, trash_nsp);
	foreach(lc, extra)
	{
		if (lfirst_oid(lc) != relid &&
			get_rel_namespace(lfirst_oid(lc)) != trash_nsp)
			trash_move_relation(lfirst_oid(lc), trash_nsp);
	}
	return renames;
}

/* Move a relation with its indexes, owned sequences and row type. */
void
trash_move_relation(Oid relid, Oid nsp)
{
	Relation	rel = relation_open(relid, NoLock);
	ObjectAddresses *moved = new_object_addresses();

	AlterTableNamespaceInternal(rel, RelationGetNamespace(rel), nsp, moved);
	free_object_addresses(moved);
	relation_close(rel, NoLock);
	CommandCounterIncrement();
}

/*
 * name + "_gd<oid>", cut (on a character boundary) to fit NAMEDATALEN.  The
 * oid belongs to the object renamed, so the result is unique in the trash.
 */
static char *
trash_unique_name(const char *name, Oid relid)
{
	char		suffix[16];
	int			room;
	int			len;

	snprintf(suffix, sizeof(suffix), "_gd%u", relid);
	room = NAMEDATALEN - 1 - (int) strlen(suffix);
	len = pg_mbcliplen(name, strlen(name), room);
	return psprintf("%.*s%s", len, name, suffix);
}

/*
 * "<base>_gd<tag><n>", cut on a character boundary to fit NAMEDATALEN, with
 * the smallest n free in the trash schema: names of the relations that
 * keep a column's values (tag "") or a TRUNCATE's rows (tag "t").  A
 * dropped table's name ends in "_gd<its oid>" instead (trash_unique_name).
 */
char *
trash_free_name(const char *base, const char *tag, Oid trash_nsp)
{
	for (int n = 1;; n++)
	{
		char		suffix[32];
		int			len;
		char	   *name;

		snprintf(suffix, sizeof(suffix), "_gd%s%d", tag, n);
		len = pg_mbcliplen(base, strlen(base),
						   NAMEDATALEN - 1 - (int) strlen(suffix));
		name = psprintf("%.*s%s", len, base, suffix);
		if (!OidIsValid(get_relname_relid(name, trash_nsp)))
			return name;
	}
}
