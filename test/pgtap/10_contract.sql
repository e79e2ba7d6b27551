-- 10_contract: the public interface of DESIGN.md §3, object by object.
--
-- Schema and extension control, the three tables with exactly the §3.2
-- columns (types, NOT NULL, defaults, primary keys), the two views, the
-- functions with their exact signatures, the four event triggers (ENABLE
-- ALWAYS), the settings of §3.4 with their defaults, and "nothing is
-- granted to PUBLIC".  Reads the catalogs only; changes nothing.
BEGIN;
SELECT plan(193);

------------------------------------------------------------------------------
-- Schema and extension control
------------------------------------------------------------------------------

SELECT has_schema('guarded_ddl', 'schema guarded_ddl exists');
SELECT has_extension('guarded_ddl', 'extension guarded_ddl is installed');

SELECT results_eq(
    $$SELECT n.nspname::text COLLATE "default", e.extrelocatable
        FROM pg_extension AS e JOIN pg_namespace AS n ON n.oid = e.extnamespace
       WHERE e.extname = 'guarded_ddl'$$,
    $$VALUES ('guarded_ddl'::text, false)$$,
    'pg_extension: guarded_ddl lives in schema guarded_ddl and is not relocatable');

SELECT results_eq(
    $$SELECT v.schema::text COLLATE "default", v.relocatable, v.superuser
        FROM pg_available_extension_versions AS v
       WHERE v.name = 'guarded_ddl' AND v.installed$$,
    $$VALUES ('guarded_ddl'::text, false, true)$$,
    'control file: schema = guarded_ddl, relocatable = false, superuser = true');

------------------------------------------------------------------------------
-- guarded_ddl.policy
------------------------------------------------------------------------------

SELECT has_table('guarded_ddl', 'policy', 'table guarded_ddl.policy exists');
SELECT columns_are('guarded_ddl', 'policy',
    ARRAY['id', 'priority', 'operation', 'object_type', 'schema_name', 'object_name',
          'column_name', 'role_name', 'application_name', 'action', 'backup_max_age',
          'require_verified_backup', 'enabled', 'expires_at', 'note', 'created_by',
          'created_at'],
    'policy has exactly the §3.2 columns');

SELECT col_type_is('guarded_ddl', 'policy', 'id', 'bigint', 'policy.id is bigint');
SELECT col_type_is('guarded_ddl', 'policy', 'priority', 'integer', 'policy.priority is integer');
SELECT col_type_is('guarded_ddl', 'policy', 'operation', 'text', 'policy.operation is text');
SELECT col_type_is('guarded_ddl', 'policy', 'object_type', 'text', 'policy.object_type is text');
SELECT col_type_is('guarded_ddl', 'policy', 'schema_name', 'text', 'policy.schema_name is text');
SELECT col_type_is('guarded_ddl', 'policy', 'object_name', 'text', 'policy.object_name is text');
SELECT col_type_is('guarded_ddl', 'policy', 'column_name', 'text', 'policy.column_name is text');
SELECT col_type_is('guarded_ddl', 'policy', 'role_name', 'text', 'policy.role_name is text');
SELECT col_type_is('guarded_ddl', 'policy', 'application_name', 'text', 'policy.application_name is text');
SELECT col_type_is('guarded_ddl', 'policy', 'action', 'text', 'policy.action is text');
SELECT col_type_is('guarded_ddl', 'policy', 'backup_max_age', 'interval', 'policy.backup_max_age is interval');
SELECT col_type_is('guarded_ddl', 'policy', 'require_verified_backup', 'boolean', 'policy.require_verified_backup is boolean');
SELECT col_type_is('guarded_ddl', 'policy', 'enabled', 'boolean', 'policy.enabled is boolean');
SELECT col_type_is('guarded_ddl', 'policy', 'expires_at', 'timestamp with time zone', 'policy.expires_at is timestamptz');
SELECT col_type_is('guarded_ddl', 'policy', 'note', 'text', 'policy.note is text');
SELECT col_type_is('guarded_ddl', 'policy', 'created_by', 'name', 'policy.created_by is name');
SELECT col_type_is('guarded_ddl', 'policy', 'created_at', 'timestamp with time zone', 'policy.created_at is timestamptz');

