--
-- settings_ranges: numeric settings refuse values outside their range with
-- PostgreSQL's own error.  Kept apart because the wording differs by major:
-- from PostgreSQL 17 on the message names the unit of both bounds
-- (expected/settings_ranges_1.out); up to 16 it does not
-- (expected/settings_ranges.out).  Everything else about the settings is
-- tested in backups and bad_input, identically on every major.
--
LOAD 'guarded_ddl';

-- backup_max_age: zero is no age at all, and a negative one makes no sense.
SET guarded_ddl.backup_max_age = 0;
SET guarded_ddl.backup_max_age = '-1h';
SHOW guarded_ddl.backup_max_age;

-- The smallest age is one minute; under half a minute rounds to zero.
SET guarded_ddl.backup_max_age = '1min';
SHOW guarded_ddl.backup_max_age;
SET guarded_ddl.backup_max_age = '29s';
RESET guarded_ddl.backup_max_age;

-- audit_worker_timeout: between 100 ms and 10 minutes.
SET guarded_ddl.audit_worker_timeout = 99;
SET guarded_ddl.audit_worker_timeout = '11min';
SET guarded_ddl.audit_worker_timeout = '250ms';
SHOW guarded_ddl.audit_worker_timeout;
RESET guarded_ddl.audit_worker_timeout;
