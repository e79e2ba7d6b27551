/*-------------------------------------------------------------------------
 *
 * trash_dependents.c
 *	  What a DROP ... CASCADE removes along with the tables the recycle bin
 *	  keeps, recorded while it still exists: views and materialized views
 *	  (with their indexes) built on them, foreign keys of other tables
 *	  pointing at them, row security policies of other tables using them,
 *	  triggers of the kept tables whose function the statement deletes
 *	  (with that function), and the schema itself for DROP SCHEMA -- each
 *	  with its owner and rights.  Definitions are deparsed with an empty
 *	  search_path, so every name in them is schema-qualified;
 *	  trash_recreate.c keeps them in the entry and re-creates them.
 *
 *	  The tables' own parts -- indexes, constraints, triggers, policies,
 *	  rules, defaults, row types, TOAST, owned sequences, partitions -- are
 *	  not dependents: they move with their table (trash_members.c).
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "rewrite/rewriteSupport.h"
#include "commands/defrem.h"
#include "commands/policy.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "objects.h"
#include "statement.h"
#include "trash.h"


static List *needs_of(List *used, List *members, List *recorded);
static TrashDependent *view_dependent(Oid relid);
static TrashDependent *foreign_key_dependent(Oid conoid, List *members,
											 HTAB *gone);
static TrashDependent *policy_dependent(Oid policyoid, List *members,
										HTAB *gone);
static List *trigger_dependents(Oid trigoid, List *members, HTAB *gone,
								List *recorded);
static TrashDependent *function_dependent(Oid procoid, Oid relid);
static char *acl_grants(HeapTuple tuple, int cacheid, AttrNumber attnum,
						const char *keyword, const char *name, Oid owner);
static char *role_name(Oid roleid);
static Oid	rel_owner(Oid relid);

/*
 * Record, in the order they can be built again, the captured objects that
 * depend on the kept relations (members) and are no part of them.  Runs
 * before anything moves, with an empty search_path for the deparsing.
 */
List *
trash_record_dependents(List *captured, HTAB *gone, List *members)
{
	List	   *dependents = NIL;
	List	   *recorded = NIL;	/* views recorded, as relids */
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	/* captured in deletion order, dependents first: build in reverse */
	for (int i = list_length(captured) - 1; i >= 0; i--)
	{
		ObjectAddress *object = list_nth(captured, i);
		TrashDependent *dependent = NULL;

		if (object->objectSubId != 0)
			continue;
		if (object->classId == NamespaceRelationId)
		{
			HeapTuple	tuple = SearchSysCache1(NAMESPACEOID,
												ObjectIdGetDatum(object->objectId));

			if (!HeapTupleIsValid(tuple))
				continue;
			dependent = palloc0(sizeof(TrashDependent));
			dependent->kind = "schema";
			dependent->schema = pstrdup(NameStr(((Form_pg_namespace) GETSTRUCT(tuple))->nspname));
			dependent->owner = role_name(((Form_pg_namespace) GETSTRUCT(tuple))->nspowner);
			dependent->sql = psprintf("CREATE SCHEMA %s AUTHORIZATION %s%s",
									  quote_identifier(dependent->schema),
									  quote_identifier(dependent->owner),
									  acl_grants(tuple, NAMESPACEOID, Anum_pg_namespace_nspacl,
												 "SCHEMA", quote_identifier(dependent->schema),
												 ((Form_pg_namespace) GETSTRUCT(tuple))->nspowner));
			ReleaseSysCache(tuple);
			/* every entry of the statement may need its schema back */
			dependent->needs = list_copy(members);
		}
		else if (object->classId == RelationRelationId &&
				 !list_member_oid(members, object->objectId) &&
				 (get_rel_relkind(object->objectId) == RELKIND_VIEW ||
				  get_rel_relkind(object->objectId) == RELKIND_MATVIEW))
		{
			Oid			rule = get_rewrite_oid(object->objectId, "_RETURN", true);
			List	   *needs = needs_of(trash_relations_used(RewriteRelationId, rule),
										 members, recorded);

			if (needs != NIL && (dependent = view_dependent(object->objectId)) != NULL)
			{
				dependent->needs = needs;
				recorded = lappend(recorded, dependent);
			}
		}
		else if (object->classId == TriggerRelationId)
			dependents = list_concat(dependents,
									 trigger_dependents(object->objectId, members,
														gone, dependents));
		else if (object->classId == ConstraintRelationId)
			dependent = foreign_key_dependent(object->objectId, members, gone);
		else if (object->classId == PolicyRelationId)
			dependent = policy_dependent(object->objectId, members, gone);
		if (dependent != NULL)
			dependents = lappend(dependents, dependent);
	}
	AtEOXact_GUC(false, nestlevel);
	return dependents;
}

