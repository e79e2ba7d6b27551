/* guarded_ddl--1.1.sql -- objects of the guarded_ddl extension, version 1.1
 *
 * The public interface (tables, views, functions) follows DESIGN.md §3.
 * Everything is schema-qualified; nothing is granted to PUBLIC.  Functions
 * that write on behalf of less privileged roles are SECURITY DEFINER with a
 * pinned search_path.  guarded_ddl--1.0--1.1.sql brings a 1.0 install to
 * exactly this.
 */

\echo Use "CREATE EXTENSION guarded_ddl" to load this file. \quit

-- CREATE EXTENSION creates the schema guarded_ddl only when it is missing;
-- otherwise it installs into whatever is there.  A schema that another role
-- created beforehand would leave that role in control of guarded_ddl (a
-- schema owner may drop or replace any object in it, a role with CREATE may
-- plant objects beside guarded_ddl's), so the install goes on only into a
-- schema owned by a superuser in which no other role may create objects --
-- the schema CREATE EXTENSION has just made, or one a superuser made (a
-- restore of pg_dump's output does that).  guarded_ddl_trash is always
-- created below: one that already exists is refused with a clearer message
-- than CREATE SCHEMA's.  Nothing has been created when these checks fail.
DO $$
DECLARE
    owner_name name;
    owner_is_superuser boolean;
    creator name;
    creator_text text;
    n_relations bigint;
BEGIN
    SELECT r.rolname, r.rolsuper
      INTO owner_name, owner_is_superuser
      FROM pg_catalog.pg_namespace AS n
      JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
     WHERE n.nspname OPERATOR(pg_catalog.=) 'guarded_ddl';
    IF owner_is_superuser IS DISTINCT FROM true THEN
        RAISE EXCEPTION 'schema "guarded_ddl" already exists and is not owned by a superuser'
            USING ERRCODE = 'duplicate_schema',
                  DETAIL = pg_catalog.format('Schema "guarded_ddl" is owned by role "%s", which could drop or replace guarded_ddl''s objects in it and so disable the guard.',
                                             owner_name),
                  HINT = 'Check what the schema contains, drop or rename it, then run CREATE EXTENSION guarded_ddl again.';
    END IF;

    SELECT r.rolname
      INTO creator
      FROM pg_catalog.pg_namespace AS n
     CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) AS a
      LEFT JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) a.grantee
     WHERE n.nspname OPERATOR(pg_catalog.=) 'guarded_ddl'
       AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
       AND (r.oid IS NULL OR NOT r.rolsuper)
     ORDER BY 1
     LIMIT 1;
    IF FOUND THEN
        creator_text := CASE WHEN creator IS NULL THEN 'PUBLIC'
                             ELSE pg_catalog.format('role "%s"', creator) END;
        RAISE EXCEPTION 'schema "guarded_ddl" already exists and lets % create objects in it', creator_text
            USING ERRCODE = 'duplicate_schema',
                  DETAIL = pg_catalog.format('Schema "guarded_ddl" is owned by role "%s" and grants CREATE to %s, which could plant objects beside guarded_ddl''s.',
                                             owner_name, creator_text),
                  HINT = pg_catalog.format('Revoke it (REVOKE CREATE ON SCHEMA guarded_ddl FROM %s), check what the schema contains, then run CREATE EXTENSION guarded_ddl again.',
                                           coalesce(pg_catalog.quote_ident(creator), 'PUBLIC'));
    END IF;

    SELECT r.rolname,
           (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class AS c
             WHERE c.relnamespace OPERATOR(pg_catalog.=) n.oid)
      INTO owner_name, n_relations
      FROM pg_catalog.pg_namespace AS n
      LEFT JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
     WHERE n.nspname OPERATOR(pg_catalog.=) 'guarded_ddl_trash';
    IF FOUND THEN
        RAISE EXCEPTION 'schema "guarded_ddl_trash" already exists'
            USING ERRCODE = 'duplicate_schema',
                  DETAIL = pg_catalog.format('guarded_ddl keeps soft-dropped tables in schema guarded_ddl_trash and creates it itself; the existing one is owned by role "%s" and holds %s %s.',
                                             owner_name, n_relations,
                                             CASE WHEN n_relations OPERATOR(pg_catalog.=) 1 THEN 'relation' ELSE 'relations' END),
                  HINT = 'Check what the schema contains, drop or rename it, then run CREATE EXTENSION guarded_ddl again.';
    END IF;
END;
$$;

-- The schema is created by CREATE EXTENSION (control file: schema = guarded_ddl).
REVOKE ALL ON SCHEMA guarded_ddl FROM PUBLIC;
COMMENT ON SCHEMA guarded_ddl IS
    'guarded_ddl: policy, backup markers and audit of data-destroying DDL';

------------------------------------------------------------------------------
-- Helpers used by constraints
------------------------------------------------------------------------------

CREATE FUNCTION guarded_ddl.glob_is_valid(pattern text) RETURNS boolean
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'guarded_ddl_glob_is_valid';
COMMENT ON FUNCTION guarded_ddl.glob_is_valid(text) IS
    'true when the pattern is a well-formed glob (*, ?, \ escapes; no trailing backslash)';

CREATE FUNCTION guarded_ddl.glob_match(pattern text, subject text) RETURNS boolean
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'guarded_ddl_glob_match';
COMMENT ON FUNCTION guarded_ddl.glob_match(text, text) IS
    'the glob matcher the policy uses: case-sensitive, * any run, ? one character, \ escapes';

------------------------------------------------------------------------------
-- Rights on guarded_ddl's tables.  Predefined roles (pg_write_all_data) pass
-- every ACL check, so PostgreSQL alone would let their members rewrite the
-- policy, forge backup markers or clean the audit.  A right counts here only
-- when it was granted on the table itself (to a role the user is a member of,
-- or to PUBLIC), or for the table's owner -- which is how guarded_ddl writes
-- its tables: as the extension owner -- and for superusers.
------------------------------------------------------------------------------

CREATE FUNCTION guarded_ddl.require_granted_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    extension_only constant boolean := TG_NARGS > 0 AND TG_ARGV[0] = 'extension_only';
    table_name constant text := pg_catalog.quote_ident(TG_TABLE_SCHEMA) || '.' || pg_catalog.quote_ident(TG_TABLE_NAME);
    verb constant text := CASE TG_OP WHEN 'INSERT' THEN 'insert into'
                                     WHEN 'UPDATE' THEN 'update'
                                     WHEN 'DELETE' THEN 'delete from'
                                     ELSE 'truncate' END;
    owner_id oid;
    acl aclitem[];
    ungranted text;
