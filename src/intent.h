/*-------------------------------------------------------------------------
 *
 * intent.h
 *	  The types that flow through guarded_ddl's pipeline:
 *
 *	  intercept -> classify -> assess -> decide -> enforce -> record
 *
 *	  A statement (GuardStatement) is turned into one intent (GuardIntent)
 *	  per affected object.  Each stage fills in its part of the intent; no
 *	  stage knows about the ones after it except through these types.  This
 *	  is the ground floor: the vocabulary every stage shares (operations,
 *	  actions, decisions, SQLSTATEs, their names), nothing of any stage.
 *
 * Copyright (c) 2026, guarded_ddl developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_DDL_INTENT_H
#define GUARDED_DDL_INTENT_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "catalog/objectaddress.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "storage/lockdefs.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "compat.h"

#define GUARD_EXTENSION_NAME "guarded_ddl"
#define GUARD_SCHEMA_NAME "guarded_ddl"
#define GUARD_TRASH_SCHEMA_NAME "guarded_ddl_trash"

/* SQLSTATEs of refusals (documented in README "Errors"). */
#define ERRCODE_GUARD_DENIED_BY_POLICY MAKE_SQLSTATE('Z','G','0','0','1')
#define ERRCODE_GUARD_BACKUP_REQUIRED MAKE_SQLSTATE('Z','G','0','0','2')
#define ERRCODE_GUARD_SELF_PROTECTION MAKE_SQLSTATE('Z','G','0','0','3')
#define ERRCODE_GUARD_PROTECTED_DATABASE MAKE_SQLSTATE('Z','G','0','0','4')

/* Where guarded_ddl lives in the current database (catalog.c finds it). */
typedef struct GuardCatalog
{
	Oid			extension_oid;
	Oid			owner;
	Oid			schema_oid;
	Oid			trash_schema_oid;	/* InvalidOid if missing */
	Oid			policy_relid;
	Oid			backups_relid;
	Oid			audit_relid;
} GuardCatalog;

/*
 * object_type of the self-protection intent for PostgreSQL 17's
 * event_triggers setting, which switches every event trigger off.
 */
#define GUARD_SETTING_OBJECT_TYPE "setting"

/* Operation classes of DESIGN §3.1; GUARD_OP_DDL is "any other DDL". */
typedef enum GuardOperation
{
	GUARD_OP_DROP,
	GUARD_OP_ALTER_TYPE,
	GUARD_OP_TRUNCATE,
	GUARD_OP_RENAME,
	GUARD_OP_DETACH_PARTITION,
	GUARD_OP_SET_UNLOGGED,
	GUARD_OP_DROP_CONSTRAINT,
	GUARD_OP_DELETE_ALL,		/* DELETE without a WHERE clause (opt-in) */
	GUARD_OP_DDL
} GuardOperation;

/* Policy actions, as spelled in guarded_ddl.policy.action. */
typedef enum GuardAction
{
	GUARD_ACTION_ALLOW,
	GUARD_ACTION_WARN,
	GUARD_ACTION_REQUIRE_BACKUP,
	GUARD_ACTION_DENY,
	GUARD_ACTION_SOFT_DROP
} GuardAction;

/* Outcome of one intent, as spelled in guarded_ddl.audit.decision. */
typedef enum GuardDecision
{
	GUARD_UNDECIDED,
	GUARD_ALLOWED,
	GUARD_WARNED,
	GUARD_DENIED,
	GUARD_OVERRIDDEN,
	GUARD_SOFT_DROPPED,
	GUARD_PURGED				/* left the recycle bin for good */
} GuardDecision;

/* Why an intent is refused; each has its own documented SQLSTATE. */
typedef enum GuardRefusal
{
	GUARD_REFUSAL_NONE,
	GUARD_REFUSAL_RULE,			/* a deny rule or default_action = deny */
	GUARD_REFUSAL_NO_BACKUP,	/* require_backup without a recent backup */
	GUARD_REFUSAL_SELF			/* would disable or destroy guarded_ddl */
} GuardRefusal;

/*
 * Whether an object holds data.  UNKNOWN is the zero value on purpose: an
 * intent nobody assessed is treated as holding data (fail closed).
 */
typedef enum GuardDataVerdict
{
	GUARD_DATA_UNKNOWN = 0,
	GUARD_DATA_NONE,
	GUARD_DATA_PRESENT
} GuardDataVerdict;

/* Which ownership rule PostgreSQL applies to the command. */
typedef enum GuardRightNeeded
{
	GUARD_RIGHT_NONE,			/* nothing to check here */
	GUARD_RIGHT_DROP_RELATION,	/* owner of the relation or of its schema */
	GUARD_RIGHT_OWN_RELATION,	/* owner of the relation (ALTER TABLE) */
	GUARD_RIGHT_TRUNCATE		/* TRUNCATE privilege on the relation */
} GuardRightNeeded;