/*
 * Of the relations an object uses, the kept ones -- directly, or through a
 * view already recorded (whose own needs count).
 */
static List *
needs_of(List *used, List *members, List *recorded)
{
	List	   *needs = NIL;
	ListCell   *lc;

	foreach(lc, used)
	{
		Oid			relid = lfirst_oid(lc);
		ListCell   *rlc;

		if (list_member_oid(members, relid))
			needs = list_append_unique_oid(needs, relid);
		foreach(rlc, recorded)
		{
			TrashDependent *view = lfirst(rlc);

			if (get_relname_relid(view->table, get_namespace_oid(view->schema, true)) == relid)
				needs = list_concat_unique_oid(needs, view->needs);
		}
	}
	return needs;
}

/* CREATE [MATERIALIZED] VIEW with its options (and a matview's indexes). */
static TrashDependent *
view_dependent(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class classform;
	TrashDependent *dependent;
	StringInfoData sql;
	char	   *query;
	char	   *grants;
	int			len;
	bool		isnull;
	Datum		options;
	ListCell   *lc;

	if (!HeapTupleIsValid(tuple))
		return NULL;
	classform = (Form_pg_class) GETSTRUCT(tuple);
	dependent = palloc0(sizeof(TrashDependent));
	dependent->kind = classform->relkind == RELKIND_VIEW ? "view" : "materialized view";
	dependent->schema = get_namespace_name(classform->relnamespace);
	dependent->table = pstrdup(NameStr(classform->relname));
	dependent->owner = role_name(classform->relowner);

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE %s %s",
					 classform->relkind == RELKIND_VIEW ? "VIEW" : "MATERIALIZED VIEW",
					 quote_qualified_identifier(dependent->schema, dependent->table));
	options = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_reloptions, &isnull);
	if (!isnull)
	{
		bool		first = true;

		appendStringInfoString(&sql, " WITH (");
		foreach(lc, untransformRelOptions(options))
		{
			DefElem    *option = lfirst(lc);

			appendStringInfo(&sql, "%s%s = %s", first ? "" : ", ",
							 quote_identifier(option->defname),
							 quote_literal_cstr(defGetString(option)));
			first = false;
		}
		appendStringInfoChar(&sql, ')');
	}
	grants = acl_grants(tuple, RELOID, Anum_pg_class_relacl, "TABLE",
						quote_qualified_identifier(dependent->schema, dependent->table),
						classform->relowner);
	ReleaseSysCache(tuple);

	query = TextDatumGetCString(DirectFunctionCall1(pg_get_viewdef,
													ObjectIdGetDatum(relid)));
	len = strlen(query);
	while (len > 0 && (query[len - 1] == ';' || query[len - 1] == ' ' ||
					   query[len - 1] == '\n'))
		len--;
	appendStringInfo(&sql, " AS %.*s", len, query);
	if (dependent->kind[0] == 'm')
	{
		Relation	rel = relation_open(relid, AccessShareLock);

		appendStringInfoString(&sql, " WITH DATA");
		foreach(lc, RelationGetIndexList(rel))
			appendStringInfo(&sql, "; %s", pg_get_indexdef_string(lfirst_oid(lc)));
		relation_close(rel, AccessShareLock);
	}
	/* built by whoever restores; owned by its old owner again */
	appendStringInfo(&sql, "; ALTER %s %s OWNER TO %s%s",
					 dependent->kind[0] == 'm' ? "MATERIALIZED VIEW" : "VIEW",
					 quote_qualified_identifier(dependent->schema, dependent->table),
					 quote_identifier(dependent->owner), grants);
	dependent->sql = sql.data;
	return dependent;
}

/*
 * A foreign key of another table referencing a kept one: ALTER TABLE ...
 * ADD CONSTRAINT, as the table's owner.  Not for a table the statement
 * drops as a whole, nor for the copies PostgreSQL keeps on partitions.
 */
static TrashDependent *
foreign_key_dependent(Oid conoid, List *members, HTAB *gone)
{
	HeapTuple	tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	Form_pg_constraint con;
	TrashDependent *dependent = NULL;

	if (!HeapTupleIsValid(tuple))
		return NULL;
	con = (Form_pg_constraint) GETSTRUCT(tuple);
	if (con->contype == CONSTRAINT_FOREIGN && !OidIsValid(con->conparentid) &&
		list_member_oid(members, con->confrelid) &&
		!list_member_oid(members, con->conrelid) &&
		!guard_address_in(gone, RelationRelationId, con->conrelid, 0))
	{
		dependent = palloc0(sizeof(TrashDependent));
		dependent->kind = "foreign key";
		dependent->schema = get_namespace_name(get_rel_namespace(con->conrelid));
		dependent->table = get_rel_name(con->conrelid);
		dependent->name = pstrdup(NameStr(con->conname));
		dependent->owner = role_name(rel_owner(con->conrelid));
		dependent->sql = pg_get_constraintdef_command(conoid);
		dependent->needs = list_make1_oid(con->confrelid);
	}
	ReleaseSysCache(tuple);
	return dependent;
}