BEGIN
    SELECT c.relowner, c.relacl INTO owner_id, acl
      FROM pg_catalog.pg_class AS c
     WHERE c.oid = TG_RELID;

    -- the owner (guarded_ddl itself runs its writes as the owner), members
    -- of the owner, superusers
    IF pg_catalog.pg_has_role(owner_id, 'MEMBER') THEN
        RETURN NEW;
    END IF;

    IF NOT extension_only THEN
        -- the right granted on the table
        IF EXISTS (SELECT 1
                     FROM pg_catalog.aclexplode(acl) AS a
                    WHERE a.privilege_type = TG_OP
                      AND CASE WHEN a.grantee = 0 THEN true
                               ELSE pg_catalog.pg_has_role(a.grantee, 'MEMBER') END) THEN
            RETURN NEW;
        END IF;

        -- an UPDATE may also rest on column grants, one for every column it
        -- changes
        IF TG_OP = 'UPDATE' AND TG_LEVEL = 'ROW' THEN
            SELECT n.key INTO ungranted
              FROM pg_catalog.jsonb_each(pg_catalog.to_jsonb(NEW)) AS n
             WHERE n.value IS DISTINCT FROM pg_catalog.jsonb_extract_path(pg_catalog.to_jsonb(OLD), n.key)
               AND NOT EXISTS (SELECT 1
                                 FROM pg_catalog.pg_attribute AS att
                                CROSS JOIN LATERAL pg_catalog.aclexplode(att.attacl) AS a
                                WHERE att.attrelid = TG_RELID
                                  AND att.attname = n.key
                                  AND a.privilege_type = 'UPDATE'
                                  AND CASE WHEN a.grantee = 0 THEN true
                                           ELSE pg_catalog.pg_has_role(a.grantee, 'MEMBER') END)
             ORDER BY n.key
             LIMIT 1;
            IF NOT FOUND AND EXISTS (SELECT 1
                                       FROM pg_catalog.pg_attribute AS att
                                      CROSS JOIN LATERAL pg_catalog.aclexplode(att.attacl) AS a
                                      WHERE att.attrelid = TG_RELID
                                        AND a.privilege_type = 'UPDATE'
                                        AND CASE WHEN a.grantee = 0 THEN true
                                                 ELSE pg_catalog.pg_has_role(a.grantee, 'MEMBER') END) THEN
                RETURN NEW;
            END IF;
        END IF;
    END IF;

    IF extension_only THEN
        RAISE EXCEPTION 'permission denied to % %', verb, table_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('Only guarded_ddl itself writes %s; no grant lets role "%s" do it.',
                                             table_name, current_user),
                  HINT = CASE WHEN TG_OP IN ('DELETE', 'TRUNCATE')
                              THEN 'Use guarded_ddl.purge_audit() to remove old rows.'
                              ELSE 'Decisions are recorded by guarded_ddl as they are taken; nothing is written by hand.' END;
    ELSIF ungranted IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied to % %', verb, table_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('Role "%s" holds no UPDATE right granted on %s or on its column "%s": rights that come from predefined roles such as pg_write_all_data do not count for guarded_ddl''s tables.',
                                             current_user, table_name, ungranted),
                  HINT = pg_catalog.format('Have the right granted on the table itself (GRANT UPDATE ON %s) to a role you are a member of.',
                                           table_name);
    ELSE
        RAISE EXCEPTION 'permission denied to % %', verb, table_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('Role "%s" holds no %s right granted on %s itself: rights that come from predefined roles such as pg_write_all_data do not count for guarded_ddl''s tables.',
                                             current_user, TG_OP, table_name),
                  HINT = pg_catalog.format('Have the right granted on the table itself (GRANT %s ON %s) to a role you are a member of.',
                                           TG_OP, table_name);
    END IF;
END;
$$;
COMMENT ON FUNCTION guarded_ddl.require_granted_write() IS
    'refuses INSERT, UPDATE, DELETE and TRUNCATE of guarded_ddl''s tables unless the right was granted on the table itself (UPDATE: or on every column it changes), or the role is the owner (guarded_ddl''s own writes) or a superuser; with the argument extension_only, only the owner and superusers';

------------------------------------------------------------------------------
-- Policy
------------------------------------------------------------------------------

CREATE TABLE guarded_ddl.policy (
    id                      bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    priority                int NOT NULL DEFAULT 100,
    operation               text NOT NULL DEFAULT '*',
    object_type             text NOT NULL DEFAULT '*',
    schema_name             text NOT NULL DEFAULT '*',
    object_name             text NOT NULL DEFAULT '*',
    column_name             text NOT NULL DEFAULT '*',
    role_name               text NOT NULL DEFAULT '*',
    application_name        text NOT NULL DEFAULT '*',
    action                  text NOT NULL,
    backup_max_age          interval,
    require_verified_backup boolean NOT NULL DEFAULT false,
    enabled                 boolean NOT NULL DEFAULT true,
    expires_at              timestamptz,
    note                    text,
    created_by              name NOT NULL DEFAULT current_user,
    created_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT policy_operation_valid CHECK (operation IN
        ('*', 'drop', 'alter_type', 'truncate', 'rename', 'detach_partition',
         'set_unlogged', 'drop_constraint', 'delete_all')),
    CONSTRAINT policy_action_valid CHECK (action IN
        ('allow', 'warn', 'require_backup', 'deny', 'soft_drop')),
    CONSTRAINT policy_backup_max_age_positive CHECK
        (backup_max_age IS NULL OR backup_max_age > interval '0')
);

COMMENT ON TABLE guarded_ddl.policy IS
    'rules deciding DROP / destructive ALTER: the first enabled, unexpired rule in (priority, id) order whose every pattern matches decides';
COMMENT ON COLUMN guarded_ddl.policy.priority IS 'lower is evaluated first; ties broken by id';
COMMENT ON COLUMN guarded_ddl.policy.operation IS
    'drop, alter_type, truncate, rename, detach_partition, set_unlogged, drop_constraint, delete_all (decided only by rules naming it), or *';
COMMENT ON COLUMN guarded_ddl.policy.object_type IS
    'PostgreSQL object type word as pg_identify_object() prints it (table, table column, schema, ...), or *';
COMMENT ON COLUMN guarded_ddl.policy.schema_name IS 'glob on the unquoted schema name';
COMMENT ON COLUMN guarded_ddl.policy.object_name IS 'glob on the unquoted object (table) name';
COMMENT ON COLUMN guarded_ddl.policy.column_name IS 'glob on the unquoted column name (column intents)';
COMMENT ON COLUMN guarded_ddl.policy.role_name IS 'glob on current_user of the statement';
COMMENT ON COLUMN guarded_ddl.policy.application_name IS 'glob on application_name of the session';
COMMENT ON COLUMN guarded_ddl.policy.action IS 'allow, warn, require_backup, deny or soft_drop';
COMMENT ON COLUMN guarded_ddl.policy.backup_max_age IS
    'for require_backup: how old the newest backup may be; NULL means guarded_ddl.backup_max_age';
COMMENT ON COLUMN guarded_ddl.policy.require_verified_backup IS
    'only backups with a recorded restore test count';
COMMENT ON COLUMN guarded_ddl.policy.expires_at IS 'the rule is ignored after this time';

-- Exact object names are looked up through this index-like grouping in the
-- backend cache; the btree helps DBAs browsing large rule sets.
CREATE INDEX policy_object_name_idx ON guarded_ddl.policy (object_name);

-- Clear messages for bad rules; the CHECK constraints above are the backstop.
-- SECURITY DEFINER so that a policy admin needs no EXECUTE on the helpers.
CREATE FUNCTION guarded_ddl.policy_validate() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    known_types constant text[] := ARRAY[
        'table', 'table column', 'index', 'sequence', 'toast table', 'view',
        'view column', 'materialized view', 'materialized view column',
        'composite type', 'composite type column', 'foreign table',
        'foreign table column', 'aggregate', 'function', 'procedure', 'type',
        'cast', 'collation', 'table constraint', 'domain constraint',
        'conversion', 'default value', 'language', 'large object', 'operator',
        'operator class', 'operator family', 'access method',
        'operator of access method', 'function of access method', 'rule',
        'trigger', 'schema', 'statistics object', 'text search parser',
        'text search dictionary', 'text search template',
        'text search configuration', 'role', 'database', 'tablespace',
        'foreign-data wrapper', 'server', 'user mapping', 'default acl',
        'extension', 'event trigger', 'parameter ACL', 'policy', 'publication',
        'publication namespace', 'publication relation', 'subscription',
        'transform', 'index column', 'sequence column'];
    backslash constant text := pg_catalog.chr(92);
    max_name_bytes constant int := pg_catalog.current_setting('max_identifier_length')::int;
    col text;
    val text;
    old_val text;
    ch text;
    escaped boolean;
    shortest int;
    narrowed_by_application_only boolean;
    was_narrowed_by_application_only boolean := false;
