/*-------------------------------------------------------------------------
 *
 * assess_drop.c
 *	  Verdicts per relation for a whole statement.  A relation a statement
 *	  deletes gets its verdict as PostgreSQL deletes it (OAT_DROP, see
 *	  object_access.c): at sql_drop it is gone from the catalogs, and the
 *	  intents for it are decided with those verdicts -- a relation deleted
 *	  without one counts as holding data (fail closed).  Also here: the
 *	  tables TRUNCATE ... CASCADE reaches, and the contents a preflight
 *	  (check()) predicts for DROP SCHEMA, DROP OWNED and DROP EXTENSION,
 *	  since a preflight deletes nothing.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/heap.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "assess.h"
#include "objects.h"
#include "probe.h"

static bool main_fork_empty(Form_pg_class classform);
static void assess_relations_where(GuardStatement *stmt, AttrNumber attno,
								   Oid value);
static void assess_extension_members(GuardStatement *stmt, Oid extoid);
static void assess_relid_list(GuardStatement *stmt, List *relids);
static void note_sequence_owner(GuardStatement *stmt, Oid seqid);

/*
 * The verdict for a relation and, for partitioned tables and inheritance
 * parents, everything below it (a DROP takes them all).  Each relation's
 * own verdict is recorded for sql_drop.  Locks with the given mode.
 */
GuardDataVerdict
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
			verdict = probe_relation(member, true, &member_rows);
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
	List	   *relids = NIL;
	ListCell   *lc;

	/* guarded_ddl's own: refused anyway, and its tables stay unlocked */
	if (extoid == stmt->catalog.extension_oid)
		return;

	foreach(lc, guard_dependents(ExtensionRelationId, extoid))
	{
		Form_pg_depend dep = lfirst(lc);
		char		relkind;

		if (dep->deptype != DEPENDENCY_EXTENSION ||
			dep->classid != RelationRelationId)
			continue;
		relkind = get_rel_relkind(dep->objid);
		if (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW ||
			relkind == RELKIND_PARTITIONED_TABLE || relkind == RELKIND_SEQUENCE)
			relids = lappend_oid(relids, dep->objid);
	}

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
		if (!assess_may_look_at_rows(relid))
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

/* Preflight only tells about rows the caller could see anyway. */
bool
assess_may_look_at_rows(Oid relid)
{
	return gd_class_ownercheck(relid, GetUserId()) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
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
	GuardRelVerdict *verdict = assess_lookup_verdict(stmt, seqid);
	ListCell   *lc;

	if (verdict == NULL)
		return;

	/*
	 * What sequenceIsOwned() looks for, OWNED BY (auto) or identity
	 * (internal), in one read of the sequence's dependencies rather than
	 * one per kind.
	 */
	foreach(lc, guard_dependencies(RelationRelationId, seqid))
	{
		Form_pg_depend dep = lfirst(lc);

		if (dep->refclassid == RelationRelationId &&
			(dep->deptype == DEPENDENCY_AUTO ||
			 dep->deptype == DEPENDENCY_INTERNAL))
		{
			verdict->owned = true;
			verdict->owner_relid = dep->refobjid;
			break;
		}
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
	bool		empty;
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
	empty = !skip && main_fork_empty(classform);
	ReleaseSysCache(tuple);
	if (skip)
		return;
	if (empty)
	{
		assess_record_verdict(stmt, relid, GUARD_DATA_NONE, 0);
		return;
	}

	verdict = probe_relation(relid, true, &rows);
	assess_record_verdict(stmt, relid, verdict, rows);
	if (relkind == RELKIND_SEQUENCE)
		note_sequence_owner(stmt, relid);
}

/*
 * Whether a plain table or materialized view has no block at all, told by
 * the size of its main fork's file: one stat() instead of opening the
 * relation, its file and seeking to its end for each of the thousands of
 * empty tables a DROP SCHEMA may take.  A block exists on disk (at least
 * as allocated space) before any row is put in it, so size 0 means no
 * row; anything else -- or no file where one is expected -- goes to the
 * full probe.
 */
static bool
main_fork_empty(Form_pg_class classform)
{
	struct stat st;

	if ((classform->relkind != RELKIND_RELATION &&
		 classform->relkind != RELKIND_MATVIEW) ||
		classform->relpersistence != RELPERSISTENCE_PERMANENT ||
		classform->relisshared || !OidIsValid(classform->relfilenode))
		return false;
	return stat(gd_main_fork_path(classform->reltablespace,
								  classform->relfilenode), &st) == 0 &&
		st.st_size == 0;
}

/*
 * TRUNCATE ... CASCADE also empties every table that references a truncated
 * one by foreign key, transitively, as ExecuteTruncate does.  Each becomes a
 * cascaded truncate intent, locked and probed like the named ones; tables
 * the caller may not truncate are left for the command to refuse.
 */
void
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

/*
 * Remember a relation's verdict for the rest of the statement, in its
 * memory context (a later verdict for the same relation replaces it).
 */
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

/*
 * Fill in whether the objects behind intents from classify_dropped.c held
 * data: the verdict recorded as each was deleted; a relation still there
 * (the table of a dropped column, a rewritten table) is probed now, under
 * the command's lock; a relation gone without a verdict stays UNKNOWN and
 * counts as holding data.  An owned sequence belongs to its table's intent
 * and is dropped from the list -- unless the table was empty while the
 * sequence had handed out values.  Returns the intents kept.
 */
List *
assess_dropped_intents(GuardStatement *stmt, List *intents)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, intents)
	{
		GuardIntent *intent = lfirst(lc);
		GuardRelVerdict *verdict;

		if (!intent->data_bearing || !OidIsValid(intent->data_relid) ||
			intent->holds_data != GUARD_DATA_UNKNOWN)
		{
			kept = lappend(kept, intent);
			continue;
		}
		verdict = assess_lookup_verdict(stmt, intent->data_relid);
		if (verdict != NULL && verdict->owned && intent->column_name == NULL)
		{
			GuardRelVerdict *table = assess_lookup_verdict(stmt,
														   verdict->owner_relid);

			if (table == NULL || table->holds_data != GUARD_DATA_NONE ||
				verdict->holds_data == GUARD_DATA_NONE)
				continue;
		}
		if (verdict != NULL)
		{
			intent->holds_data = verdict->holds_data;
			intent->row_estimate = verdict->row_estimate;
		}
		else if (SearchSysCacheExists1(RELOID,
									   ObjectIdGetDatum(intent->data_relid)))
			intent->holds_data = probe_relation(intent->data_relid, true,
												&intent->row_estimate);
		kept = lappend(kept, intent);
	}
	return kept;
}