/*
 * A row security policy of another table whose expressions use a kept
 * table: CREATE POLICY, as the table's owner.
 */
static TrashDependent *
policy_dependent(Oid policyoid, List *members, HTAB *gone)
{
	TupleDesc	desc;
	HeapTuple	tuple = trash_catalog_row(PolicyRelationId, PolicyOidIndexId,
										  Anum_pg_policy_oid, policyoid, &desc);
	TrashDependent *dependent = NULL;

	if (tuple != NULL)
	{
		Form_pg_policy policy = (Form_pg_policy) GETSTRUCT(tuple);
		List	   *needs = needs_of(trash_relations_used(PolicyRelationId, policyoid),
									 members, NIL);

		if (needs != NIL && !list_member_oid(members, policy->polrelid) &&
			!guard_address_in(gone, RelationRelationId, policy->polrelid, 0))
		{
			StringInfoData sql;
			const char *command;
			bool		isnull;
			Datum		roles = heap_getattr(tuple, Anum_pg_policy_polroles,
											 desc, &isnull);
			Datum		qual = heap_getattr(tuple, Anum_pg_policy_polqual,
											desc, &isnull);
			Datum	   *role_oids;
			int			nroles;

			switch (policy->polcmd)
			{
				case 'r':
					command = "SELECT";
					break;
				case 'a':
					command = "INSERT";
					break;
				case 'w':
					command = "UPDATE";
					break;
				case 'd':
					command = "DELETE";
					break;
				default:
					command = "ALL";
					break;
			}
			dependent = palloc0(sizeof(TrashDependent));
			dependent->kind = "policy";
			dependent->schema = get_namespace_name(get_rel_namespace(policy->polrelid));
			dependent->table = get_rel_name(policy->polrelid);
			dependent->name = pstrdup(NameStr(policy->polname));
			dependent->owner = role_name(rel_owner(policy->polrelid));
			dependent->needs = needs;

			initStringInfo(&sql);
			appendStringInfo(&sql, "CREATE POLICY %s ON %s AS %s FOR %s TO ",
							 quote_identifier(dependent->name),
							 quote_qualified_identifier(dependent->schema, dependent->table),
							 policy->polpermissive ? "PERMISSIVE" : "RESTRICTIVE",
							 command);
			deconstruct_array(DatumGetArrayTypeP(roles), OIDOID, sizeof(Oid),
							  true, TYPALIGN_INT, &role_oids, NULL, &nroles);
			for (int i = 0; i < nroles; i++)
				appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "",
								 DatumGetObjectId(role_oids[i]) == ACL_ID_PUBLIC
								 ? "PUBLIC"
								 : quote_identifier(role_name(DatumGetObjectId(role_oids[i]))));
			if (!isnull)
				appendStringInfo(&sql, " USING (%s)",
								 TextDatumGetCString(DirectFunctionCall2(pg_get_expr, qual,
																		 ObjectIdGetDatum(policy->polrelid))));
			qual = heap_getattr(tuple, Anum_pg_policy_polwithcheck,
								desc, &isnull);
			if (!isnull)
				appendStringInfo(&sql, " WITH CHECK (%s)",
								 TextDatumGetCString(DirectFunctionCall2(pg_get_expr, qual,
																		 ObjectIdGetDatum(policy->polrelid))));
			dependent->sql = sql.data;
		}
	}
	return dependent;
}

/*
 * A trigger of a kept table that goes anyway because its function is
 * deleted by the statement (a function of the dropped schema): the
 * functions it needs (not recorded yet) and the trigger itself.
 */
