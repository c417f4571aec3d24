# ACORN: the README's verbs. Every target installs what it needs first (locked), so a fresh clone needs nothing else.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Every tool offline and quiet.
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export GX_ANALYTICS_ENABLED := false
export UV_PYTHON_DOWNLOADS := never
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export ACORN_DATA_DIR ?= $(CURDIR)/data

PYTHON_FOR_UV ?= python3
VENV := .venv
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON_FOR_UV) -m uv")
STAMP := $(VENV)/.synced

.PHONY: help install demo demo-cluster test test-suite test-fast test-cluster test-dates lint ruff typecheck fix ui docs dashboard bench clean
help:
	@echo "make demo   - install, start the SP-API simulator, run the whole pipeline, print a summary"
	@echo "make test   - ruff, then mypy beside pytest (today's date)"
	@echo "make test-suite - pytest alone (what make test runs beside mypy)"
	@echo "make test-fast - ruff, mypy, then pytest without the slow tests (end to end, real dbt builds, demo runs)"
	@echo "make demo-cluster - 20 simulated accounts on 3 Celery workers (PostgreSQL, Redis), compared with the embedded mode"
	@echo "make test-cluster - the scale-out tests: Celery workers, PostgreSQL, Redis, a DuckLake warehouse on a loopback S3 (minutes)"
	@echo "make test-dates - the simulator-driven tests at 12 dates over a year (month ends, 29 Feb, DST changes)"
	@echo "make lint   - ruff (lint and format check) and mypy, nothing else"
	@echo "make typecheck - mypy over every package"
	@echo "make fix    - ruff: apply the safe lint fixes, then format"
	@echo "make ui     - Dagster webserver + daemon on http://127.0.0.1:3000"
	@echo "make docs   - dbt docs on http://127.0.0.1:8080"
	@echo "make dashboard - the analyst's dashboard (income, money held, payouts, fees) on http://127.0.0.1:8501"
	@echo "make bench  - benchmarks (prints numbers)"
	@echo "make install - the locked environment in .venv (every target does this first)"
	@echo "make clean  - remove the Dagster home, dbt's target/ and logs/"

# uv is bootstrapped with pip when missing; the environment is the committed lock, nothing else. Bytecode is
# compiled once here: with PYTHONDONTWRITEBYTECODE set (as on CI machines), every process would otherwise
# recompile dagster, dbt and pandas on start (9 s -> 4 s to import them on this machine).
$(STAMP): pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON_FOR_UV) -m uv --version >/dev/null 2>&1 || $(PYTHON_FOR_UV) -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode
	@touch $(STAMP)

# ACORN's own packages too (a file edited since is compiled in memory again, as without this): every `acorn`
# process otherwise compiles the hundred-odd modules a command loads from source, about 0.1 CPU s each time.
install: $(STAMP)
	@$(VENV)/bin/python -m compileall -q $(TYPED_PACKAGES) >/dev/null

demo: install
	$(VENV)/bin/acorn demo

# Scale-out on this machine (README "Scale-out"): PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`) and
# Redis on 6379; CLUSTER_ARGS e.g. "--accounts 6 --workers 2 --work-dir /tmp/acorn-cluster".
CLUSTER_ARGS ?=
demo-cluster: install
	$(VENV)/bin/python -m acorn_cli.cluster_demo $(CLUSTER_ARGS)

# Every package mypy checks (its settings are in pyproject.toml).
TYPED_PACKAGES := acorn_cli bench books dashboard expectations lake orchestration simulator spapi transforms

lint: ruff
	$(MAKE) --no-print-directory typecheck

# ruff's lint and format check, the part of `make lint` that `make test` runs before mypy and pytest.
ruff: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy $(TYPED_PACKAGES)

fix: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# ruff first (seconds), then mypy beside pytest rather than before it: the suite keeps both cores busy most of
# its run but not all of it (its processes wait on one another: 1,340 CPU s in 775 s on 2 cores, about 200
# core-seconds idle), and mypy, one core for about a minute, fills those gaps. Either one failing fails the
# target (make waits for the other). The 20 slowest tests are listed at the end, so a run (CI's too) shows where
# the suite's time goes.
test: ruff
	@$(MAKE) --no-print-directory -j2 typecheck test-suite

# pytest alone (`make test` runs it beside mypy).
test-suite: install
	$(VENV)/bin/pytest -n 2 --dist loadgroup --durations=20

# The scale-out tests (marker `cluster`, README "Scale-out"): Celery workers, the machine's PostgreSQL
# (127.0.0.1:5432) and Redis (6379), moto's S3 server on loopback; minutes, so not in `make test` (.ci/run runs both).
test-cluster: install
	$(VENV)/bin/pytest -n 0 -m cluster

test-fast: lint
	$(VENV)/bin/pytest -n 2 --dist loadgroup -m "not slow and not cluster"

# The date sweep: every test that talks to the simulator (or reads its ledger), replayed with ACORN_SIMULATOR_START
# at month ends, 28/29 February, the US and EU daylight-saving changes (at the instant the clocks move), 31 December
# and 1 January. A test that picks data by position or by today's date fails on some of them. The CLI tests that
# only run the demo again for its exit codes and output are left out: test_demo.py runs it at every date.
SWEEP_DATES ?= 2026-12-31 2027-01-01 2027-01-31 2027-02-28 2027-03-14T07:00:00Z 2027-03-28T01:00:00Z \
	2027-04-30 2027-06-30T23:30:00Z 2027-09-30 2027-10-31T01:00:00Z 2027-11-07T06:00:00Z 2028-02-29
SWEEP_TESTS ?= tests/simulator tests/spapi/test_backfill_under_real_limits.py \
	tests/orchestration tests/dbt/finance tests/expectations/test_demo_ledger.py tests/e2e/test_demo.py
SWEEP_LOGS ?= $(CURDIR)/.date-sweep
test-dates: install
	@mkdir -p $(SWEEP_LOGS); failed=""; for day in $(SWEEP_DATES); do \
		log="$(SWEEP_LOGS)/$$day.log"; \
		if ACORN_SIMULATOR_START=$$day $(VENV)/bin/pytest -n 2 --dist loadgroup -q -p no:cacheprovider \
			$(SWEEP_TESTS) > "$$log" 2>&1; then status=passed; else status=FAILED; failed="$$failed $$day"; fi; \
		echo "ACORN_SIMULATOR_START=$$day: $$status, $$(tail -n 1 "$$log" | tr -d '=')"; \
		grep -E '^(FAILED|ERROR) ' "$$log" || true; \
	done; \
	if [ -n "$$failed" ]; then echo "date sweep FAILED on:$$failed (logs in $(SWEEP_LOGS)/)"; exit 1; fi; \
	echo "date sweep passed on all $(words $(SWEEP_DATES)) dates (logs in $(SWEEP_LOGS)/)"

ui: install
	$(VENV)/bin/acorn ui

docs: install
	$(VENV)/bin/acorn docs

dashboard: install
	$(VENV)/bin/acorn dashboard

bench: install
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(DAGSTER_HOME) dbt_project/target dbt_project/logs