BEGIN
    IF NEW.operation IS NULL OR NOT NEW.operation = ANY (ARRAY['*', 'drop', 'alter_type',
            'truncate', 'rename', 'detach_partition', 'set_unlogged', 'drop_constraint',
            'delete_all']) THEN
        RAISE EXCEPTION 'unknown operation "%" in guarded_ddl.policy', NEW.operation
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Valid operations are drop, alter_type, truncate, rename, detach_partition, set_unlogged, drop_constraint, delete_all and *.';
    END IF;
    IF NEW.action IS NULL OR NOT NEW.action = ANY (ARRAY['allow', 'warn', 'require_backup',
            'deny', 'soft_drop']) THEN
        RAISE EXCEPTION 'unknown action "%" in guarded_ddl.policy', NEW.action
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Valid actions are allow, warn, require_backup, deny and soft_drop.';
    END IF;
    IF NEW.object_type IS NULL OR NOT (NEW.object_type = '*' OR NEW.object_type = ANY (known_types)) THEN
        RAISE EXCEPTION 'unknown object type "%" in guarded_ddl.policy', NEW.object_type
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use the words pg_identify_object() prints, such as table, table column, schema, materialized view or sequence, or *.';
    END IF;
    IF NEW.backup_max_age IS NOT NULL AND NEW.backup_max_age <= interval '0' THEN
        RAISE EXCEPTION 'backup_max_age must be positive, not %', NEW.backup_max_age
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave it NULL to use the setting guarded_ddl.backup_max_age.';
    END IF;
    FOREACH col IN ARRAY ARRAY['schema_name', 'object_name', 'column_name', 'role_name',
                               'application_name'] LOOP
        val := CASE col
                   WHEN 'schema_name' THEN NEW.schema_name
                   WHEN 'object_name' THEN NEW.object_name
                   WHEN 'column_name' THEN NEW.column_name
                   WHEN 'role_name' THEN NEW.role_name
                   ELSE NEW.application_name END;
        IF val IS NOT NULL AND NOT guarded_ddl.glob_is_valid(val) THEN
            RAISE EXCEPTION 'malformed glob "%" in guarded_ddl.policy.%', val, col
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A pattern may not end with an unescaped backslash.',
                      HINT = 'Use \\ for a literal backslash, \* and \? for literal * and ?.';
        END IF;

        -- Schema, object, column and role names are at most
        -- max_identifier_length (63) bytes: a pattern whose every match
        -- would be longer can never match.  Its shortest match is its
        -- literal characters plus one character per '?'.  Checked when the
        -- pattern is written, so a rule kept from an older version can
        -- still be disabled or deleted.
        CONTINUE WHEN col = 'application_name' OR val IS NULL;
        IF TG_OP = 'UPDATE' THEN
            old_val := CASE col
                           WHEN 'schema_name' THEN OLD.schema_name
                           WHEN 'object_name' THEN OLD.object_name
                           WHEN 'column_name' THEN OLD.column_name
                           ELSE OLD.role_name END;
            CONTINUE WHEN val = old_val;
        END IF;
        shortest := 0;
        escaped := false;
        FOREACH ch IN ARRAY pg_catalog.regexp_split_to_array(val, '') LOOP
            IF escaped THEN
                shortest := shortest + pg_catalog.octet_length(ch);
                escaped := false;
            ELSIF ch = backslash THEN
                escaped := true;
            ELSIF ch = '?' THEN
                shortest := shortest + 1;
            ELSIF ch <> '*' THEN
                shortest := shortest + pg_catalog.octet_length(ch);
            END IF;
        END LOOP;
        IF shortest > max_name_bytes THEN
            RAISE EXCEPTION 'pattern in guarded_ddl.policy.% can never match: names are at most % bytes', col, max_name_bytes
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = pg_catalog.format('The pattern "%s" matches only names of at least %s bytes.', val, shortest),
                      HINT = 'Write the name as PostgreSQL stores it: a longer identifier is cut short when the object is created.';
        END IF;
    END LOOP;

    -- application_name is whatever the client says it is: a rule that lets
    -- a statement through and is narrowed by nothing else applies to every
    -- role on every object.  Accepted, but said out loud.
    narrowed_by_application_only :=
        NEW.enabled AND NEW.action = ANY (ARRAY['allow', 'warn'])
        AND NEW.application_name !~ '^[*]+$'
        AND NEW.schema_name ~ '^[*]+$' AND NEW.object_name ~ '^[*]+$'
        AND NEW.column_name ~ '^[*]+$' AND NEW.role_name ~ '^[*]+$';
    IF TG_OP = 'UPDATE' THEN
        was_narrowed_by_application_only :=
            OLD.enabled AND OLD.action = ANY (ARRAY['allow', 'warn'])
            AND OLD.application_name !~ '^[*]+$'
            AND OLD.schema_name ~ '^[*]+$' AND OLD.object_name ~ '^[*]+$'
            AND OLD.column_name ~ '^[*]+$' AND OLD.role_name ~ '^[*]+$';
    END IF;
    IF narrowed_by_application_only AND NOT was_narrowed_by_application_only THEN
        RAISE WARNING 'policy rule % is narrowed only by application_name, so it applies to every role', NEW.id
            USING DETAIL = pg_catalog.format('Any client can set its application_name, so every role that sets it to match "%s" gets action %s from this rule, on objects of any name.',
                                             NEW.application_name, NEW.action),
                  HINT = 'Narrow the rule by role_name (and schema_name or object_name) as well; guarded_ddl.status() lists such rules.';
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION guarded_ddl.policy_validate() IS
    'refuses malformed policy rows (and patterns that can never match) with a clear message; warns about allow and warn rules narrowed only by application_name';

CREATE TRIGGER policy_validate
    BEFORE INSERT OR UPDATE ON guarded_ddl.policy
    FOR EACH ROW EXECUTE FUNCTION guarded_ddl.policy_validate();

-- Plain DML sends no cache invalidation; this makes every backend reload the
-- rules at its next statement once the change commits.
CREATE FUNCTION guarded_ddl.policy_changed() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'guarded_ddl_policy_changed';
COMMENT ON FUNCTION guarded_ddl.policy_changed() IS
    'invalidates every backend''s cached policy when the rules change';

CREATE TRIGGER policy_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON guarded_ddl.policy
    FOR EACH STATEMENT EXECUTE FUNCTION guarded_ddl.policy_changed();

CREATE TRIGGER policy_granted_writes
    BEFORE INSERT OR DELETE OR TRUNCATE ON guarded_ddl.policy
    FOR EACH STATEMENT EXECUTE FUNCTION guarded_ddl.require_granted_write();