static List *
trigger_dependents(Oid trigoid, List *members, HTAB *gone, List *recorded)
{
	TupleDesc	desc;
	HeapTuple	tuple = trash_catalog_row(TriggerRelationId, TriggerOidIndexId,
										  Anum_pg_trigger_oid, trigoid, &desc);
	List	   *result = NIL;

	if (tuple != NULL)
	{
		Form_pg_trigger trigger = (Form_pg_trigger) GETSTRUCT(tuple);

		if (!trigger->tgisinternal && list_member_oid(members, trigger->tgrelid) &&
			guard_address_in(gone, ProcedureRelationId, trigger->tgfoid, 0))
		{
			TrashDependent *dependent = function_dependent(trigger->tgfoid,
														   trigger->tgrelid);
			bool		known = false;
			ListCell   *lc;

			foreach(lc, recorded)
			{
				TrashDependent *other = lfirst(lc);

				if (strcmp(other->kind, "function") == 0 &&
					strcmp(other->table, dependent->table) == 0)
				{
					known = true;
					other->needs = list_append_unique_oid(other->needs, trigger->tgrelid);
				}
			}
			if (!known)
				result = lappend(result, dependent);

			dependent = palloc0(sizeof(TrashDependent));
			dependent->kind = "trigger";
			dependent->schema = get_namespace_name(get_rel_namespace(trigger->tgrelid));
			dependent->table = get_rel_name(trigger->tgrelid);
			dependent->name = pstrdup(NameStr(trigger->tgname));
			dependent->owner = role_name(rel_owner(trigger->tgrelid));
			dependent->sql = TextDatumGetCString(DirectFunctionCall1(pg_get_triggerdef,
																	 ObjectIdGetDatum(trigoid)));
			dependent->needs = list_make1_oid(trigger->tgrelid);
			result = lappend(result, dependent);
		}
	}
	return result;
}

/* CREATE FUNCTION as pg_get_functiondef() writes it, owned as before. */
static TrashDependent *
function_dependent(Oid procoid, Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(procoid));
	TrashDependent *dependent = palloc0(sizeof(TrashDependent));
	char	   *signature = format_procedure_qualified(procoid);

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "guarded_ddl: cache lookup failed for function %u", procoid);
	dependent->kind = "function";
	dependent->schema = get_namespace_name(((Form_pg_proc) GETSTRUCT(tuple))->pronamespace);
	dependent->table = signature;
	dependent->owner = role_name(((Form_pg_proc) GETSTRUCT(tuple))->proowner);
	dependent->sql = psprintf("%s; ALTER FUNCTION %s OWNER TO %s%s",
							  TextDatumGetCString(DirectFunctionCall1(pg_get_functiondef,
																	  ObjectIdGetDatum(procoid))),
							  signature, quote_identifier(dependent->owner),
							  acl_grants(tuple, PROCOID, Anum_pg_proc_proacl,
										 "FUNCTION", signature,
										 ((Form_pg_proc) GETSTRUCT(tuple))->proowner));
	ReleaseSysCache(tuple);
	dependent->needs = list_make1_oid(relid);
	return dependent;
}

/*
 * The rights an object's ACL gave others, as "; REVOKE ...; GRANT ..."
 * statements to append to its CREATE (nothing for the default rights,
 * which come with the new object; the owner's own rights come with
 * ownership).  Granted by whoever restores, as pg_dump's are.
 */
static char *
acl_grants(HeapTuple tuple, int cacheid, AttrNumber attnum,
		   const char *keyword, const char *name, Oid owner)
{
	MemoryContext callcxt = CurrentMemoryContext;
	Oid			argtypes[4] = {ACLITEMARRAYOID, TEXTOID, TEXTOID, OIDOID};
	Datum		args[4];
	bool		isnull;
	char	   *grants;

	args[0] = SysCacheGetAttr(cacheid, tuple, attnum, &isnull);
	if (isnull)
		return "";
	args[1] = CStringGetTextDatum(keyword);
	args[2] = CStringGetTextDatum(name);
	args[3] = ObjectIdGetDatum(owner);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "guarded_ddl: SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.format('; REVOKE ALL ON %s %s FROM PUBLIC', $2, $3)"
							  "    OPERATOR(pg_catalog.||) coalesce(pg_catalog.string_agg("
							  "        pg_catalog.format('; GRANT %s ON %s %s TO %s%s',"
							  "            a.privilege_type, $2, $3,"
							  "            CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
							  "                 ELSE pg_catalog.quote_ident(r.rolname) END,"
							  "            CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END),"
							  "        ''), '')"
							  "  FROM pg_catalog.aclexplode($1) AS a"
							  "  LEFT JOIN pg_catalog.pg_roles AS r"
							  "    ON r.oid OPERATOR(pg_catalog.=) a.grantee"
							  " WHERE a.grantee OPERATOR(pg_catalog.<>) $4",
							  4, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "guarded_ddl: could not read the rights on %s", name);
	grants = MemoryContextStrdup(callcxt,
								 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return grants;
}

static char *
role_name(Oid roleid)
{
	return GetUserNameFromId(roleid, false);
}

/* The owner of a relation. */
static Oid
rel_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "guarded_ddl: cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}
