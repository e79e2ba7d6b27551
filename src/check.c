/*-------------------------------------------------------------------------
 *
 * check.c
 *	  guarded_ddl.check(): preflight for CI pipelines.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "guarded_ddl.h"

PG_FUNCTION_INFO_V1(guarded_ddl_check);

Datum
guarded_ddl_check(PG_FUNCTION_ARGS)
{
	PG_RETURN_NULL();
}
