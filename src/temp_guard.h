/*-------------------------------------------------------------------------
 *
 * temp_guard.h
 *	  A permanent object never depends on a temporary one.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_TEMP_GUARD_H
#define GUARDED_DDL_TEMP_GUARD_H

#include "postgres.h"
#include "nodes/nodes.h"

extern void temp_guard_check(Node *parsetree);

#endif							/* GUARDED_DDL_TEMP_GUARD_H */
