/*-------------------------------------------------------------------------
 *
 * trash_recreate.c
 *	  The recorded form of what DROP ... CASCADE removed with kept tables
 *	  (trash_dependents.c records it): written into the entry as a jsonb
 *	  array in build order, read back by restore(), which creates what is
 *	  not there yet -- the schema first, as the caller, then each object,
 *	  as the caller when it may act as the object's old owner, owned by
 *	  that owner again.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "commands/policy.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "trash.h"

static List *read_dependents(const char *recreate);
static bool dependent_exists(const TrashDependent *dependent);
static void run_as(const TrashDependent *dependent, Oid roleid);

/*
 * The dependents an entry needs back: those using its table (or one of its
 * partitions), as a jsonb array text in build order; *count says how many
 * objects (the schema not counted).  NULL when there are none.
 */
char *
trash_dependents_json(List *dependents, List *entry_members, int *count)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		any = false;

	*count = 0;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, dependents)
	{
		TrashDependent *dependent = lfirst(lc);
		ListCell   *nlc;
		bool		needed = false;

		foreach(nlc, dependent->needs)
		{
			if (list_member_oid(entry_members, lfirst_oid(nlc)))
				needed = true;
		}
		if (!needed)
			continue;
		appendStringInfoString(&buf, any ? ", {\"kind\": " : "{\"kind\": ");
		escape_json(&buf, dependent->kind);
		appendStringInfoString(&buf, ", \"schema\": ");
		escape_json(&buf, dependent->schema);
		appendStringInfoString(&buf, ", \"table\": ");
		if (dependent->table)
			escape_json(&buf, dependent->table);
		else
			appendStringInfoString(&buf, "null");
		appendStringInfoString(&buf, ", \"name\": ");
		if (dependent->name)
			escape_json(&buf, dependent->name);
		else
			appendStringInfoString(&buf, "null");
		appendStringInfoString(&buf, ", \"owner\": ");
		escape_json(&buf, dependent->owner);
		appendStringInfoString(&buf, ", \"sql\": ");
		escape_json(&buf, dependent->sql);
		appendStringInfoChar(&buf, '}');
		any = true;
		if (strcmp(dependent->kind, "schema") != 0)
			(*count)++;
	}
	appendStringInfoChar(&buf, ']');
	return any ? buf.data : NULL;
}

/*
 * restore(), when the original schema is gone: create it again if the
 * entry recorded it (DROP SCHEMA), as the role that owned it.  Returns
 * whether it did.
 */
bool
trash_recreate_schema(const char *recreate, const char *schema)
{
	ListCell   *lc;

	if (recreate == NULL)
		return false;
	foreach(lc, read_dependents(recreate))
	{
		TrashDependent *dependent = lfirst(lc);

		/*
		 * As the caller, who needs the right to create schemas in the
		 * database and to act as the old owner (PostgreSQL checks both).
		 */
		if (strcmp(dependent->kind, "schema") == 0 &&
			strcmp(dependent->schema, schema) == 0)
		{
			run_as(dependent, GetUserId());
			return true;
		}
	}
	return false;
}

/*
 * restore(), once the table is back: re-create, in order, what the entry
 * recorded and is not there yet.  Each runs as the role that owned it --
 * only when the caller has that role's privileges -- in a subtransaction of
 * its own: what cannot be built (a view that also needs a table still in
 * the bin, a role gone) is reported and skipped; restoring the other
 * entries later builds it then.
 */