COMMENT ON TRIGGER policy_granted_writes ON guarded_ddl.policy IS
    'INSERT, DELETE and TRUNCATE need the right granted on the table itself (pg_write_all_data does not count)';
CREATE TRIGGER policy_granted_updates
    BEFORE UPDATE ON guarded_ddl.policy
    FOR EACH ROW EXECUTE FUNCTION guarded_ddl.require_granted_write();
COMMENT ON TRIGGER policy_granted_updates ON guarded_ddl.policy IS
    'UPDATE needs the right granted on the table, or on every column it changes (pg_write_all_data does not count)';

------------------------------------------------------------------------------
-- Backup markers
------------------------------------------------------------------------------

CREATE TABLE guarded_ddl.backups (
    id                  bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    finished_at         timestamptz NOT NULL,
    tool                text NOT NULL,
    label               text,
    kind                text NOT NULL DEFAULT 'full',
    location            text,
    restore_verified_at timestamptz,
    recorded_by         name NOT NULL DEFAULT session_user,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT backups_kind_valid CHECK (kind IN
        ('full', 'differential', 'incremental', 'logical', 'snapshot')),
    CONSTRAINT backups_tool_not_blank CHECK (tool !~ '^[[:space:]]*$'),
    CONSTRAINT backups_finished_not_future CHECK
        (finished_at <= recorded_at + interval '5 minutes')
);
CREATE INDEX backups_finished_at_idx ON guarded_ddl.backups (finished_at);

COMMENT ON TABLE guarded_ddl.backups IS
    'backup markers recorded by backup jobs through guarded_ddl.record_backup()';
COMMENT ON COLUMN guarded_ddl.backups.finished_at IS
    'when the backup finished; a backup is recent when finished_at >= now() - max age';
COMMENT ON COLUMN guarded_ddl.backups.kind IS 'full, differential, incremental, logical or snapshot';
COMMENT ON COLUMN guarded_ddl.backups.restore_verified_at IS
    'when a restore of this backup was tested (record_restore_test)';

CREATE TRIGGER backups_granted_writes
    BEFORE INSERT OR DELETE OR TRUNCATE ON guarded_ddl.backups
    FOR EACH STATEMENT EXECUTE FUNCTION guarded_ddl.require_granted_write();
COMMENT ON TRIGGER backups_granted_writes ON guarded_ddl.backups IS
    'INSERT, DELETE and TRUNCATE need the right granted on the table itself (pg_write_all_data does not count)';
CREATE TRIGGER backups_granted_updates
    BEFORE UPDATE ON guarded_ddl.backups
    FOR EACH ROW EXECUTE FUNCTION guarded_ddl.require_granted_write();
COMMENT ON TRIGGER backups_granted_updates ON guarded_ddl.backups IS
    'UPDATE needs the right granted on the table, or on every column it changes (pg_write_all_data does not count)';

------------------------------------------------------------------------------
-- Audit
------------------------------------------------------------------------------

CREATE TABLE guarded_ddl.audit (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    decision         text NOT NULL,
    operation        text NOT NULL,
    object_type      text NOT NULL,
    object_identity  text NOT NULL,
    schema_name      text,
    object_name      text,
    column_name      text,
    cascaded         boolean NOT NULL DEFAULT false,
    holds_data       boolean,
    row_estimate     bigint,
    command_tag      text NOT NULL,
    statement        text,
    policy_id        bigint,
    backup_id        bigint,
    backup_age       interval,
    reason           text,
    role_name        name NOT NULL,
    session_role     name NOT NULL,
    application_name text,
    client_addr      inet,
    backend_pid      int NOT NULL,
    txid             xid8,
    wal_lsn          pg_lsn,
    restore_point    text
);
CREATE INDEX audit_logged_at_idx ON guarded_ddl.audit (logged_at);

COMMENT ON TABLE guarded_ddl.audit IS
    'append-only log of every decision guarded_ddl took; denied attempts are committed by a background worker and survive the rollback';
COMMENT ON COLUMN guarded_ddl.audit.decision IS 'allowed, warned, denied, overridden or soft_dropped';
COMMENT ON COLUMN guarded_ddl.audit.cascaded IS 'removed as a side effect, not named in the statement';
COMMENT ON COLUMN guarded_ddl.audit.holds_data IS
    'whether the object held data; NULL means the guard could not tell and treated it as holding data';
COMMENT ON COLUMN guarded_ddl.audit.policy_id IS 'the deciding rule; NULL means guarded_ddl.default_action decided';
COMMENT ON COLUMN guarded_ddl.audit.backup_id IS 'the backup that made the intent acceptable, if any';
COMMENT ON COLUMN guarded_ddl.audit.backup_age IS 'age of the newest backup at decision time';
COMMENT ON COLUMN guarded_ddl.audit.txid IS 'the transaction of the statement';
COMMENT ON COLUMN guarded_ddl.audit.wal_lsn IS 'WAL insert position before the statement ran';
COMMENT ON COLUMN guarded_ddl.audit.restore_point IS 'named restore point created just before the statement, if any';

-- The audit is append-only: UPDATE is refused for everyone.  DELETE is only
-- reachable through purge_audit() (the table belongs to a superuser and no
-- DELETE privilege is granted).
CREATE FUNCTION guarded_ddl.audit_append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    RAISE EXCEPTION 'guarded_ddl.audit is append-only'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Use guarded_ddl.purge_audit() to remove old rows.';
END;
$$;
COMMENT ON FUNCTION guarded_ddl.audit_append_only() IS 'refuses UPDATE of audit rows';

CREATE TRIGGER audit_append_only
    BEFORE UPDATE ON guarded_ddl.audit
    FOR EACH STATEMENT EXECUTE FUNCTION guarded_ddl.audit_append_only();

-- Only guarded_ddl writes the audit: no grant lets anyone insert, delete or
-- truncate, pg_write_all_data included.  purge_audit() deletes as the owner.
CREATE TRIGGER audit_extension_writes_only
    BEFORE INSERT OR DELETE OR TRUNCATE ON guarded_ddl.audit
    FOR EACH STATEMENT EXECUTE FUNCTION guarded_ddl.require_granted_write('extension_only');
COMMENT ON TRIGGER audit_extension_writes_only ON guarded_ddl.audit IS
    'only guarded_ddl itself (the extension owner) and superusers insert, delete or truncate';

CREATE VIEW guarded_ddl.denials AS
    SELECT *
      FROM guarded_ddl.audit
     WHERE decision = 'denied'
     ORDER BY logged_at DESC, id DESC;
COMMENT ON VIEW guarded_ddl.denials IS 'denied attempts, newest first';

