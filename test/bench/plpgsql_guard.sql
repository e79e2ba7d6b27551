-- test/bench/plpgsql_guard.sql -- the do-it-yourself baseline for the
-- benchmarks: what a DBA would write by hand instead of installing
-- guarded_ddl.  Two PL/pgSQL event triggers:
--
--   ddl_command_start  for DROP / ALTER commands, look up the wildcard rule
--                      of the policy table (a rule-wide "deny everything" switch);
--   sql_drop           for every object the statement dropped that is not just
--                      a part of another one (original or normal in
--                      pg_event_trigger_dropped_objects()), look up the policy
--                      table by the object's name -- an exact rule first, else
--                      the wildcard rule, else deny -- refuse on deny, and
--                      insert one audit row.
--
-- It does the same policy lookup and audit insert per dropped object as
-- guarded_ddl, but nothing else: no check for rows, no backup markers, no
-- durable record of refusals, no TRUNCATE.  It is loaded by test/bench/run.sh
-- into a database of its own; it is not part of the extension.

CREATE SCHEMA diy_guard;

CREATE TABLE diy_guard.policy (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    priority    int NOT NULL DEFAULT 100,
    object_name text NOT NULL,          -- exact name, or '*' for every object
    action      text NOT NULL CHECK (action IN ('allow', 'deny'))
);
CREATE INDEX policy_object_name_idx ON diy_guard.policy (object_name, priority);

CREATE TABLE diy_guard.audit (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    decision        text NOT NULL,
    command_tag     text NOT NULL,
    object_type     text NOT NULL,
    object_identity text NOT NULL,
    schema_name     text,
    object_name     text,
    policy_id       bigint,
    statement       text,
    role_name       name NOT NULL DEFAULT current_user,
    session_role    name NOT NULL DEFAULT session_user,
    application_name text DEFAULT current_setting('application_name'),
    backend_pid     int NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
    txid            xid8 DEFAULT pg_catalog.pg_current_xact_id()
);
CREATE INDEX audit_logged_at_idx ON diy_guard.audit (logged_at);

CREATE FUNCTION diy_guard.on_ddl_command_start() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    rule record;
BEGIN
    IF tg_tag NOT LIKE 'DROP %' AND tg_tag NOT LIKE 'ALTER %' THEN
        RETURN;
    END IF;
    SELECT p.id, p.action INTO rule
      FROM diy_guard.policy AS p
     WHERE p.object_name = '*'
     ORDER BY p.priority, p.id
     LIMIT 1;
    IF NOT FOUND OR rule.action = 'deny' THEN
        RAISE EXCEPTION 'diy_guard: % refused by the wildcard rule', tg_tag
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END;
$$;

CREATE FUNCTION diy_guard.on_sql_drop() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    obj record;
    rule record;
BEGIN
    FOR obj IN
        SELECT d.object_type, d.schema_name, d.object_name, d.object_identity
          FROM pg_catalog.pg_event_trigger_dropped_objects() AS d
         WHERE (d.original OR d.normal) AND NOT d.is_temporary
    LOOP
        SELECT p.id, p.action INTO rule
          FROM diy_guard.policy AS p
         WHERE p.object_name IN (coalesce(obj.object_name, obj.object_identity), '*')
         ORDER BY p.object_name = '*', p.priority, p.id
         LIMIT 1;
        IF NOT FOUND OR rule.action = 'deny' THEN
            RAISE EXCEPTION 'diy_guard: refusing to drop % %', obj.object_type, obj.object_identity
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        INSERT INTO diy_guard.audit (decision, command_tag, object_type, object_identity,
                                     schema_name, object_name, policy_id, statement)
             VALUES ('allowed', tg_tag, obj.object_type, obj.object_identity,
                     obj.schema_name, obj.object_name, rule.id, current_query());
    END LOOP;
END;
$$;

CREATE EVENT TRIGGER diy_guard_ddl_command_start ON ddl_command_start
    EXECUTE FUNCTION diy_guard.on_ddl_command_start();
CREATE EVENT TRIGGER diy_guard_sql_drop ON sql_drop
    EXECUTE FUNCTION diy_guard.on_sql_drop();
ALTER EVENT TRIGGER diy_guard_ddl_command_start ENABLE ALWAYS;
ALTER EVENT TRIGGER diy_guard_sql_drop ENABLE ALWAYS;

-- The benchmarks' only rule: everything may be dropped (the "allow rule").
INSERT INTO diy_guard.policy (object_name, action) VALUES ('*', 'allow');
