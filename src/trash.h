/*-------------------------------------------------------------------------
 *
 * trash.h
 *	  The recycle bin: DROP TABLE of a table a soft_drop rule matches becomes
 *	  a move to the schema guarded_ddl_trash; the values of dropped columns
 *	  and the rows TRUNCATE removes are kept there too.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_TRASH_H
#define GUARDED_DDL_TRASH_H

#include "intent.h"
#include "nodes/parsenodes.h"
#include "utils/hsearch.h"
#include "nodes/params.h"
#include "nodes/plannodes.h"
#include "tcop/cmdtag.h"
#include "tcop/dest.h"
#include "tcop/utility.h"

/*
 * Called by the utility hook for every DROP statement.  Returns what still
 * has to run: pstmt, a copy naming fewer tables, or NULL when every table
 * went to the trash.
 */
extern PlannedStmt *trash_soft_drop(PlannedStmt *pstmt, QueryCompletion *qc);

/*
 * The column of a kept relation that holds each row's place (ctid) in its
 * table when the values were kept.
 */
#define TRASH_ROW_COLUMN "guarded_ddl_row"

/* trash_columns.c: the values of the columns soft_drop rules keep */
extern bool trash_keep_columns(PlannedStmt *pstmt);
extern Oid	trash_restore_column(int64 trash_id, const char *original_schema,
								 const char *original_name,
								 const char *trash_name, const char *column,
								 List *key, const char *new_name);

/* Names given to a part (index, sequence, partition) on its way in. */
typedef struct TrashRename
{
	char	   *from;
	char	   *to;
} TrashRename;

/* One object restore() re-creates (trash_dependents.c, trash_recreate.c). */
typedef struct TrashDependent
{
	const char *kind;			/* schema, view, materialized view, foreign
								 * key, policy, function, trigger */
	char	   *schema;			/* where it is (a schema: its name) */
	char	   *table;			/* a view's own name; a key's, policy's or
								 * trigger's table; a function's signature */
	char	   *name;			/* a key's, policy's or trigger's name */
	char	   *owner;			/* the role that owned it owns it again */
	char	   *sql;			/* fully qualified */
	List	   *needs;			/* kept relations it uses (oids at the time) */
} TrashDependent;

/* trash.c: shared by the trash_*.c files */
extern List *trash_dry_run(GuardStatement *stmt, DropStmt *drop);
extern bool trash_bin_has_column(const GuardCatalog *catalog, const char *column);

/* trash_members.c: what can be kept, and what moves with it */
extern List *trash_table_members(const GuardStatement *stmt, Oid relid,
								 HTAB *gone);
extern bool trash_uses_what_goes(HTAB *gone, List *members);
extern List *trash_default_sequences(List *tree, HTAB *gone);
extern List *trash_move_to_trash(Oid relid, List *extra, Oid trash_nsp,
								 char **trash_name);
extern void trash_move_relation(Oid relid, Oid nsp);
extern char *trash_free_name(const char *base, const char *tag, Oid trash_nsp);

/* trash_capture.c: what the dry run deleted */
extern HTAB *trash_address_set(List *captured);
extern GuardIntent *trash_drop_intent(Oid relid, const char *object_type);
extern List *trash_relations_used(Oid classid, Oid objid);
extern HeapTuple trash_catalog_row(Oid catalog, Oid index, AttrNumber oid_att,
								   Oid objid, TupleDesc *desc);
extern bool trash_drop_orphans(GuardStatement *stmt, DropStmt *rest,
							   List *captured, List *members,
							   List **matviews);

/* trash_dependents.c: what CASCADE removes with kept tables, recorded */
extern List *trash_record_dependents(List *captured, HTAB *gone, List *members);

/* trash_recreate.c: ... kept in the entry, re-created by restore() */
extern char *trash_dependents_json(List *dependents, List *entry_members,
								   int *count);
extern bool trash_recreate_schema(const char *recreate, const char *schema);
extern void trash_recreate_dependents(const char *recreate);

/* trash_truncate.c: TRUNCATE hands the table's storage to the bin */
extern bool trash_keep_truncated(GuardStatement *stmt);
extern Oid	trash_restore_truncated(int64 trash_id, const char *schema,
									const char *table, const char *trash_name,
									const char *new_name, char **restored_as);

/* trash_restore.c: trash_retention and trash_max_size, after a soft drop */
extern void trash_apply_retention(GuardCatalog *catalog);

#endif							/* GUARDED_DDL_TRASH_H */
