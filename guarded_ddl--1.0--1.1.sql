/* guarded_ddl--1.0--1.1.sql -- update of the guarded_ddl extension from 1.0 to 1.1
 *
 * Brings a 1.0 install to exactly what guarded_ddl--1.1.sql installs -- the
 * same objects, columns in the same order, comments, grants and triggers --
 * and keeps every row of the policy, the backup markers, the audit and the
 * recycle bin.  Objects are replaced in place (CREATE OR REPLACE), so the
 * grants a DBA gave on them stay.  What 1.1 brings:
 *   - writes to guarded_ddl's tables need a right granted on the table
 *     itself: pg_write_all_data no longer opens them, and only guarded_ddl
 *     writes its audit;
 *   - policy rules that can never match are refused, allow and warn rules
 *     narrowed only by application_name are warned about (and status()
 *     lists them);
 *   - the recycle bin records what kind of entry it keeps, and the view
 *     guarded_ddl.trash shows each role its own entries;
 *   - guarded_ddl.recovery gives the restore command of the backup tool;
 *   - status() reports the recycle bin;
 *   - the operation delete_all (DELETE without WHERE), opt-in.
 * The install of 1.1 refuses a schema guarded_ddl that another role
 * controls; an install of 1.0 took it, and the update warns about it.
 */

\echo Use "ALTER EXTENSION guarded_ddl UPDATE TO '1.1'" to load this file. \quit

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

REVOKE ALL ON FUNCTION guarded_ddl.require_granted_write() FROM PUBLIC;

------------------------------------------------------------------------------
-- Policy
------------------------------------------------------------------------------

-- delete_all (DELETE without WHERE, preloaded): a new operation, decided
-- only by rules that name it.
ALTER TABLE guarded_ddl.policy
    DROP CONSTRAINT policy_operation_valid,
    ADD CONSTRAINT policy_operation_valid CHECK (operation IN
        ('*', 'drop', 'alter_type', 'truncate', 'rename', 'detach_partition',
         'set_unlogged', 'drop_constraint', 'delete_all'));
COMMENT ON COLUMN guarded_ddl.policy.operation IS
    'drop, alter_type, truncate, rename, detach_partition, set_unlogged, drop_constraint, delete_all (decided only by rules naming it), or *';

-- Clear messages for bad rules; the CHECK constraints above are the backstop.
-- SECURITY DEFINER so that a policy admin needs no EXECUTE on the helpers.
CREATE OR REPLACE FUNCTION guarded_ddl.policy_validate() RETURNS trigger
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

-- Only guarded_ddl writes the audit: no grant lets anyone insert, delete or
-- truncate, pg_write_all_data included.  purge_audit() deletes as the owner.
CREATE TRIGGER audit_extension_writes_only
    BEFORE INSERT OR DELETE OR TRUNCATE ON guarded_ddl.audit
    FOR EACH STATEMENT EXECUTE FUNCTION guarded_ddl.require_granted_write('extension_only');
COMMENT ON TRIGGER audit_extension_writes_only ON guarded_ddl.audit IS
    'only guarded_ddl itself (the extension owner) and superusers insert, delete or truncate';

-- restore_command: the shell command that restores the data, for the tool
-- behind the row.  The backup is the audit row's backup_id; rows allowed
-- without one (allow rules, warn, override) use the newest pgBackRest or
-- Barman marker that finished before the statement.  Every value is in single
-- quotes, embedded quotes written '"'"', so the command can be pasted as is.
CREATE OR REPLACE VIEW guarded_ddl.recovery AS
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
-- Functions
------------------------------------------------------------------------------

CREATE FUNCTION guarded_ddl.log_only_denials(since interval) RETURNS bigint
    LANGUAGE C VOLATILE STRICT
    AS 'MODULE_PATHNAME', 'guarded_ddl_log_only_denials';
COMMENT ON FUNCTION guarded_ddl.log_only_denials(interval) IS
    'refusals of this database in the past interval whose audit rows could not be committed and reached only the server log (status() reports the last 24 h)';
REVOKE ALL ON FUNCTION guarded_ddl.log_only_denials(interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION guarded_ddl.status()
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

------------------------------------------------------------------------------
-- Recycle bin
------------------------------------------------------------------------------

-- Existing entries are whole tables moved by DROP TABLE: the defaults say so.
ALTER TABLE guarded_ddl.trash_bin
    ADD COLUMN operation text NOT NULL DEFAULT 'drop',
    ADD COLUMN object_type text NOT NULL DEFAULT 'table',
    ADD COLUMN column_name text,
    ADD COLUMN size_bytes bigint,
    ADD COLUMN column_type text,
    ADD COLUMN key_columns name[],
    ADD COLUMN recreate jsonb,
    ADD CONSTRAINT trash_bin_operation_valid CHECK
        (operation IN ('drop', 'truncate', 'alter_type')),
    ADD CONSTRAINT trash_bin_object_type_valid CHECK
        (object_type IN ('table', 'table column')),
    ADD CONSTRAINT trash_bin_column_named CHECK
        ((object_type = 'table column') = (column_name IS NOT NULL));
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
CREATE OR REPLACE VIEW guarded_ddl.trash WITH (security_barrier) AS
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
REVOKE ALL ON FUNCTION guarded_ddl.trash_entry_visible(bigint, oid) FROM PUBLIC;

------------------------------------------------------------------------------
-- A 1.0 install took any schema guarded_ddl it found (1.1's install refuses
-- one another role controls).  The update changes nothing about that, but
-- says so: such a role could still drop or replace guarded_ddl's objects.
------------------------------------------------------------------------------

DO $$
DECLARE
    owner_name name;
    owner_is_superuser boolean;
    creators text;
BEGIN
    SELECT r.rolname, r.rolsuper
      INTO owner_name, owner_is_superuser
      FROM pg_catalog.pg_namespace AS n
      JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
     WHERE n.nspname OPERATOR(pg_catalog.=) 'guarded_ddl';
    SELECT pg_catalog.string_agg(coalesce(pg_catalog.quote_ident(r.rolname), 'PUBLIC'), ', ' ORDER BY r.rolname)
      INTO creators
      FROM pg_catalog.pg_namespace AS n
     CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) AS a
      LEFT JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) a.grantee
     WHERE n.nspname OPERATOR(pg_catalog.=) 'guarded_ddl'
       AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
       AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
       AND (r.oid IS NULL OR NOT r.rolsuper);
    IF owner_is_superuser IS DISTINCT FROM true OR creators IS NOT NULL THEN
        RAISE WARNING 'schema "guarded_ddl" is controlled by roles that are not superusers'
            USING DETAIL = pg_catalog.format('Its owner is role "%s"; CREATE on it is granted to %s.',
                                             owner_name, coalesce(creators, 'nobody else')),
                  HINT = 'Check what the schema contains, then ALTER SCHEMA guarded_ddl OWNER TO a superuser and REVOKE CREATE ON SCHEMA guarded_ddl from the others.';
    END IF;
END;
$$;