-- restore_command: the shell command that restores the data, for the tool
-- behind the row.  The backup is the audit row's backup_id; rows allowed
-- without one (allow rules, warn, override) use the newest pgBackRest or
-- Barman marker that finished before the statement.  Every value is in single
-- quotes, embedded quotes written '"'"', so the command can be pasted as is.
CREATE VIEW guarded_ddl.recovery AS
    SELECT a.id AS audit_id,
           a.logged_at,
           a.object_identity,
           a.schema_name,
           a.object_name,
           a.restore_point,
           a.txid,
           a.wal_lsn,
           CASE
               WHEN a.restore_point IS NOT NULL THEN
                   'recovery_target_name = ' || pg_catalog.quote_literal(a.restore_point)
               WHEN a.txid IS NOT NULL THEN
                   'recovery_target_xid = ' || pg_catalog.quote_literal(a.txid::text)
                   || E'\nrecovery_target_inclusive = off'
               WHEN a.wal_lsn IS NOT NULL THEN
                   'recovery_target_lsn = ' || pg_catalog.quote_literal(a.wal_lsn::text)
                   || E'\nrecovery_target_inclusive = off'
           END || E'\nrecovery_target_action = ''promote''' AS recovery_settings,
           CASE pg_catalog.lower(b.tool)
               WHEN 'pgbackrest' THEN
                   'pgbackrest --stanza=' || q.stanza
                   || CASE WHEN q.label IS NOT NULL THEN ' --set=' || q.label ELSE '' END
                   || CASE
                          WHEN q.restore_point IS NOT NULL THEN
                              ' --type=name --target=' || q.restore_point
                          WHEN q.txid IS NOT NULL THEN
                              ' --type=xid --target=' || q.txid || ' --target-exclusive'
                          WHEN q.wal_lsn IS NOT NULL THEN
                              ' --type=lsn --target=' || q.wal_lsn || ' --target-exclusive'
                      END
                   || ' --target-action=promote --archive-mode=off restore'
               WHEN 'barman' THEN
                   'barman recover'
                   || CASE
                          WHEN q.restore_point IS NOT NULL THEN
                              ' --target-name ' || q.restore_point
                          WHEN q.txid IS NOT NULL THEN
                              ' --target-xid ' || q.txid || ' --exclusive'
                          WHEN q.wal_lsn IS NOT NULL THEN
                              ' --target-lsn ' || q.wal_lsn || ' --exclusive'
                      END
                   || ' --target-action promote ' || q.server || ' ' || q.label
                   || ' ''/var/lib/postgresql/restore'''
           END AS restore_command
      FROM guarded_ddl.audit AS a
      LEFT JOIN LATERAL (
               SELECT bk.tool, bk.label, bk.location
                 FROM guarded_ddl.backups AS bk
                WHERE CASE WHEN a.backup_id IS NOT NULL
                           THEN bk.id = a.backup_id
                           ELSE bk.finished_at <= a.logged_at
                                AND pg_catalog.lower(bk.tool) IN ('pgbackrest', 'barman') END
                ORDER BY bk.finished_at DESC, bk.id DESC
                LIMIT 1) AS b ON true
      LEFT JOIN LATERAL (
               -- each value single-quoted for the shell
               SELECT '''' || pg_catalog.replace(v.stanza, '''', '''"''"''') || '''' AS stanza,
                      '''' || pg_catalog.replace(v.server, '''', '''"''"''') || '''' AS server,
                      '''' || pg_catalog.replace(b.label, '''', '''"''"''') || '''' AS label,
                      '''' || pg_catalog.replace(a.restore_point, '''', '''"''"''') || '''' AS restore_point,
                      '''' || a.txid::text || '''' AS txid,
                      '''' || a.wal_lsn::text || '''' AS wal_lsn
                 FROM (SELECT coalesce((pg_catalog.regexp_match(b.location, '(?:^|[[:space:],;])stanza=([^[:space:],;]+)'))[1],
                                       CASE WHEN b.location ~ '^[[:alnum:]_.-]+$' THEN b.location END) AS stanza,
                              coalesce((pg_catalog.regexp_match(b.location, '(?:^|[[:space:],;])server=([^[:space:],;]+)'))[1],
                                       CASE WHEN b.location ~ '^[[:alnum:]_.-]+$' THEN b.location END) AS server) AS v
               ) AS q ON true
     WHERE a.decision IN ('allowed', 'overridden', 'warned')
       AND a.operation IN ('drop', 'alter_type', 'truncate', 'delete_all')
       AND a.holds_data IS DISTINCT FROM false
       -- a lossless type change keeps every value: nothing to recover
       AND NOT (a.operation = 'alter_type' AND coalesce(a.reason, '') LIKE 'lossless:%')
     ORDER BY a.logged_at DESC, a.id DESC;
COMMENT ON VIEW guarded_ddl.recovery IS
    'one row per allowed data-destroying statement, with the recovery settings and the restore command that bring the data back as it was just before (promote: the statement''s own transaction still holds its locks at the target, so a paused cluster could not read the table)';
COMMENT ON COLUMN guarded_ddl.recovery.restore_command IS
    'shell command restoring to just before the statement, with the tool of the backup behind the row (its backup_id; otherwise the newest pgbackrest or barman marker finished before it). pgbackrest: the stanza is taken from the marker''s location, written stanza=NAME (or just NAME), the --set from its label (left out when there is none, and then pgBackRest picks the newest backup, which fails once a newer one exists); barman: the server from location (server=NAME or just NAME), the backup id from label, and the destination /var/lib/postgresql/restore is a placeholder to replace. NULL for other tools or when the stanza, server or (barman) backup id is not recorded. Every value is single-quoted for the shell.';

------------------------------------------------------------------------------
-- Event triggers (C).  All ENABLE ALWAYS, so session_replication_role =
-- replica does not bypass them.
------------------------------------------------------------------------------

CREATE FUNCTION guarded_ddl.on_ddl_command_start() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'guarded_ddl_ddl_command_start';
CREATE FUNCTION guarded_ddl.on_sql_drop() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'guarded_ddl_sql_drop';
CREATE FUNCTION guarded_ddl.on_table_rewrite() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'guarded_ddl_table_rewrite';
CREATE FUNCTION guarded_ddl.on_ddl_command_end() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'guarded_ddl_ddl_command_end';
COMMENT ON FUNCTION guarded_ddl.on_ddl_command_start() IS
    'classifies the statement, checks rights, locks and probes the objects, decides before anything runs';
COMMENT ON FUNCTION guarded_ddl.on_sql_drop() IS
    'decides what the statement really dropped, including CASCADE side effects (fails closed)';
COMMENT ON FUNCTION guarded_ddl.on_table_rewrite() IS
    'decides table rewrites no ALTER TABLE subcommand announced';
COMMENT ON FUNCTION guarded_ddl.on_ddl_command_end() IS
    'writes the audit rows of the finished statement';

CREATE EVENT TRIGGER guarded_ddl_ddl_command_start ON ddl_command_start
    EXECUTE FUNCTION guarded_ddl.on_ddl_command_start();
CREATE EVENT TRIGGER guarded_ddl_sql_drop ON sql_drop
    EXECUTE FUNCTION guarded_ddl.on_sql_drop();
CREATE EVENT TRIGGER guarded_ddl_table_rewrite ON table_rewrite
    EXECUTE FUNCTION guarded_ddl.on_table_rewrite();
CREATE EVENT TRIGGER guarded_ddl_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION guarded_ddl.on_ddl_command_end();

ALTER EVENT TRIGGER guarded_ddl_ddl_command_start ENABLE ALWAYS;
ALTER EVENT TRIGGER guarded_ddl_sql_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER guarded_ddl_table_rewrite ENABLE ALWAYS;
ALTER EVENT TRIGGER guarded_ddl_ddl_command_end ENABLE ALWAYS;

------------------------------------------------------------------------------
-- Functions
------------------------------------------------------------------------------

CREATE FUNCTION guarded_ddl.record_backup(
    tool text,
    label text DEFAULT NULL,
    finished_at timestamptz DEFAULT now(),
    kind text DEFAULT 'full',
    location text DEFAULT NULL)
RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    new_id bigint;
BEGIN
    IF tool IS NULL OR tool ~ '^[[:space:]]*$' THEN
        RAISE EXCEPTION 'backup tool must be named'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the tool that made the backup, for example ''pgbackrest''.';
    END IF;
    IF finished_at IS NULL THEN
        RAISE EXCEPTION 'finished_at must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF finished_at > now() + interval '5 minutes' THEN
        RAISE EXCEPTION 'backup finished_at % is in the future', finished_at
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('The server time is %s; up to 5 minutes of clock skew are accepted.', now()),
                  HINT = 'Record the marker after the backup has finished, with its real finish time.';
    END IF;
    IF kind IS NULL OR NOT kind = ANY (ARRAY['full', 'differential', 'incremental', 'logical', 'snapshot']) THEN
        RAISE EXCEPTION 'unknown backup kind "%"', kind
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Valid kinds are full, differential, incremental, logical and snapshot.';
    END IF;
    INSERT INTO guarded_ddl.backups (finished_at, tool, label, kind, location)
         VALUES (record_backup.finished_at, record_backup.tool, record_backup.label,
                 record_backup.kind, record_backup.location)
      RETURNING id INTO new_id;
    RETURN new_id;
END;
$$;
COMMENT ON FUNCTION guarded_ddl.record_backup(text, text, timestamptz, text, text) IS
    'records that a backup finished; call it from the backup job after success';

CREATE FUNCTION guarded_ddl.record_restore_test(
    backup_id bigint,
    verified_at timestamptz DEFAULT now())
RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF verified_at IS NULL OR verified_at > now() + interval '5 minutes' THEN
        RAISE EXCEPTION 'restore test time % is not valid', verified_at
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the time the restore test finished, not in the future.';
    END IF;
    UPDATE guarded_ddl.backups AS b
       SET restore_verified_at = record_restore_test.verified_at
     WHERE b.id OPERATOR(pg_catalog.=) record_restore_test.backup_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'backup % does not exist', backup_id
            USING ERRCODE = 'no_data_found',
                  HINT = 'Use the id record_backup() returned.';
    END IF;
END;
$$;
COMMENT ON FUNCTION guarded_ddl.record_restore_test(bigint, timestamptz) IS
    'records that a restore of the backup was tested; needed by rules with require_verified_backup';

CREATE FUNCTION guarded_ddl.override(reason text) RETURNS void
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'guarded_ddl_override';
COMMENT ON FUNCTION guarded_ddl.override(text) IS
    'break-glass: allows data-destroying intents for the rest of the current transaction, each audited as overridden with the reason';

CREATE FUNCTION guarded_ddl.check(statements text)
RETURNS TABLE (
    statement_no     int,
    command_tag      text,
    operation        text,
    object_type      text,
    object_identity  text,
    schema_name      text,
    object_name      text,
    column_name      text,
    holds_data       boolean,
    row_estimate     bigint,
    decision         text,
    policy_id        bigint,
    reason           text)
    LANGUAGE C VOLATILE STRICT
    AS 'MODULE_PATHNAME', 'guarded_ddl_check';
COMMENT ON FUNCTION guarded_ddl.check(text) IS
    'preflight: parses the SQL and returns the intents and the decision each would get now, executing nothing';

CREATE FUNCTION guarded_ddl.log_only_denials(since interval) RETURNS bigint
    LANGUAGE C VOLATILE STRICT
    AS 'MODULE_PATHNAME', 'guarded_ddl_log_only_denials';
COMMENT ON FUNCTION guarded_ddl.log_only_denials(interval) IS
    'refusals of this database in the past interval whose audit rows could not be committed and reached only the server log (status() reports the last 24 h)';

CREATE FUNCTION guarded_ddl.hook_active() RETURNS boolean
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'guarded_ddl_hook_active';
COMMENT ON FUNCTION guarded_ddl.hook_active() IS
    'true when the library was preloaded and its utility hook guards this session';

CREATE FUNCTION guarded_ddl.status()
RETURNS TABLE (item text, value text, ok boolean)
    LANGUAGE plpgsql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    hook boolean := guarded_ddl.hook_active();  -- also loads the library and its settings
    mode text;
    n_triggers int;
    newest record;
    max_age interval;
    n bigint;
    ids text;
    total bigint;
    max_size text;
    max_bytes bigint;
BEGIN
    mode := current_setting('guarded_ddl.mode', true);
    item := 'mode';
    value := coalesce(mode, 'enforce');
    ok := value = 'enforce';
    RETURN NEXT;

    SELECT count(*) INTO n_triggers
      FROM pg_catalog.pg_event_trigger AS t
     WHERE t.evtname = ANY (ARRAY['guarded_ddl_ddl_command_start', 'guarded_ddl_sql_drop',
                                  'guarded_ddl_table_rewrite', 'guarded_ddl_ddl_command_end'])
       AND t.evtenabled = 'A';
    item := 'event triggers';
    value := n_triggers || ' of 4 enabled always';
    ok := n_triggers = 4;
    RETURN NEXT;

    item := 'utility hook';
    IF hook THEN
        value := 'active (TRUNCATE, DROP DATABASE, event trigger changes and soft_drop are guarded)';
        ok := true;
    ELSE
        value := 'inactive (library not preloaded: TRUNCATE and DROP DATABASE are not guarded)';
        ok := false;
    END IF;
    RETURN NEXT;

    SELECT pg_catalog.make_interval(mins => s.setting::int) INTO max_age
      FROM pg_catalog.pg_settings AS s
     WHERE s.name = 'guarded_ddl.backup_max_age';
    SELECT b.id, b.tool, b.finished_at INTO newest
      FROM guarded_ddl.backups AS b
     ORDER BY b.finished_at DESC, b.id DESC
     LIMIT 1;
    item := 'newest backup';
    IF newest.id IS NULL THEN
        value := 'none recorded';
        ok := false;
    ELSE
        value := pg_catalog.format('#%s by %s, finished %s (%s ago)', newest.id, newest.tool,
                                   newest.finished_at,
                                   pg_catalog.date_trunc('second', now() - newest.finished_at));
        ok := newest.finished_at >= now() - coalesce(max_age, interval '24 hours');
    END IF;
    RETURN NEXT;

    item := 'rules';
    SELECT pg_catalog.format('%s enabled, %s disabled or expired',
                             count(*) FILTER (WHERE p.enabled AND (p.expires_at IS NULL OR p.expires_at > now())),
                             count(*) FILTER (WHERE NOT p.enabled OR p.expires_at <= now()))
      INTO value
      FROM guarded_ddl.policy AS p;
    value := value || ', default_action = ' || coalesce(current_setting('guarded_ddl.default_action', true), 'require_backup');
    ok := true;
    RETURN NEXT;

    -- application_name is whatever the client says: such a rule lets
    -- every role through (policy_validate() warned when it was written)
    item := 'application_name rules';
    SELECT count(*), pg_catalog.string_agg(p.id::text, ', ' ORDER BY p.id)
      INTO n, ids
      FROM guarded_ddl.policy AS p
     WHERE p.enabled AND (p.expires_at IS NULL OR p.expires_at > now())
       AND p.action = ANY (ARRAY['allow', 'warn'])
       AND p.application_name !~ '^[*]+$'
       AND p.schema_name ~ '^[*]+$' AND p.object_name ~ '^[*]+$'
       AND p.column_name ~ '^[*]+$' AND p.role_name ~ '^[*]+$';
    IF n = 0 THEN
        value := 'no allow or warn rule is narrowed only by application_name';
        ok := true;
    ELSE
        value := pg_catalog.format('%s allow or warn %s narrowed only by application_name, which any client can set (%s %s)',
                                   n, CASE WHEN n = 1 THEN 'rule is' ELSE 'rules are' END,
                                   CASE WHEN n = 1 THEN 'id' ELSE 'ids' END, ids);
        ok := false;
    END IF;
    RETURN NEXT;

    item := 'denials (24 h)';
    SELECT count(*)::text INTO value
      FROM guarded_ddl.audit AS a
     WHERE a.decision = 'denied' AND a.logged_at > now() - interval '24 hours';
    ok := value = '0';
    RETURN NEXT;

    -- how refusals are made durable, and how many reached only the server
    -- log (no worker slot, no writer within audit_worker_timeout)
    item := 'audit writer';
    n := guarded_ddl.log_only_denials(interval '24 hours');
    value := CASE WHEN 'guarded_ddl' = ANY (pg_catalog.string_to_array(
                          pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))
                  THEN 'a writer per database, fed through shared memory'
                  ELSE 'a background worker per refusal' END
             || pg_catalog.format('; %s %s in the last 24 h reached only the server log',
                                  n, CASE WHEN n = 1 THEN 'refusal' ELSE 'refusals' END);
    ok := n = 0;
    RETURN NEXT;

    -- the recycle bin: its entries, what they keep, against
    -- guarded_ddl.trash_max_size when that is set
    item := 'trash';
    SELECT count(*), coalesce(sum(coalesce(t.size_bytes, pg_catalog.pg_total_relation_size(c.oid))), 0)
      INTO n, total
      FROM guarded_ddl.trash_bin AS t
      JOIN pg_catalog.pg_class AS c ON c.relname = t.trash_name
      JOIN pg_catalog.pg_namespace AS ns ON ns.oid = c.relnamespace
     WHERE ns.nspname = 'guarded_ddl_trash'
       AND t.restored_at IS NULL AND t.purged_at IS NULL;
    value := pg_catalog.format('%s %s, %s', n, CASE WHEN n = 1 THEN 'entry' ELSE 'entries' END,
                               pg_catalog.pg_size_pretty(total));
    ok := true;
    max_size := current_setting('guarded_ddl.trash_max_size', true);
    IF max_size IS NOT NULL AND max_size <> '' THEN
        BEGIN
            max_bytes := pg_catalog.pg_size_bytes(max_size);
        EXCEPTION WHEN invalid_parameter_value THEN
            max_bytes := NULL;
        END;
        IF max_bytes > 0 AND total > max_bytes THEN
            value := value || pg_catalog.format(', more than guarded_ddl.trash_max_size (%s)', max_size);
            ok := false;
        END IF;
    END IF;
    RETURN NEXT;
