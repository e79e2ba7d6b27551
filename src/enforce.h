/*-------------------------------------------------------------------------
 *
 * enforce.h
 *	  Stage 4: the WARNINGs and the one ERROR of a statement.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_ENFORCE_H
#define GUARDED_DDL_ENFORCE_H

#include "intent.h"

extern void enforce_statement(GuardStatement *stmt);

#endif							/* GUARDED_DDL_ENFORCE_H */
