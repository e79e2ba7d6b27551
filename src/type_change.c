/*-------------------------------------------------------------------------
 *
 * type_change.c
 *	  Judges a column type change: does every value survive the conversion
 *	  PostgreSQL applies?  A lossless change (integer to bigint, varchar(10)
 *	  to text, numeric(10,2) to numeric(12,2) ...) is still an alter_type
 *	  intent -- audited, and a deny rule still stops it -- but it destroys no
 *	  data, so require_backup lets it through (DESIGN §3.1.1).
 *
 *	  Data-driven: one table of built-in type pairs, each with its verdict
 *	  and the reason the audit shows, and the few rules the table cannot
 *	  express (another length or precision of the same type, domains,
 *	  arrays, any type to text).  Whatever no rule names is lossy: the guard
 *	  fails closed.  The README's "Which type changes lose data" lists the
 *	  same rules; change both together.
 *
 *	  Reads the catalog, changes nothing, keeps no state.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_type.h"
#include "nodes/parsenodes.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "type_change.h"

/*
 * One pair of built-in types.  The lossless rows are the conversions §3.1.1
 * names.  The lossy rows are here for their reason: they answer the
 * questions a DBA gets asked ("why is integer to real refused when integer
 * to double precision is not?").  Pairs not listed are lossy too.
 */
typedef struct TypeChangeRule
{
	Oid			oldtype;
	Oid			newtype;
	bool		lossless;
	/* into numeric(p,s): lossless only when s >= 0 and p - s >= int_digits */
	int			int_digits;
	const char *why;
} TypeChangeRule;

#define WHY_WIDENING "widening, no value changes"
#define WHY_NARROWING "narrowing, values out of range are refused"
#define WHY_FRACTIONS "fractions are rounded, values out of range are refused"
#define WHY_REAL_DIGITS "real keeps about 7 significant digits, the rest is rounded"
#define WHY_REAL_MANTISSA "real has a 24-bit mantissa, integers beyond 16777216 are rounded"
#define WHY_CHAR_PADS "char pads values with blanks and refuses longer ones"
#define WHY_NO_TIME "the time of day is dropped"

static const TypeChangeRule type_change_rules[] = {
	/* integer widening, and the floating-point types that hold integers */
	{INT2OID, INT4OID, true, 0, WHY_WIDENING},
	{INT2OID, INT8OID, true, 0, WHY_WIDENING},
	{INT4OID, INT8OID, true, 0, WHY_WIDENING},
	{INT2OID, NUMERICOID, true, 5, "every smallint fits, no value changes"},
	{INT4OID, NUMERICOID, true, 10, "every integer fits, no value changes"},
	{INT8OID, NUMERICOID, true, 19, "every bigint fits, no value changes"},
	{INT2OID, FLOAT8OID, true, 0,
	 "double precision holds every smallint exactly"},
	{INT4OID, FLOAT8OID, true, 0,
	 "double precision holds every integer exactly"},
	{FLOAT4OID, FLOAT8OID, true, 0,
	 "exactly the same value (it may print with more digits)"},

	/* integer narrowing, and floating-point types too short for integers */
	{INT4OID, INT2OID, false, 0, WHY_NARROWING},
	{INT8OID, INT2OID, false, 0, WHY_NARROWING},
	{INT8OID, INT4OID, false, 0, WHY_NARROWING},
	{INT4OID, FLOAT4OID, false, 0, WHY_REAL_MANTISSA},
	{INT8OID, FLOAT4OID, false, 0, WHY_REAL_MANTISSA},
	{INT8OID, FLOAT8OID, false, 0,
	 "double precision has a 53-bit mantissa, bigints beyond 2^53 are rounded"},

	/* fractions into integers */
	{NUMERICOID, INT2OID, false, 0, WHY_FRACTIONS},
	{NUMERICOID, INT4OID, false, 0, WHY_FRACTIONS},
	{NUMERICOID, INT8OID, false, 0, WHY_FRACTIONS},
	{FLOAT4OID, INT2OID, false, 0, WHY_FRACTIONS},
	{FLOAT4OID, INT4OID, false, 0, WHY_FRACTIONS},
	{FLOAT4OID, INT8OID, false, 0, WHY_FRACTIONS},
	{FLOAT8OID, INT2OID, false, 0, WHY_FRACTIONS},
	{FLOAT8OID, INT4OID, false, 0, WHY_FRACTIONS},
	{FLOAT8OID, INT8OID, false, 0, WHY_FRACTIONS},

	/* between floating point and numeric (float4_numeric uses FLT_DIG ...) */
	{FLOAT8OID, FLOAT4OID, false, 0, WHY_REAL_DIGITS},
	{NUMERICOID, FLOAT4OID, false, 0, WHY_REAL_DIGITS},
	{NUMERICOID, FLOAT8OID, false, 0,
	 "double precision keeps about 15 significant digits, the rest is rounded"},
	{FLOAT4OID, NUMERICOID, false, 0,
	 "converted with 6 significant digits, the rest is rounded"},
	{FLOAT8OID, NUMERICOID, false, 0,
	 "converted with 15 significant digits, the rest is rounded"},

	/* strings (text and unbounded varchar targets are judged before) */
	{VARCHAROID, BPCHAROID, false, 0, WHY_CHAR_PADS},
	{TEXTOID, BPCHAROID, false, 0, WHY_CHAR_PADS},
	{TEXTOID, VARCHAROID, false, 0,
	 "values longer than the new length are refused"},

	/* date and time */
	{TIMESTAMPOID, TIMESTAMPTZOID, false, 0,
	 "values are read in the session's TimeZone, the result depends on it"},
	{TIMESTAMPTZOID, TIMESTAMPOID, false, 0,
	 "values are shown in the session's TimeZone and their offset is dropped"},
	{TIMESTAMPTZOID, DATEOID, false, 0, WHY_NO_TIME},
	{TIMESTAMPOID, DATEOID, false, 0, WHY_NO_TIME},

	{JSONOID, JSONBOID, false, 0,
	 "jsonb drops duplicate keys, key order and whitespace"},
};