END;
$$;
COMMENT ON FUNCTION guarded_ddl.status() IS
    'health of the guard: mode, event triggers, utility hook, newest backup, rules (and allow or warn rules narrowed only by application_name), recent denials, the audit writer and refusals that reached only the server log, recycle bin';

CREATE FUNCTION guarded_ddl.purge_audit(older_than interval) RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    n bigint;
BEGIN
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'older_than must be a non-negative interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM guarded_ddl.audit AS a
     WHERE a.logged_at < now() - older_than;
    GET DIAGNOSTICS n = ROW_COUNT;
    RAISE LOG 'guarded_ddl: % purged % audit rows older than %', session_user, n, older_than;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION guarded_ddl.purge_audit(interval) IS
    'deletes audit rows older than the interval; returns how many';

------------------------------------------------------------------------------
-- Recycle bin (needs the preloaded library): a soft_drop rule turns DROP
-- TABLE into a move to the schema guarded_ddl_trash.
------------------------------------------------------------------------------

CREATE SCHEMA guarded_ddl_trash;
REVOKE ALL ON SCHEMA guarded_ddl_trash FROM PUBLIC;
COMMENT ON SCHEMA guarded_ddl_trash IS
    'guarded_ddl recycle bin: soft-dropped tables under unique names; use guarded_ddl.restore() and guarded_ddl.purge_trash()';

CREATE TABLE guarded_ddl.trash_bin (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dropped_at      timestamptz NOT NULL DEFAULT now(),
    original_schema name NOT NULL,
    original_name   name NOT NULL,
    trash_name      name NOT NULL,
    row_estimate    bigint,
    dropped_by      name NOT NULL,
    audit_id        bigint,
    renamed_from    name[] NOT NULL DEFAULT '{}',
    renamed_to      name[] NOT NULL DEFAULT '{}',
    restored_at     timestamptz,
    restored_as     text,
    purged_at       timestamptz,
    operation       text NOT NULL DEFAULT 'drop',
    object_type     text NOT NULL DEFAULT 'table',
    column_name     text,
    size_bytes      bigint,
    column_type     text,
    key_columns     name[],
    recreate        jsonb,
    CONSTRAINT trash_bin_operation_valid CHECK
        (operation IN ('drop', 'truncate', 'alter_type')),
    CONSTRAINT trash_bin_object_type_valid CHECK
        (object_type IN ('table', 'table column')),
    CONSTRAINT trash_bin_column_named CHECK
        ((object_type = 'table column') = (column_name IS NOT NULL))
);
COMMENT ON TABLE guarded_ddl.trash_bin IS
    'every soft drop, with what restore() needs to undo it (indexes and sequences renamed on the way in)';
COMMENT ON COLUMN guarded_ddl.trash_bin.operation IS
    'what put the entry in the bin: drop (DROP TABLE, DROP ... CASCADE, ALTER TABLE ... DROP COLUMN), truncate, or alter_type (a type change that can lose values)';
COMMENT ON COLUMN guarded_ddl.trash_bin.object_type IS
    'table, or table column for the old values of one column (kept in the relation trash_name, matched to rows by key_columns)';
COMMENT ON COLUMN guarded_ddl.trash_bin.column_name IS 'for a table column entry: the column, under its name at the time';
COMMENT ON COLUMN guarded_ddl.trash_bin.size_bytes IS
    'bytes the entry keeps (the relation trash_name with its indexes and TOAST) when it went in; NULL: measured when asked';
COMMENT ON COLUMN guarded_ddl.trash_bin.column_type IS
    'for a table column entry: the column''s type as format_type() printed it, so that restore() adds it back with its old type';
COMMENT ON COLUMN guarded_ddl.trash_bin.key_columns IS
    'for a table column entry: the key columns (primary key, or a unique key on NOT NULL columns) by which the kept values are matched to the rows of the table, under the same names in trash_name';
COMMENT ON COLUMN guarded_ddl.trash_bin.recreate IS
    'for a table entry: what DROP ... CASCADE removed with the table and restore() re-creates, in order (schema, views, materialized views, foreign keys, policies): kind, schema, table, name, owner (who re-creates it) and the statement, fully qualified';

CREATE TRIGGER trash_bin_granted_writes
    BEFORE INSERT OR DELETE OR TRUNCATE ON guarded_ddl.trash_bin
    FOR EACH STATEMENT EXECUTE FUNCTION guarded_ddl.require_granted_write();
COMMENT ON TRIGGER trash_bin_granted_writes ON guarded_ddl.trash_bin IS
    'INSERT, DELETE and TRUNCATE need the right granted on the table itself (pg_write_all_data does not count)';
