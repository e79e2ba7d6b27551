-- guarded_ddl 1.0 -> 1.1 update script (in progress)
\echo Use "ALTER EXTENSION guarded_ddl UPDATE TO '1.1'" to load this file. \quit
