/*-------------------------------------------------------------------------
 *
 * trash.c
 *	  The recycle bin: soft_drop moves a dropped table to guarded_ddl_trash.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "guarded_ddl.h"
#include "trash.h"

bool
trash_soft_drop(PlannedStmt *pstmt, const char *queryString,
				ProcessUtilityContext context, ParamListInfo params,
				QueryEnvironment *queryEnv, DestReceiver *dest,
				QueryCompletion *qc)
{
	return false;
}