CREATE TRIGGER trash_bin_granted_updates
    BEFORE UPDATE ON guarded_ddl.trash_bin
    FOR EACH ROW EXECUTE FUNCTION guarded_ddl.require_granted_write();
COMMENT ON TRIGGER trash_bin_granted_updates ON guarded_ddl.trash_bin IS
    'UPDATE needs the right granted on the table, or on every column it changes (pg_write_all_data does not count)';

-- A role sees the entries it dropped itself and those of tables it owns
-- (the table in the bin, or -- for column and TRUNCATE entries, whose table
-- stays -- the table under its original name).  Superusers and members of a
-- role granted SELECT on guarded_ddl.trash_bin itself see every entry; a
-- right from pg_read_all_data does not count here (such a member can read
-- guarded_ddl.trash_bin directly, as PostgreSQL intends, but restore() and
-- purge_trash() follow this view).  security_barrier: the visibility test
-- runs before any function of the caller's query sees a row.
CREATE VIEW guarded_ddl.trash WITH (security_barrier) AS
    SELECT t.id, t.dropped_at, t.original_schema, t.original_name, t.trash_name,
           t.row_estimate, t.dropped_by, t.audit_id,
           t.operation, t.object_type, t.column_name,
           coalesce(t.size_bytes, pg_catalog.pg_total_relation_size(c.oid)) AS size_bytes
      FROM guarded_ddl.trash_bin AS t
      JOIN pg_catalog.pg_class AS c ON c.relname = t.trash_name
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE n.nspname = 'guarded_ddl_trash'
       AND t.restored_at IS NULL AND t.purged_at IS NULL
       AND (t.dropped_by = CURRENT_USER
            OR pg_catalog.pg_has_role(c.relowner, 'MEMBER')
            OR ((t.object_type = 'table column' OR t.operation <> 'drop')
                AND EXISTS (SELECT 1
                              FROM pg_catalog.pg_class AS oc
                              JOIN pg_catalog.pg_namespace AS onsp ON onsp.oid = oc.relnamespace
                             WHERE onsp.nspname = t.original_schema
                               AND oc.relname = t.original_name
                               AND pg_catalog.pg_has_role(oc.relowner, 'MEMBER')))
            OR EXISTS (SELECT 1
                         FROM pg_catalog.pg_class AS bin
                        CROSS JOIN LATERAL pg_catalog.aclexplode(bin.relacl) AS acl
                        WHERE bin.oid = 'guarded_ddl.trash_bin'::pg_catalog.regclass
                          AND acl.privilege_type = 'SELECT'
                          AND CASE WHEN acl.grantee = 0 THEN true
                                   ELSE pg_catalog.pg_has_role(acl.grantee, 'MEMBER') END))
     ORDER BY t.dropped_at DESC, t.id DESC;
COMMENT ON VIEW guarded_ddl.trash IS
    'entries of the recycle bin, newest first: to each role those it dropped or whose table it owns; to superusers and members of a role granted SELECT on guarded_ddl.trash_bin, all';
COMMENT ON COLUMN guarded_ddl.trash.operation IS 'what put the entry in the bin: drop, truncate or alter_type';
COMMENT ON COLUMN guarded_ddl.trash.object_type IS 'table, or table column for the values of one column';
COMMENT ON COLUMN guarded_ddl.trash.column_name IS 'for a table column entry: the column';
COMMENT ON COLUMN guarded_ddl.trash.size_bytes IS 'bytes the entry keeps in the bin (the kept relation with its indexes and TOAST)';

-- The same test for any role, for restore() and purge_trash(): they run as
-- the extension owner, so current_user cannot tell them who asked.
CREATE FUNCTION guarded_ddl.trash_entry_visible(trash_id bigint, role_id oid) RETURNS boolean
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT EXISTS (
        SELECT 1
          FROM guarded_ddl.trash_bin AS t
          LEFT JOIN (pg_catalog.pg_class AS c
                     JOIN pg_catalog.pg_namespace AS n
                       ON n.oid = c.relnamespace AND n.nspname = 'guarded_ddl_trash')
            ON c.relname = t.trash_name
         WHERE t.id = trash_entry_visible.trash_id
           AND (t.dropped_by = (SELECT r.rolname FROM pg_catalog.pg_roles AS r
                                 WHERE r.oid = trash_entry_visible.role_id)
                OR pg_catalog.pg_has_role(trash_entry_visible.role_id, c.relowner, 'MEMBER')
                OR ((t.object_type = 'table column' OR t.operation <> 'drop')
                    AND EXISTS (SELECT 1
                                  FROM pg_catalog.pg_class AS oc
                                  JOIN pg_catalog.pg_namespace AS onsp ON onsp.oid = oc.relnamespace
                                 WHERE onsp.nspname = t.original_schema
                                   AND oc.relname = t.original_name
                                   AND pg_catalog.pg_has_role(trash_entry_visible.role_id, oc.relowner, 'MEMBER')))
                OR EXISTS (SELECT 1
                             FROM pg_catalog.pg_class AS bin
                            CROSS JOIN LATERAL pg_catalog.aclexplode(bin.relacl) AS acl
                            WHERE bin.oid = 'guarded_ddl.trash_bin'::pg_catalog.regclass
                              AND acl.privilege_type = 'SELECT'
                              AND CASE WHEN acl.grantee = 0 THEN true
                                       ELSE pg_catalog.pg_has_role(trash_entry_visible.role_id, acl.grantee, 'MEMBER') END)))
$$;
COMMENT ON FUNCTION guarded_ddl.trash_entry_visible(bigint, oid) IS
    'whether the role may see (and so restore or purge) the recycle bin entry: the rule of the view guarded_ddl.trash, for a role given by OID; false for an entry that does not exist';

CREATE FUNCTION guarded_ddl.restore(trash_id bigint, new_name text DEFAULT NULL)
RETURNS regclass
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'guarded_ddl_restore';
COMMENT ON FUNCTION guarded_ddl.restore(bigint, text) IS
    'moves a soft-dropped table back to its schema, under new_name if its original name is taken';

CREATE FUNCTION guarded_ddl.purge_trash(older_than interval) RETURNS bigint
    LANGUAGE C VOLATILE STRICT
    AS 'MODULE_PATHNAME', 'guarded_ddl_purge_trash';
COMMENT ON FUNCTION guarded_ddl.purge_trash(interval) IS
    'drops for real the soft-dropped tables older than the interval; returns how many';

------------------------------------------------------------------------------
-- Privileges: nothing for PUBLIC.  See README "Roles" for the grants.
------------------------------------------------------------------------------

REVOKE ALL ON ALL TABLES IN SCHEMA guarded_ddl FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA guarded_ddl FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA guarded_ddl FROM PUBLIC;

-- pg_dump keeps the rules, markers and audit rows.
SELECT pg_catalog.pg_extension_config_dump('guarded_ddl.policy', '');
SELECT pg_catalog.pg_extension_config_dump('guarded_ddl.backups', '');
SELECT pg_catalog.pg_extension_config_dump('guarded_ddl.audit', '');
SELECT pg_catalog.pg_extension_config_dump('guarded_ddl.trash_bin', '');
-- ... and where their ids stand, or a restored database reuses them
SELECT pg_catalog.pg_extension_config_dump('guarded_ddl.policy_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('guarded_ddl.backups_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('guarded_ddl.audit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('guarded_ddl.trash_bin_id_seq', '');