SELECT col_not_null('guarded_ddl', 'policy', 'id', 'policy.id is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'priority', 'policy.priority is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'operation', 'policy.operation is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'object_type', 'policy.object_type is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'schema_name', 'policy.schema_name is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'object_name', 'policy.object_name is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'column_name', 'policy.column_name is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'role_name', 'policy.role_name is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'application_name', 'policy.application_name is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'action', 'policy.action is NOT NULL');
SELECT col_is_null('guarded_ddl', 'policy', 'backup_max_age', 'policy.backup_max_age is nullable (NULL = the setting)');
SELECT col_not_null('guarded_ddl', 'policy', 'require_verified_backup', 'policy.require_verified_backup is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'enabled', 'policy.enabled is NOT NULL');
SELECT col_is_null('guarded_ddl', 'policy', 'expires_at', 'policy.expires_at is nullable');
SELECT col_is_null('guarded_ddl', 'policy', 'note', 'policy.note is nullable');
SELECT col_not_null('guarded_ddl', 'policy', 'created_by', 'policy.created_by is NOT NULL');
SELECT col_not_null('guarded_ddl', 'policy', 'created_at', 'policy.created_at is NOT NULL');

SELECT col_default_is('guarded_ddl', 'policy', 'priority', 100, 'policy.priority defaults to 100');
SELECT col_default_is('guarded_ddl', 'policy', 'operation', '*'::text, 'policy.operation defaults to ''*''');
SELECT col_default_is('guarded_ddl', 'policy', 'object_type', '*'::text, 'policy.object_type defaults to ''*''');
SELECT col_default_is('guarded_ddl', 'policy', 'schema_name', '*'::text, 'policy.schema_name defaults to ''*''');
SELECT col_default_is('guarded_ddl', 'policy', 'object_name', '*'::text, 'policy.object_name defaults to ''*''');
SELECT col_default_is('guarded_ddl', 'policy', 'column_name', '*'::text, 'policy.column_name defaults to ''*''');
SELECT col_default_is('guarded_ddl', 'policy', 'role_name', '*'::text, 'policy.role_name defaults to ''*''');
SELECT col_default_is('guarded_ddl', 'policy', 'application_name', '*'::text, 'policy.application_name defaults to ''*''');
SELECT col_hasnt_default('guarded_ddl', 'policy', 'action', 'policy.action has no default (every rule names its action)');
SELECT col_hasnt_default('guarded_ddl', 'policy', 'backup_max_age', 'policy.backup_max_age has no default (NULL = the setting)');
SELECT col_default_is('guarded_ddl', 'policy', 'require_verified_backup', false, 'policy.require_verified_backup defaults to false');
SELECT col_default_is('guarded_ddl', 'policy', 'enabled', true, 'policy.enabled defaults to true');
SELECT col_default_is('guarded_ddl', 'policy', 'created_by', 'CURRENT_USER'::text, 'policy.created_by defaults to current_user');
SELECT col_default_is('guarded_ddl', 'policy', 'created_at', 'now()'::text, 'policy.created_at defaults to now()');

SELECT col_is_pk('guarded_ddl', 'policy', 'id', 'policy.id is the primary key');
SELECT ok((SELECT attidentity <> '' FROM pg_attribute
            WHERE attrelid = 'guarded_ddl.policy'::regclass AND attname = 'id'),
          'policy.id is an identity column');

------------------------------------------------------------------------------
-- guarded_ddl.backups
------------------------------------------------------------------------------

SELECT has_table('guarded_ddl', 'backups', 'table guarded_ddl.backups exists');
SELECT columns_are('guarded_ddl', 'backups',
    ARRAY['id', 'finished_at', 'tool', 'label', 'kind', 'location', 'restore_verified_at',
          'recorded_by', 'recorded_at'],
    'backups has exactly the §3.2 columns');

SELECT col_type_is('guarded_ddl', 'backups', 'id', 'bigint', 'backups.id is bigint');
SELECT col_type_is('guarded_ddl', 'backups', 'finished_at', 'timestamp with time zone', 'backups.finished_at is timestamptz');
SELECT col_type_is('guarded_ddl', 'backups', 'tool', 'text', 'backups.tool is text');
SELECT col_type_is('guarded_ddl', 'backups', 'label', 'text', 'backups.label is text');
SELECT col_type_is('guarded_ddl', 'backups', 'kind', 'text', 'backups.kind is text');
SELECT col_type_is('guarded_ddl', 'backups', 'location', 'text', 'backups.location is text');
SELECT col_type_is('guarded_ddl', 'backups', 'restore_verified_at', 'timestamp with time zone', 'backups.restore_verified_at is timestamptz');
SELECT col_type_is('guarded_ddl', 'backups', 'recorded_by', 'name', 'backups.recorded_by is name');
SELECT col_type_is('guarded_ddl', 'backups', 'recorded_at', 'timestamp with time zone', 'backups.recorded_at is timestamptz');

SELECT col_not_null('guarded_ddl', 'backups', 'id', 'backups.id is NOT NULL');
SELECT col_not_null('guarded_ddl', 'backups', 'finished_at', 'backups.finished_at is NOT NULL');
SELECT col_not_null('guarded_ddl', 'backups', 'tool', 'backups.tool is NOT NULL');
SELECT col_is_null('guarded_ddl', 'backups', 'label', 'backups.label is nullable');
SELECT col_not_null('guarded_ddl', 'backups', 'kind', 'backups.kind is NOT NULL');
SELECT col_is_null('guarded_ddl', 'backups', 'location', 'backups.location is nullable');
SELECT col_is_null('guarded_ddl', 'backups', 'restore_verified_at', 'backups.restore_verified_at is nullable');
SELECT col_not_null('guarded_ddl', 'backups', 'recorded_by', 'backups.recorded_by is NOT NULL');
SELECT col_not_null('guarded_ddl', 'backups', 'recorded_at', 'backups.recorded_at is NOT NULL');

SELECT col_default_is('guarded_ddl', 'backups', 'kind', 'full'::text, 'backups.kind defaults to ''full''');
SELECT col_default_is('guarded_ddl', 'backups', 'recorded_by', 'SESSION_USER'::text, 'backups.recorded_by defaults to session_user');
SELECT col_default_is('guarded_ddl', 'backups', 'recorded_at', 'now()'::text, 'backups.recorded_at defaults to now()');

SELECT col_is_pk('guarded_ddl', 'backups', 'id', 'backups.id is the primary key');
SELECT ok((SELECT attidentity <> '' FROM pg_attribute
            WHERE attrelid = 'guarded_ddl.backups'::regclass AND attname = 'id'),
          'backups.id is an identity column');

------------------------------------------------------------------------------
-- guarded_ddl.audit
------------------------------------------------------------------------------

SELECT has_table('guarded_ddl', 'audit', 'table guarded_ddl.audit exists');
SELECT columns_are('guarded_ddl', 'audit',
    ARRAY['id', 'logged_at', 'decision', 'operation', 'object_type', 'object_identity',
          'schema_name', 'object_name', 'column_name', 'cascaded', 'holds_data',
          'row_estimate', 'command_tag', 'statement', 'policy_id', 'backup_id',
          'backup_age', 'reason', 'role_name', 'session_role', 'application_name',
          'client_addr', 'backend_pid', 'txid', 'wal_lsn', 'restore_point'],
    'audit has exactly the §3.2 columns');

SELECT col_type_is('guarded_ddl', 'audit', 'id', 'bigint', 'audit.id is bigint');
SELECT col_type_is('guarded_ddl', 'audit', 'logged_at', 'timestamp with time zone', 'audit.logged_at is timestamptz');
SELECT col_type_is('guarded_ddl', 'audit', 'decision', 'text', 'audit.decision is text');
SELECT col_type_is('guarded_ddl', 'audit', 'operation', 'text', 'audit.operation is text');
SELECT col_type_is('guarded_ddl', 'audit', 'object_type', 'text', 'audit.object_type is text');
SELECT col_type_is('guarded_ddl', 'audit', 'object_identity', 'text', 'audit.object_identity is text');
SELECT col_type_is('guarded_ddl', 'audit', 'schema_name', 'text', 'audit.schema_name is text');
SELECT col_type_is('guarded_ddl', 'audit', 'object_name', 'text', 'audit.object_name is text');
SELECT col_type_is('guarded_ddl', 'audit', 'column_name', 'text', 'audit.column_name is text');
SELECT col_type_is('guarded_ddl', 'audit', 'cascaded', 'boolean', 'audit.cascaded is boolean');
SELECT col_type_is('guarded_ddl', 'audit', 'holds_data', 'boolean', 'audit.holds_data is boolean');
SELECT col_type_is('guarded_ddl', 'audit', 'row_estimate', 'bigint', 'audit.row_estimate is bigint');
SELECT col_type_is('guarded_ddl', 'audit', 'command_tag', 'text', 'audit.command_tag is text');
SELECT col_type_is('guarded_ddl', 'audit', 'statement', 'text', 'audit.statement is text');
SELECT col_type_is('guarded_ddl', 'audit', 'policy_id', 'bigint', 'audit.policy_id is bigint');
SELECT col_type_is('guarded_ddl', 'audit', 'backup_id', 'bigint', 'audit.backup_id is bigint');
SELECT col_type_is('guarded_ddl', 'audit', 'backup_age', 'interval', 'audit.backup_age is interval');
SELECT col_type_is('guarded_ddl', 'audit', 'reason', 'text', 'audit.reason is text');
SELECT col_type_is('guarded_ddl', 'audit', 'role_name', 'name', 'audit.role_name is name');
SELECT col_type_is('guarded_ddl', 'audit', 'session_role', 'name', 'audit.session_role is name');
SELECT col_type_is('guarded_ddl', 'audit', 'application_name', 'text', 'audit.application_name is text');
SELECT col_type_is('guarded_ddl', 'audit', 'client_addr', 'inet', 'audit.client_addr is inet');
SELECT col_type_is('guarded_ddl', 'audit', 'backend_pid', 'integer', 'audit.backend_pid is integer');
SELECT col_type_is('guarded_ddl', 'audit', 'txid', 'xid8', 'audit.txid is xid8');
SELECT col_type_is('guarded_ddl', 'audit', 'wal_lsn', 'pg_lsn', 'audit.wal_lsn is pg_lsn');
SELECT col_type_is('guarded_ddl', 'audit', 'restore_point', 'text', 'audit.restore_point is text');

SELECT col_not_null('guarded_ddl', 'audit', 'id', 'audit.id is NOT NULL');
SELECT col_not_null('guarded_ddl', 'audit', 'logged_at', 'audit.logged_at is NOT NULL');
SELECT col_not_null('guarded_ddl', 'audit', 'decision', 'audit.decision is NOT NULL');
SELECT col_not_null('guarded_ddl', 'audit', 'operation', 'audit.operation is NOT NULL');
SELECT col_not_null('guarded_ddl', 'audit', 'object_type', 'audit.object_type is NOT NULL');
SELECT col_not_null('guarded_ddl', 'audit', 'object_identity', 'audit.object_identity is NOT NULL');
SELECT col_is_null('guarded_ddl', 'audit', 'schema_name', 'audit.schema_name is nullable');
SELECT col_is_null('guarded_ddl', 'audit', 'object_name', 'audit.object_name is nullable');
SELECT col_is_null('guarded_ddl', 'audit', 'column_name', 'audit.column_name is nullable');
SELECT col_not_null('guarded_ddl', 'audit', 'cascaded', 'audit.cascaded is NOT NULL');
SELECT col_is_null('guarded_ddl', 'audit', 'holds_data', 'audit.holds_data is nullable (NULL = could not tell)');
SELECT col_is_null('guarded_ddl', 'audit', 'row_estimate', 'audit.row_estimate is nullable');
SELECT col_not_null('guarded_ddl', 'audit', 'command_tag', 'audit.command_tag is NOT NULL');
SELECT col_is_null('guarded_ddl', 'audit', 'statement', 'audit.statement is nullable');
SELECT col_is_null('guarded_ddl', 'audit', 'policy_id', 'audit.policy_id is nullable (NULL = default action)');
SELECT col_is_null('guarded_ddl', 'audit', 'backup_id', 'audit.backup_id is nullable');
SELECT col_is_null('guarded_ddl', 'audit', 'backup_age', 'audit.backup_age is nullable');
SELECT col_is_null('guarded_ddl', 'audit', 'reason', 'audit.reason is nullable');
SELECT col_not_null('guarded_ddl', 'audit', 'role_name', 'audit.role_name is NOT NULL');
SELECT col_not_null('guarded_ddl', 'audit', 'session_role', 'audit.session_role is NOT NULL');
SELECT col_is_null('guarded_ddl', 'audit', 'application_name', 'audit.application_name is nullable');
SELECT col_is_null('guarded_ddl', 'audit', 'client_addr', 'audit.client_addr is nullable (Unix socket)');
SELECT col_not_null('guarded_ddl', 'audit', 'backend_pid', 'audit.backend_pid is NOT NULL');
SELECT col_is_null('guarded_ddl', 'audit', 'txid', 'audit.txid is nullable');
SELECT col_is_null('guarded_ddl', 'audit', 'wal_lsn', 'audit.wal_lsn is nullable');
SELECT col_is_null('guarded_ddl', 'audit', 'restore_point', 'audit.restore_point is nullable');

SELECT col_default_is('guarded_ddl', 'audit', 'logged_at', 'clock_timestamp()'::text, 'audit.logged_at defaults to clock_timestamp()');

SELECT col_is_pk('guarded_ddl', 'audit', 'id', 'audit.id is the primary key');
SELECT ok((SELECT attidentity <> '' FROM pg_attribute
            WHERE attrelid = 'guarded_ddl.audit'::regclass AND attname = 'id'),
          'audit.id is an identity column');

------------------------------------------------------------------------------
-- Views
------------------------------------------------------------------------------

SELECT has_view('guarded_ddl', 'denials', 'view guarded_ddl.denials exists');
SELECT results_eq(
    $$SELECT attname::text COLLATE "default", format_type(atttypid, atttypmod) FROM pg_attribute
       WHERE attrelid = 'guarded_ddl.denials'::regclass AND attnum > 0 AND NOT attisdropped
       ORDER BY attnum$$,
    $$SELECT attname::text COLLATE "default", format_type(atttypid, atttypmod) FROM pg_attribute
       WHERE attrelid = 'guarded_ddl.audit'::regclass AND attnum > 0 AND NOT attisdropped
       ORDER BY attnum$$,
    'denials has the audit''s columns, same names, types and order');

SELECT has_view('guarded_ddl', 'recovery', 'view guarded_ddl.recovery exists');
SELECT columns_are('guarded_ddl', 'recovery',
    ARRAY['audit_id', 'logged_at', 'object_identity', 'schema_name', 'object_name',
          'restore_point', 'txid', 'wal_lsn', 'recovery_settings', 'restore_command'],
    'recovery has exactly the §3.2 columns, restore_command (1.1) last');
SELECT col_type_is('guarded_ddl', 'recovery', 'audit_id', 'bigint', 'recovery.audit_id is bigint');
SELECT col_type_is('guarded_ddl', 'recovery', 'logged_at', 'timestamp with time zone', 'recovery.logged_at is timestamptz');
SELECT col_type_is('guarded_ddl', 'recovery', 'object_identity', 'text', 'recovery.object_identity is text');
SELECT col_type_is('guarded_ddl', 'recovery', 'restore_point', 'text', 'recovery.restore_point is text');
SELECT col_type_is('guarded_ddl', 'recovery', 'txid', 'xid8', 'recovery.txid is xid8');
SELECT col_type_is('guarded_ddl', 'recovery', 'wal_lsn', 'pg_lsn', 'recovery.wal_lsn is pg_lsn');
SELECT col_type_is('guarded_ddl', 'recovery', 'recovery_settings', 'text', 'recovery.recovery_settings is text');

------------------------------------------------------------------------------
-- Functions: exact signatures, parameter names and defaults, return types
------------------------------------------------------------------------------

SELECT has_function('guarded_ddl', 'record_backup',
    ARRAY['text', 'text', 'timestamp with time zone', 'text', 'text'],
    'record_backup(text, text, timestamptz, text, text) exists');
SELECT function_returns('guarded_ddl', 'record_backup',
    ARRAY['text', 'text', 'timestamp with time zone', 'text', 'text'], 'bigint',
    'record_backup() returns bigint');
SELECT is(pg_get_function_arguments('guarded_ddl.record_backup(text,text,timestamptz,text,text)'::regprocedure),
    'tool text, label text DEFAULT NULL::text, finished_at timestamp with time zone DEFAULT now(), '
    'kind text DEFAULT ''full''::text, location text DEFAULT NULL::text',
    'record_backup(tool, label DEFAULT NULL, finished_at DEFAULT now(), kind DEFAULT ''full'', location DEFAULT NULL)');

SELECT has_function('guarded_ddl', 'record_restore_test',
    ARRAY['bigint', 'timestamp with time zone'],
    'record_restore_test(bigint, timestamptz) exists');
SELECT function_returns('guarded_ddl', 'record_restore_test',
    ARRAY['bigint', 'timestamp with time zone'], 'void',
    'record_restore_test() returns void');
SELECT is(pg_get_function_arguments('guarded_ddl.record_restore_test(bigint,timestamptz)'::regprocedure),
    'backup_id bigint, verified_at timestamp with time zone DEFAULT now()',
    'record_restore_test(backup_id, verified_at DEFAULT now())');

SELECT has_function('guarded_ddl', 'override', ARRAY['text'], 'override(text) exists');
SELECT function_returns('guarded_ddl', 'override', ARRAY['text'], 'void', 'override() returns void');
SELECT is(pg_get_function_arguments('guarded_ddl.override(text)'::regprocedure),
    'reason text', 'override(reason)');

SELECT has_function('guarded_ddl', 'check', ARRAY['text'], 'check(text) exists');
SELECT function_returns('guarded_ddl', 'check', ARRAY['text'], 'setof record',
    'check() returns a table (setof record)');
SELECT is(pg_get_function_arguments('guarded_ddl.check(text)'::regprocedure),
    'statements text', 'check(statements)');

SELECT has_function('guarded_ddl', 'status', ARRAY[]::text[], 'status() exists');
SELECT function_returns('guarded_ddl', 'status', ARRAY[]::text[], 'setof record',
    'status() returns a table (setof record)');
SELECT is(pg_get_function_result('guarded_ddl.status()'::regprocedure),
    'TABLE(item text, value text, ok boolean)', 'status() returns TABLE(item text, value text, ok boolean)');

SELECT has_function('guarded_ddl', 'purge_audit', ARRAY['interval'], 'purge_audit(interval) exists');
SELECT function_returns('guarded_ddl', 'purge_audit', ARRAY['interval'], 'bigint',
    'purge_audit() returns bigint');
SELECT is(pg_get_function_arguments('guarded_ddl.purge_audit(interval)'::regprocedure),
    'older_than interval', 'purge_audit(older_than)');

------------------------------------------------------------------------------
-- Recycle bin (§3.3, §3.6)
------------------------------------------------------------------------------

SELECT has_schema('guarded_ddl_trash', 'schema guarded_ddl_trash (the recycle bin) exists');
SELECT has_view('guarded_ddl', 'trash', 'view guarded_ddl.trash exists');
SELECT columns_are('guarded_ddl', 'trash',
    ARRAY['id', 'dropped_at', 'original_schema', 'original_name', 'trash_name',
          'row_estimate', 'dropped_by', 'audit_id',
          'operation', 'object_type', 'column_name', 'size_bytes'],
    'trash has exactly the §3.6 columns, the 1.1 ones last');
SELECT function_returns('guarded_ddl', 'restore', ARRAY['bigint', 'text'], 'regclass',
    'restore(bigint, text) returns regclass');
SELECT is(pg_get_function_arguments('guarded_ddl.restore(bigint,text)'::regprocedure),
    'trash_id bigint, new_name text DEFAULT NULL::text', 'restore(trash_id, new_name DEFAULT NULL)');
SELECT function_returns('guarded_ddl', 'purge_trash', ARRAY['interval'], 'bigint',
    'purge_trash(interval) returns bigint');
SELECT is(pg_get_function_arguments('guarded_ddl.purge_trash(interval)'::regprocedure),
    'older_than interval', 'purge_trash(older_than)');

------------------------------------------------------------------------------
-- Event triggers
------------------------------------------------------------------------------

SELECT results_eq(
    $$SELECT evtname::text COLLATE "default", evtevent::text COLLATE "default", evtenabled::text
        FROM pg_event_trigger
       WHERE evtname LIKE 'guarded\_ddl\_%'
       ORDER BY evtname$$,
    $$VALUES ('guarded_ddl_ddl_command_end'::text,   'ddl_command_end'::text,   'A'::text),
             ('guarded_ddl_ddl_command_start'::text, 'ddl_command_start'::text, 'A'::text),
             ('guarded_ddl_sql_drop'::text,          'sql_drop'::text,          'A'::text),
             ('guarded_ddl_table_rewrite'::text,     'table_rewrite'::text,     'A'::text)$$,
    'the four event triggers exist on the right events, all ENABLE ALWAYS');

SELECT is_empty(
    $$SELECT t.evtname FROM pg_event_trigger AS t JOIN pg_proc AS p ON p.oid = t.evtfoid
       WHERE t.evtname LIKE 'guarded\_ddl\_%'
         AND p.pronamespace <> 'guarded_ddl'::regnamespace$$,
    'the event triggers run functions of schema guarded_ddl');

SELECT is(
    (SELECT count(*)::int
       FROM pg_depend AS d JOIN pg_event_trigger AS t ON t.oid = d.objid
      WHERE d.classid = 'pg_event_trigger'::regclass
        AND d.refclassid = 'pg_extension'::regclass
        AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'guarded_ddl')
        AND d.deptype = 'e'
        AND t.evtname LIKE 'guarded\_ddl\_%'),
    4,
    'the four event triggers are members of the extension');

------------------------------------------------------------------------------
-- Settings (§3.4): exist, defaults, superuser-only
------------------------------------------------------------------------------

SELECT results_eq(
    $$SELECT name, vartype, boot_val, context FROM pg_settings
       WHERE name IN ('guarded_ddl.mode', 'guarded_ddl.default_action',
                      'guarded_ddl.backup_max_age', 'guarded_ddl.audit',
                      'guarded_ddl.restore_points')
       ORDER BY name$$,
    $$VALUES ('guarded_ddl.audit'::text,          'enum'::text,    'destructive'::text,    'superuser'::text),
             ('guarded_ddl.backup_max_age'::text, 'integer'::text, '1440'::text,           'superuser'::text),
             ('guarded_ddl.default_action'::text, 'enum'::text,    'require_backup'::text, 'superuser'::text),
             ('guarded_ddl.mode'::text,           'enum'::text,    'enforce'::text,        'superuser'::text),
             ('guarded_ddl.restore_points'::text, 'bool'::text,    'on'::text,             'superuser'::text)$$,
    'the five §3.4 settings exist with their defaults and are superuser-only');

SELECT is(current_setting('guarded_ddl.mode'), 'enforce', 'guarded_ddl.mode is enforce');
SELECT is(current_setting('guarded_ddl.default_action'), 'require_backup',
    'guarded_ddl.default_action is require_backup');
SELECT is(current_setting('guarded_ddl.backup_max_age'), '1d',
    'guarded_ddl.backup_max_age is 24 h (shown as 1d)');
SELECT is((SELECT unit FROM pg_settings WHERE name = 'guarded_ddl.backup_max_age'), 'min',
    'guarded_ddl.backup_max_age has minutes resolution');
SELECT is(current_setting('guarded_ddl.audit'), 'destructive', 'guarded_ddl.audit is destructive');
SELECT is(current_setting('guarded_ddl.restore_points'), 'on', 'guarded_ddl.restore_points is on');

SELECT set_eq(
    $$SELECT unnest(enumvals) FROM pg_settings WHERE name = 'guarded_ddl.mode'$$,
    ARRAY['enforce', 'warn', 'off'],
    'guarded_ddl.mode accepts enforce, warn, off');
SELECT set_eq(
    $$SELECT unnest(enumvals) FROM pg_settings WHERE name = 'guarded_ddl.default_action'$$,
    ARRAY['require_backup', 'deny', 'warn', 'allow'],
    'guarded_ddl.default_action accepts require_backup, deny, warn, allow');
SELECT set_eq(
    $$SELECT unnest(enumvals) FROM pg_settings WHERE name = 'guarded_ddl.audit'$$,
    ARRAY['destructive', 'all'],
    'guarded_ddl.audit accepts destructive, all');

------------------------------------------------------------------------------
-- Privileges: nothing is granted to PUBLIC (grantee 0).  A NULL ACL means
-- the built-in default, which for functions includes EXECUTE for PUBLIC, so
-- NULL is expanded with acldefault() rather than skipped.
------------------------------------------------------------------------------

SELECT is_empty(
    $$SELECT n.nspname
        FROM pg_namespace AS n,
             aclexplode(coalesce(n.nspacl, acldefault('n'::"char", n.nspowner))) AS a
       WHERE n.nspname IN ('guarded_ddl', 'guarded_ddl_trash') AND a.grantee = 0$$,
    'nothing on schemas guarded_ddl and guarded_ddl_trash is granted to PUBLIC');

SELECT is_empty(
    $$SELECT c.relname, a.privilege_type
        FROM pg_class AS c,
             aclexplode(coalesce(c.relacl,
                                 acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char",
                                            c.relowner))) AS a
       WHERE c.relnamespace = 'guarded_ddl'::regnamespace
         AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
         AND a.grantee = 0$$,
    'no table, view or sequence of guarded_ddl grants anything to PUBLIC');