/*
 * Preflight (check()) of DROP SCHEMA, DROP EXTENSION and DROP OWNED: walk
 * what they would take, probing each relation under AccessShareLock, and
 * add a cascaded intent for each relation no intent names yet.  A real
 * statement never comes here: it sees each deletion where it happens.
 */
void
assess_preflight_contents(GuardStatement *stmt, Node *parsetree)
{
	HASH_SEQ_STATUS status;
	GuardRelVerdict *verdict;
	ListCell   *lc;

	if (IsA(parsetree, DropStmt))
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
	else if (IsA(parsetree, DropOwnedStmt))
	{
		foreach(lc, ((DropOwnedStmt *) parsetree)->roles)
		{
			Oid			roleid = get_rolespec_oid(lfirst(lc), true);

			if (OidIsValid(roleid))
				assess_relations_where(stmt, Anum_pg_class_relowner, roleid);
		}
	}
	else
		return;

	if (stmt->verdicts == NULL)
		return;
	hash_seq_init(&status, stmt->verdicts);
	while ((verdict = hash_seq_search(&status)) != NULL)
	{
		GuardIntent *intent;
		Oid			nsp = get_rel_namespace(verdict->relid);
		bool		named = false;

		if (verdict->owned || !OidIsValid(nsp))
			continue;
		foreach(lc, stmt->intents)
		{
			if (((GuardIntent *) lfirst(lc))->data_relid == verdict->relid)
				named = true;
		}
		if (named)
			continue;
		intent = guard_intent_new(GUARD_OP_DROP, "table");
		ObjectAddressSet(intent->address, RelationRelationId, verdict->relid);
		intent->object_type = getObjectTypeDescription(&intent->address, true);
		intent->object_identity = getObjectIdentity(&intent->address, true);
		intent->schema_name = get_namespace_name(nsp);
		intent->object_name = get_rel_name(verdict->relid);
		intent->cascaded = true;
		intent->data_bearing = true;
		intent->data_relid = verdict->relid;
		intent->holds_data = verdict->holds_data;
		intent->row_estimate = verdict->row_estimate;
		if (intent->object_type != NULL && intent->object_identity != NULL)
			stmt->intents = lappend(stmt->intents, intent);
	}
}
