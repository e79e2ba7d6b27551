/*-------------------------------------------------------------------------
 *
 * glob.h
 *	  Globs of policy patterns: '*', '?' and backslash escapes, matched
 *	  against unquoted names, case-sensitive.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_GLOB_H
#define GUARDED_DDL_GLOB_H

#include "postgres.h"

extern bool glob_is_valid(const char *pattern);
extern bool glob_match(const char *pattern, const char *subject);
extern bool glob_is_literal(const char *pattern, char **unescaped);

#endif							/* GUARDED_DDL_GLOB_H */