SELECT is_empty(
    $$SELECT c.relname, att.attname, a.privilege_type
        FROM pg_class AS c
        JOIN pg_attribute AS att ON att.attrelid = c.oid,
             aclexplode(att.attacl) AS a
       WHERE c.relnamespace = 'guarded_ddl'::regnamespace
         AND att.attacl IS NOT NULL
         AND a.grantee = 0$$,
    'no column of guarded_ddl grants anything to PUBLIC');

SELECT is_empty(
    $$SELECT p.oid::regprocedure, a.privilege_type
        FROM pg_proc AS p,
             aclexplode(coalesce(p.proacl, acldefault('f'::"char", p.proowner))) AS a
       WHERE p.pronamespace = 'guarded_ddl'::regnamespace
         AND a.grantee = 0$$,
    'no function of guarded_ddl grants EXECUTE to PUBLIC');

-- The three checks above are not vacuous: they looked at the objects.
SELECT cmp_ok(
    (SELECT count(*)::int FROM pg_class
      WHERE relnamespace = 'guarded_ddl'::regnamespace AND relkind IN ('r', 'v', 'S')),
    '>=', 8,
    'the privilege checks covered at least the 3 tables, 2 views and 3 sequences of §3.2');
SELECT cmp_ok(
    (SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'guarded_ddl'::regnamespace),
    '>=', 6,
    'the privilege checks covered the schema''s functions');

SELECT * FROM finish();
ROLLBACK;