static bool using_keeps_column(Node *expr, const char *colname,
							   Oid newtype, int32 newtypmod);
static bool judge_conversion(Oid oldtype, int32 oldtypmod, Oid newtype,
							 int32 newtypmod, const char **why);
static bool judge_new_modifier(Oid type, int32 oldtypmod, int32 newtypmod,
							   const char **why);
static bool judge_to_text(Oid oldtype, Oid newtype, const char **why);
static bool text_form_is_exact(Oid type);
static void numeric_typmod_digits(int32 typmod, int *precision, int *scale);

/*
 * Whether changing a column of oldtype(oldtypmod) to newtype(newtypmod) keeps
 * every value, given the raw (untransformed) USING expression or NULL and the
 * column's name.  *reason gets "integer to bigint: widening, no value
 * changes" and the like, palloc'd in CurrentMemoryContext.
 *
 * Both types must exist; the caller resolves the new one as the command will
 * and counts a type it cannot resolve as lossy without calling this.  May
 * raise PostgreSQL's own error for a malformed type in a USING cast, which
 * the command would raise anyway.
 */
bool
type_change_is_lossless(Oid oldtype, int32 oldtypmod,
						Oid newtype, int32 newtypmod,
						Node *using_expr, const char *colname,
						const char **reason)
{
	const char *conversion;
	const char *why;
	bool		lossless;

	conversion = psprintf("%s to %s",
						  format_type_with_typemod(oldtype, oldtypmod),
						  format_type_with_typemod(newtype, newtypmod));
	if (get_typtype(newtype) == TYPTYPE_DOMAIN)
	{
		int32		basetypmod = newtypmod;
		Oid			basetype = getBaseTypeAndTypmod(newtype, &basetypmod);

		conversion = psprintf("%s (a domain over %s)", conversion,
							  format_type_with_typemod(basetype, basetypmod));
	}

	if (!using_keeps_column(using_expr, colname, newtype, newtypmod))
	{
		*reason = psprintf("%s: USING computes the new values, they can differ from the old ones",
						   conversion);
		return false;
	}

	lossless = judge_conversion(oldtype, oldtypmod, newtype, newtypmod, &why);
	*reason = psprintf("%s: %s", conversion, why);
	return lossless;
}