void
trash_recreate_dependents(const char *recreate)
{
	ListCell   *lc;

	if (recreate == NULL)
		return;
	foreach(lc, read_dependents(recreate))
	{
		TrashDependent *dependent = lfirst(lc);
		Oid			owner;
		MemoryContext oldcxt = CurrentMemoryContext;
		ResourceOwner oldowner = CurrentResourceOwner;
		const char *volatile what;

		if (strcmp(dependent->kind, "schema") == 0 || dependent_exists(dependent))
			continue;
		if (strcmp(dependent->kind, "function") == 0)
			what = psprintf("function %s", dependent->table);
		else if (dependent->name)
			what = psprintf("%s %s on %s", dependent->kind, quote_identifier(dependent->name),
							quote_qualified_identifier(dependent->schema, dependent->table));
		else
			what = psprintf("%s %s", dependent->kind,
							quote_qualified_identifier(dependent->schema, dependent->table));
		/* built by the caller, who must be able to act as the old owner */
		owner = get_role_oid(dependent->owner, true);
		if (!OidIsValid(owner) || !has_privs_of_role(GetUserId(), owner))
		{
			ereport(NOTICE,
					(errmsg("%s is not re-created: it belonged to role \"%s\"",
							what, dependent->owner),
					 errhint("A member of that role can restore the entry again, or create it by hand: %s",
							 dependent->sql)));
			continue;
		}
		BeginInternalSubTransaction(NULL);
		PG_TRY();
		{
			run_as(dependent, GetUserId());
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
			ereport(NOTICE, (errmsg("%s was re-created", what)));
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(oldcxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
			ereport(NOTICE,
					(errmsg("%s is not re-created: %s", what, edata->message),
					 errhint("If it needs a table still in the recycle bin, restoring that entry re-creates it.")));
			FreeErrorData(edata);
		}
		PG_END_TRY();
	}
}

/* The recorded dependents of an entry, from its jsonb text, in order. */
static List *
read_dependents(const char *recreate)
{
	MemoryContext callcxt = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	List	   *dependents = NIL;
	int			ret;

	args[0] = CStringGetTextDatum(recreate);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "guarded_ddl: SPI_connect failed");
	ret = SPI_execute_with_args("SELECT d.value OPERATOR(pg_catalog.->>) 'kind',"
								"       d.value OPERATOR(pg_catalog.->>) 'schema',"
								"       d.value OPERATOR(pg_catalog.->>) 'table',"
								"       d.value OPERATOR(pg_catalog.->>) 'name',"
								"       d.value OPERATOR(pg_catalog.->>) 'owner',"
								"       d.value OPERATOR(pg_catalog.->>) 'sql'"
								"  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb)"
								"       WITH ORDINALITY AS d (value, n)"
								" ORDER BY d.n",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "guarded_ddl: could not read what the entry re-creates");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext spicxt = MemoryContextSwitchTo(callcxt);
		TrashDependent *dependent = palloc0(sizeof(TrashDependent));
		char	   *kind = SPI_getvalue(tuple, desc, 1);

		dependent->kind = kind ? kind : "";
		dependent->schema = SPI_getvalue(tuple, desc, 2);
		dependent->table = SPI_getvalue(tuple, desc, 3);
		dependent->name = SPI_getvalue(tuple, desc, 4);
		dependent->owner = SPI_getvalue(tuple, desc, 5);
		dependent->sql = SPI_getvalue(tuple, desc, 6);
		if (dependent->schema && dependent->owner && dependent->sql &&
			(dependent->table || strcmp(dependent->kind, "schema") == 0))
			dependents = lappend(dependents, dependent);
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();
	return dependents;
}

/* Whether the object is there already (built by an earlier restore). */
static bool
dependent_exists(const TrashDependent *dependent)
{
	Oid			nsp = get_namespace_oid(dependent->schema, true);
	Oid			relid;

	if (strcmp(dependent->kind, "function") == 0)
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		args[1];
		bool		isnull;
		bool		exists;

		/* "schema.name(types)": the schema may be gone, then so is it */
		if (!OidIsValid(nsp))
			return false;
		args[0] = CStringGetTextDatum(dependent->table);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "guarded_ddl: SPI_connect failed");
		if (SPI_execute_with_args("SELECT pg_catalog.to_regprocedure($1) IS NOT NULL",
								  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "guarded_ddl: could not look up function %s", dependent->table);
		exists = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1, &isnull));
		SPI_finish();
		return exists;
	}
	relid = OidIsValid(nsp) ? get_relname_relid(dependent->table, nsp) : InvalidOid;
	if (!OidIsValid(relid))
		return false;
	if (strcmp(dependent->kind, "trigger") == 0)
		return OidIsValid(get_trigger_oid(relid, dependent->name, true));
	if (strcmp(dependent->kind, "foreign key") == 0)
		return OidIsValid(get_relation_constraint_oid(relid, dependent->name, true));
	if (strcmp(dependent->kind, "policy") == 0)
		return OidIsValid(get_relation_policy_oid(relid, dependent->name, true));
	return true;
}

/*
 * Run the recorded statement as a role -- the one that owned the object,
 * so that it owns it again -- with only pg_catalog on the search_path: the
 * statement names everything with its schema.
 */
static void
run_as(const TrashDependent *dependent, Oid roleid)
{
	Oid			saved_user;
	int			saved_sec;
	int			nestlevel;
	int			ret;

	GetUserIdAndSecContext(&saved_user, &saved_sec);
	SetUserIdAndSecContext(roleid, saved_sec | SECURITY_LOCAL_USERID_CHANGE);
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "guarded_ddl: SPI_connect failed");
	ret = SPI_execute(dependent->sql, false, 0);
	if (ret < 0)
		elog(ERROR, "guarded_ddl: could not run \"%s\": %s", dependent->sql,
			 SPI_result_code_string(ret));
	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
	SetUserIdAndSecContext(saved_user, saved_sec);
	CommandCounterIncrement();
}
