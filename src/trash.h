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

/* trash_truncate.c: TRUNCATE hands the table's storage to the bin */
extern bool trash_keep_truncated(GuardStatement *stmt);
extern Oid	trash_restore_truncated(int64 trash_id, const char *schema,
									const char *table, const char *trash_name,
									const char *new_name, char **restored_as);

/* trash_restore.c: trash_retention and trash_max_size, after a soft drop */
extern void trash_apply_retention(GuardCatalog *catalog);

#endif							/* GUARDED_DDL_TRASH_H */