/*
 * USING that only names the column, or casts it to the very type the column
 * gets ("USING col", "USING col::bigint", also spelled int8), converts the
 * old values exactly as no USING would.  Any other expression computes new
 * values.  The expression is raw, as parsed: the column is a ColumnRef of
 * one field.
 */
static bool
using_keeps_column(Node *expr, const char *colname, Oid newtype,
				   int32 newtypmod)
{
	ColumnRef  *ref;

	if (expr == NULL)
		return true;

	if (IsA(expr, TypeCast))
	{
		TypeCast   *cast = (TypeCast *) expr;
		int32		typmod = -1;
		Type		tup;
		bool		same;

		/* %TYPE would print its NOTICE twice; counted as lossy instead */
		if (cast->typeName->pct_type)
			return false;
		tup = LookupTypeName(NULL, cast->typeName, &typmod, true);
		if (tup == NULL)
			return false;
		same = (typeTypeId(tup) == newtype && typmod == newtypmod &&
				((Form_pg_type) GETSTRUCT(tup))->typisdefined);
		ReleaseSysCache(tup);
		if (!same)
			return false;
		expr = cast->arg;
	}

	if (!IsA(expr, ColumnRef))
		return false;
	ref = (ColumnRef *) expr;
	return list_length(ref->fields) == 1 &&
		IsA(linitial(ref->fields), String) &&
		strcmp(strVal(linitial(ref->fields)), colname) == 0;
}

/*
 * The conversion itself, without USING.  *why is a constant or palloc'd.
 *
 * A domain's values are values of its base type, so domains are judged by
 * their base type and modifier (getBaseTypeAndTypmod).  Into a domain, its
 * NOT NULL and CHECK constraints can refuse a row -- the statement fails and
 * nothing is lost -- but they change no value.
 */
static bool
judge_conversion(Oid oldtype, int32 oldtypmod, Oid newtype, int32 newtypmod,
				 const char **why)
{
	Oid			oldelem;
	Oid			newelem;

	oldtype = getBaseTypeAndTypmod(oldtype, &oldtypmod);
	newtype = getBaseTypeAndTypmod(newtype, &newtypmod);

	/* only the domain, the collation or nothing at all changes */
	if (oldtype == newtype && oldtypmod == newtypmod)
	{
		*why = "same type, no value changes";
		return true;
	}

	/*
	 * Arrays are converted element by element with the element conversion
	 * (an array column's modifier is its elements').  get_element_type()
	 * knows only true arrays, not int2vector and the like.
	 */
	oldelem = get_element_type(oldtype);
	newelem = get_element_type(newtype);
	if (OidIsValid(oldelem) && OidIsValid(newelem))
	{
		const char *elemwhy;
		bool		lossless;

		lossless = judge_conversion(oldelem, oldtypmod, newelem, newtypmod,
									&elemwhy);
		*why = psprintf("each element: %s", elemwhy);
		return lossless;
	}

	if (oldtype == newtype)
		return judge_new_modifier(oldtype, oldtypmod, newtypmod, why);

	if (newtype == TEXTOID || (newtype == VARCHAROID && newtypmod < 0))
		return judge_to_text(oldtype, newtype, why);

	for (int i = 0; i < lengthof(type_change_rules); i++)
	{
		const TypeChangeRule *rule = &type_change_rules[i];
		int			precision;
		int			scale;

		if (rule->oldtype != oldtype || rule->newtype != newtype)
			continue;
		*why = rule->why;
		if (!rule->lossless || rule->int_digits == 0 ||
			newtypmod < (int32) VARHDRSZ)
			return rule->lossless;
		numeric_typmod_digits(newtypmod, &precision, &scale);
		if (scale >= 0 && precision - scale >= rule->int_digits)
			return true;
		*why = "fewer integer digits than the old type, values can be rounded or refused";
		return false;
	}

	if (TypeCategory(oldtype) == TYPCATEGORY_STRING &&
		TypeCategory(newtype) != TYPCATEGORY_STRING)
		*why = "the text is parsed as the new type, values can change or be refused";
	else
		*why = "not a conversion known to keep every value";
	return false;
}