typedef struct GuardIntent
{
	/* classify */
	GuardOperation operation;
	const char *object_type;	/* pg_identify_object() word */
	char	   *object_identity;
	char	   *schema_name;
	char	   *object_name;
	char	   *column_name;
	ObjectAddress address;		/* invalid until resolved */
	bool		cascaded;		/* not named in the statement */
	bool		data_bearing;	/* a drop of it would destroy rows */
	bool		is_temporary;
	bool		only_if_self;	/* kept only when it targets guarded_ddl */

	/* what assess must resolve, for intents named in a parse tree */
	RangeVar   *relation;		/* relation the command opens, or NULL */
	RangeVar   *subject;		/* partition a DETACH names, or NULL */
	char	   *constraint_name;	/* for DROP CONSTRAINT */
	char	   *part_name;		/* trigger, rule or policy of the relation */
	char		expected_relkind;	/* '\0' = any */
	GuardRightNeeded right;
	LOCKMODE	lockmode;		/* the lock the command itself takes */
	bool		missing_ok;		/* IF EXISTS given */
	bool		missing;		/* target did not exist */
	Oid			column_not_null;	/* PG 18+: the column's NOT NULL
									 * constraint, dropped with it */
	TypeName   *new_type;		/* ALTER COLUMN TYPE: the type as written */
	Node	   *using_expr;		/* ... and its USING expression, or NULL */
	bool		typed_tables;	/* ALTER TYPE ... CASCADE: stands for the
								 * column in every typed table of the type */

	/* assess */
	GuardDataVerdict holds_data;
	int64		row_estimate;	/* -1 = unknown */
	Oid			data_relid;		/* relation whose rows are at stake */
	bool		lossless;		/* alter_type: every value survives */
	char	   *type_change;	/* alter_type: the conversion and why */

	/* decide */
	GuardDecision decision;
	GuardAction action;
	GuardRefusal refusal;
	int64		policy_id;		/* 0 = no rule, default decided */
	int64		backup_id;		/* backup that made it acceptable, or 0 */
	double		backup_max_age_secs;	/* require_backup: the limit applied */
	bool		backup_verified_required;	/* ... and only restore-tested count */
	char	   *reason;

	/* enforce and record */
	bool		announced;		/* its WARNING was sent */
	bool		audited;
	int64		audit_id;		/* its row in guarded_ddl.audit, if known */
	char	   *trash_name;		/* soft-dropped: its name in the trash */
	List	   *trash_renames;	/* soft-dropped: renamed indexes, sequences */
} GuardIntent;

/* Newest backups at decision time; fetched at most once per statement. */
typedef struct GuardBackupState
{
	bool		loaded;
	int64		newest_id;		/* 0 = none recorded */
	TimestampTz newest_finished;
	int64		verified_id;	/* newest with a restore test, 0 = none */
	TimestampTz verified_finished;
} GuardBackupState;

/* Per-relation verdict recorded before the object disappears. */
typedef struct GuardRelVerdict
{
	Oid			relid;			/* hash key */
	GuardDataVerdict holds_data;
	int64		row_estimate;
	bool		owned;			/* a sequence owned by a table column */
	Oid			owner_relid;	/* ... that table */
} GuardRelVerdict;

/*
 * One DDL statement in flight.  Lives from ddl_command_start (or the
 * utility hook) to ddl_command_end in its own memory context; statements
 * nest when DDL runs DDL.
 */
typedef struct GuardStatement
{
	void	   *key;			/* parse tree identifying the statement */
	GuardCatalog catalog;		/* where guarded_ddl lives */
	const char *command_tag;
	char	   *query_text;
	List	   *intents;		/* GuardIntent * */
	HTAB	   *verdicts;		/* relid -> GuardRelVerdict */
	GuardBackupState backups;
	XLogRecPtr	wal_lsn;		/* insert position before it ran */
	char	   *restore_point;	/* created before it destroyed data */
	bool		refused;		/* an ERROR is on its way */
	bool		preflight;		/* guarded_ddl.check(): look, change nothing */
	bool		guard_locked;	/* deleting part of guarded_ddl: its audit
								 * table is locked by this statement */
	char	   *role_name;		/* current_user, looked up once */
	bool		capturing;		/* the recycle bin's dry run: ... */
	List	   *captured;		/* ... every object deleted (ObjectAddress *) */
	SubTransactionId subid;
	MemoryContext context;
	struct GuardStatement *outer;
} GuardStatement;

/* Names as stored in the policy and audit tables. */
extern const char *guard_operation_name(GuardOperation op);
extern const char *guard_decision_name(GuardDecision decision);
extern const char *guard_action_name(GuardAction action);
extern bool guard_action_parse(const char *name, GuardAction *action);
extern bool guard_operation_parse(const char *name, GuardOperation *op);

/* A zeroed intent in CurrentMemoryContext (holds_data = UNKNOWN). */
extern GuardIntent *guard_intent_new(GuardOperation op, const char *object_type);

/* Whether the intent would destroy rows (unknown counts as yes). */
extern bool guard_intent_destroys_data(const GuardIntent *intent);

/* One row of pg_event_trigger_dropped_objects(). */
typedef struct GuardDroppedObject
{
	ObjectAddress address;
	bool		original;
	bool		normal;
	bool		is_temporary;
	char	   *object_type;
	char	   *schema_name;
	char	   *object_name;
	char	   *object_identity;
	List	   *address_names;	/* char *, as pg_identify_object_as_address */
} GuardDroppedObject;

#endif							/* GUARDED_DDL_INTENT_H */
