/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Finds guarded_ddl's own objects in the current database -- by schema
 *	  and name through the catalogs, never through search_path -- and runs
 *	  SQL as the extension owner so that the roles the guard watches need
 *	  no rights on its tables.  Also the shape of the library's background
 *	  workers and name[] values, which several rooms build.
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
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "catalog.h"
#include "settings.h"

/*
 * Fill *catalog for the current database.  Returns false when guarded_ddl is
 * not installed here (the library can be preloaded in every database) or is
 * only half there (being created or dropped).  Costs one index probe of
 * pg_extension and a few syscache lookups.
 */
bool
guard_catalog_lookup(GuardCatalog *catalog)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;

	memset(catalog, 0, sizeof(*catalog));

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(GUARD_EXTENSION_NAME));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_extension ext = (Form_pg_extension) GETSTRUCT(tuple);

		catalog->extension_oid = ext->oid;
		catalog->owner = ext->extowner;
		catalog->schema_oid = ext->extnamespace;
		found = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!found)
		return false;

	catalog->trash_schema_oid = get_namespace_oid(GUARD_TRASH_SCHEMA_NAME, true);
	catalog->policy_relid = get_relname_relid("policy", catalog->schema_oid);
	catalog->backups_relid = get_relname_relid("backups", catalog->schema_oid);
	catalog->audit_relid = get_relname_relid("audit", catalog->schema_oid);

	return OidIsValid(catalog->policy_relid) &&
		OidIsValid(catalog->backups_relid) &&
		OidIsValid(catalog->audit_relid);
}

/*
 * True when the guard must stand aside: switched off, binary upgrade, or
 * guarded_ddl's own install or update script running (its DDL would
 * otherwise be judged by a half-built guard).
 */
bool
guard_should_skip(void)
{
	if (guard_mode == GUARD_MODE_OFF || IsBinaryUpgrade)
		return true;
	if (creating_extension && OidIsValid(CurrentExtensionObject))
	{
		char	   *name = get_extension_name(CurrentExtensionObject);

		if (name != NULL && strcmp(name, GUARD_EXTENSION_NAME) == 0)
			return true;
	}
	return false;
}

/* Whether an event trigger of this name is one of guarded_ddl's four. */
bool
guard_is_own_event_trigger(const char *name)
{
	return strcmp(name, "guarded_ddl_ddl_command_start") == 0 ||
		strcmp(name, "guarded_ddl_sql_drop") == 0 ||
		strcmp(name, "guarded_ddl_table_rewrite") == 0 ||
		strcmp(name, "guarded_ddl_ddl_command_end") == 0;
}

/*
 * Connect to SPI as the extension owner, with search_path pinned to
 * pg_catalog, for SQL guarded_ddl runs on its own tables.  Security-
 * restricted, like a maintenance command, so nothing it runs can change the
 * session.  An error before guard_spi_finish_as_owner() is cleaned up by
 * (sub)transaction abort.
 */
void
guard_spi_connect_as_owner(const GuardCatalog *catalog,
						   GuardOwnerContext *saved)
{
	GetUserIdAndSecContext(&saved->save_userid, &saved->save_sec_context);
	SetUserIdAndSecContext(catalog->owner,
						   saved->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	saved->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "guarded_ddl: SPI_connect failed");
}

void
guard_spi_finish_as_owner(GuardOwnerContext *saved)
{
	SPI_finish();
	AtEOXact_GUC(false, saved->save_nestlevel);
	SetUserIdAndSecContext(saved->save_userid, saved->save_sec_context);
}

/*
 * A column's number in one of guarded_ddl's tables, by name, so that code
 * reading them directly does not depend on the column order of a version.
 */
AttrNumber
guard_column_number(Relation rel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	elog(ERROR, "guarded_ddl: %s has no column \"%s\"",
		 RelationGetRelationName(rel), name);
	return InvalidAttrNumber;	/* keep the compiler quiet */
}

/*
 * A background worker of this library: connected to a database, started
 * once recovery is over, never restarted, reporting to nobody -- callers
 * change what differs.  Its type is also its name (what
 * pg_stat_activity.backend_type shows).
 */
void
guard_worker_init(BackgroundWorker *worker, const char *function,
				  const char *type, Datum main_arg)
{
	memset(worker, 0, sizeof(BackgroundWorker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker->bgw_library_name, "guarded_ddl",
			sizeof(worker->bgw_library_name));
	strlcpy(worker->bgw_function_name, function,
			sizeof(worker->bgw_function_name));
	strlcpy(worker->bgw_name, type, sizeof(worker->bgw_name));
	strlcpy(worker->bgw_type, type, sizeof(worker->bgw_type));
	worker->bgw_main_arg = main_arg;
}

/* A name[] datum of the C strings of the list, in order. */
Datum
guard_name_array(List *names)
{
	Datum	   *elems = palloc(sizeof(Datum) * (list_length(names) + 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, names)
		elems[n++] = DirectFunctionCall1(namein, CStringGetDatum(lfirst(lc)));
	return PointerGetDatum(construct_array(elems, n, NAMEOID, NAMEDATALEN,
										   false, TYPALIGN_CHAR));
}
