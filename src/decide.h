/*-------------------------------------------------------------------------
 *
 * decide.h
 *	  Stage 3: one decision per intent, from the policy, the backups, the
 *	  override and guarded_ddl.mode.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_DECIDE_H
#define GUARDED_DDL_DECIDE_H

#include "intent.h"

extern void decide_intent(GuardStatement *stmt, GuardIntent *intent);
extern void decide_all(GuardStatement *stmt);
extern void decide_kept(GuardStatement *stmt);

#endif							/* GUARDED_DDL_DECIDE_H */
