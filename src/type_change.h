/*-------------------------------------------------------------------------
 *
 * type_change.h
 *	  Which column type changes keep every value (DESIGN §3.1.1).
 *
 *	  ALTER TABLE ... ALTER COLUMN ... TYPE is an alter_type intent either
 *	  way; only a lossy one destroys data.  The rules live in one table in
 *	  type_change.c, the README lists the same table.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_TYPE_CHANGE_H
#define GUARDED_DDL_TYPE_CHANGE_H

#include "postgres.h"

#include "nodes/nodes.h"

extern bool type_change_is_lossless(Oid oldtype, int32 oldtypmod,
									Oid newtype, int32 newtypmod,
									Node *using_expr, const char *colname,
									const char **reason);

#endif							/* GUARDED_DDL_TYPE_CHANGE_H */