/*
 * The same type with another length or precision.  Only a longer varchar
 * and a numeric with no fewer integer digits and decimals keep every value;
 * char(n) re-pads, and every other modifier (timestamp(p), bit(n) ...) is
 * lossy as far as guarded_ddl knows.
 */
static bool
judge_new_modifier(Oid type, int32 oldtypmod, int32 newtypmod,
				   const char **why)
{
	switch (type)
	{
		case VARCHAROID:
			if (newtypmod < 0)
			{
				*why = "unbounded varchar holds every value";
				return true;
			}
			if (oldtypmod >= 0 && newtypmod >= oldtypmod)
			{
				*why = "a longer limit, no value changes";
				return true;
			}
			*why = "values longer than the new length are refused";
			return false;
		case NUMERICOID:
			if (newtypmod < (int32) VARHDRSZ)
			{
				*why = "unconstrained numeric holds every value";
				return true;
			}
			if (oldtypmod >= (int32) VARHDRSZ)
			{
				int			oldprecision;
				int			oldscale;
				int			newprecision;
				int			newscale;

				numeric_typmod_digits(oldtypmod, &oldprecision, &oldscale);
				numeric_typmod_digits(newtypmod, &newprecision, &newscale);
				if (newprecision - newscale >= oldprecision - oldscale &&
					newscale >= oldscale)
				{
					*why = "no fewer integer digits or decimals, no value changes";
					return true;
				}
			}
			*why = "fewer digits, values can be rounded or refused";
			return false;
		case BPCHAROID:
			if (oldtypmod >= 0 && newtypmod > oldtypmod)
				*why = "char pads the values with more blanks";
			else
				*why = "values longer than the new length are refused";
			return false;
		default:
			*why = "another length or precision, values can be rounded or cut";
			return false;
	}
}

/*
 * Into text or unbounded varchar every value goes as its text form, which
 * holds all of it -- except for floating-point values printed with
 * extra_float_digits below 1 (see text_form_is_exact).
 */
static bool
judge_to_text(Oid oldtype, Oid newtype, const char **why)
{
	if (!text_form_is_exact(oldtype))
	{
		*why = "with extra_float_digits below 1 the text form of floating-point values is rounded";
		return false;
	}
	/* varchar <-> text: no conversion function runs at all */
	if (IsBinaryCoercible(oldtype, newtype))
		*why = "binary-coercible, no value changes";
	else if (oldtype == BPCHAROID)
		*why = "only the trailing blanks go, which char(n) ignores";
	else
		*why = "every value has a text form, no value changes";
	return true;
}

/*
 * Whether the text form of a type's values holds all of them.  With
 * extra_float_digits >= 1 (the default since PostgreSQL 12) floats print
 * their shortest exact form; below, they print rounded.  Then only types
 * known not to print floats count: not float4/float8, nor geometric types,
 * rows, ranges or types from extensions, which may hold floats.
 */
static bool
text_form_is_exact(Oid type)
{
	Oid			elem;
	char		typtype;

	if (extra_float_digits >= 1)
		return true;
	type = getBaseType(type);
	elem = get_element_type(type);
	if (OidIsValid(elem))
		return text_form_is_exact(elem);
	if (type == FLOAT4OID || type == FLOAT8OID || type >= FirstNormalObjectId)
		return false;
	typtype = get_typtype(type);
	if (typtype == TYPTYPE_COMPOSITE || typtype == TYPTYPE_RANGE ||
		typtype == TYPTYPE_MULTIRANGE)
		return false;
	return TypeCategory(type) != TYPCATEGORY_GEOMETRIC;
}

/*
 * Precision and scale of a numeric(p,s) modifier.  The scale is an 11-bit
 * signed field since PostgreSQL 15 (negative scales round to tens,
 * hundreds ...); numeric.c keeps its own decoder static.
 */
static void
numeric_typmod_digits(int32 typmod, int *precision, int *scale)
{
	int32		bits = typmod - VARHDRSZ;

	*precision = (bits >> 16) & 0xffff;
	*scale = ((bits & 0x7ff) ^ 1024) - 1024;
}
