/*-------------------------------------------------------------------------
 *
 * glob.c
 *	  The glob patterns of guarded_ddl.policy: '*' matches any run of
 *	  characters, '?' exactly one character, '\' makes the next character
 *	  literal.  Matching is case-sensitive, on unquoted names, and counts
 *	  characters (not bytes) in the database encoding.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "lib/stringinfo.h"

#include "glob.h"

PG_FUNCTION_INFO_V1(guarded_ddl_glob_is_valid);
PG_FUNCTION_INFO_V1(guarded_ddl_glob_match);

/*
 * A pattern is malformed only when it ends in an unescaped backslash: there
 * is nothing left for it to make literal.
 */
bool
glob_is_valid(const char *pattern)
{
	const char *p = pattern;

	while (*p)
	{
		if (*p == '\\')
		{
			p++;
			if (*p == '\0')
				return false;
		}
		p += pg_mblen(p);
	}
	return true;
}

/*
 * True when the pattern has no wildcard, so it can only match one name.
 * *unescaped receives that name (palloc'd in CurrentMemoryContext), which
 * lets the policy cache look such rules up by name instead of scanning them.
 */
bool
glob_is_literal(const char *pattern, char **unescaped)
{
	StringInfoData buf;
	const char *p = pattern;

	initStringInfo(&buf);
	while (*p)
	{
		int			len;

		if (*p == '*' || *p == '?')
		{
			pfree(buf.data);
			return false;
		}
		if (*p == '\\')
			p++;
		if (*p == '\0')
			break;
		len = pg_mblen(p);
		appendBinaryStringInfo(&buf, p, len);
		p += len;
	}
	*unescaped = buf.data;
	return true;
}

/*
 * Iterative matcher with single-star backtracking: linear in practice and
 * never recursive, so hostile patterns cannot exhaust the stack.
 */
bool
glob_match(const char *pattern, const char *subject)
{
	const char *p = pattern;
	const char *s = subject;
	const char *star_p = NULL;
	const char *star_s = NULL;

	while (*s)
	{
		if (*p == '*')
		{
			while (*p == '*')
				p++;
			if (*p == '\0')
				return true;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*p == '?')
		{
			p++;
			s += pg_mblen(s);
			continue;
		}
		if (*p != '\0')
		{
			const char *lit = p;
			int			plen;
			int			slen;

			if (*lit == '\\' && lit[1] != '\0')
				lit++;
			plen = pg_mblen(lit);
			slen = pg_mblen(s);
			if (plen == slen && memcmp(lit, s, plen) == 0)
			{
				p = lit + plen;
				s += slen;
				continue;
			}
		}
		/* mismatch: let the last star swallow one more character */
		if (star_p == NULL)
			return false;
		star_s += pg_mblen(star_s);
		s = star_s;
		p = star_p;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

Datum
guarded_ddl_glob_is_valid(PG_FUNCTION_ARGS)
{
	char	   *pattern = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(glob_is_valid(pattern));
}

/* SQL-callable glob_match(pattern, subject), for the policy views and tests. */
Datum
guarded_ddl_glob_match(PG_FUNCTION_ARGS)
{
	char	   *pattern = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *subject = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (!glob_is_valid(pattern))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed glob \"%s\"", pattern),
				 errdetail("A pattern may not end with an unescaped backslash.")));
	PG_RETURN_BOOL(glob_match(pattern, subject));
}
