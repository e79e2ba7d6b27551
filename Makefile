# guarded_ddl -- PGXS build.  Tests are run by test/run.sh, never by "make check"
# (under PGXS it exits 0 without testing anything).

MODULE_big = guarded_ddl
# Ground floor first: each file includes only headers of those above it
# (test/layout_check.pl holds the code to that; see README "Source layout").
OBJS = \
	src/intent.o \
	src/settings.o \
	src/glob.o \
	src/objects.o \
	src/catalog.o \
	src/statement.o \
	src/classify.o \
	src/classify_dropped.o \
	src/classify_self.o \
	src/classify_delete.o \
	src/type_change.o \
	src/probe.o \
	src/assess.o \
	src/assess_drop.o \
	src/policy.o \
	src/backup.o \
	src/decide.o \
	src/enforce.o \
	src/audit.o \
	src/audit_writer.o \
	src/audit_queue.o \
	src/audit_log_only.o \
	src/pipeline.o \
	src/trash.o \
	src/trash_restore.o \
	src/trash_columns.o \
	src/trash_column_restore.o \
	src/trash_truncate.o \
	src/trash_members.o \
	src/trash_capture.o \
	src/trash_dependents.o \
	src/trash_recreate.o \
	src/trash_worker.o \
	src/temp_guard.o \
	src/event_triggers.o \
	src/object_access.o \
	src/utility_hook.o \
	src/executor_hook.o \
	src/check.o \
	src/guarded_ddl.o

EXTENSION = guarded_ddl
DATA = guarded_ddl--1.0.sql guarded_ddl--1.1.sql guarded_ddl--1.0--1.1.sql
PGFILEDESC = "guarded_ddl - guard rails against data-destroying DDL"

REGRESS_OPTS = --inputdir=. --outputdir=$(GUARDED_DDL_OUTDIR)
REGRESS = $(shell cat test/regress_schedule 2>/dev/null)

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/src
# PostgreSQL's own headers trip -Wextra's unused-parameter and
# missing-field-initializers (PG_FUNCTION_ARGS, GUC tables); those two are
# the only ones quieted.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: a changed struct must rebuild all.
$(OBJS): $(wildcard $(srcdir)/src/*.h)

.PHONY: format
format:
	clang-format -i src/*.c src/*.h
