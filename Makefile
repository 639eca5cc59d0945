# Every dev command lives here.  `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install redis-server browser run test test-cluster test-fast lint format bench bench-install soak clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 (3.11+) is required"; exit 1; }
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# redis-server from PATH is used by `streamfn dev` (when no Redis answers) and by the tests.
redis-server:
	@command -v redis-server >/dev/null || { \
	  echo "redis-server not found; installing Debian's redis-server"; \
	  (apt-get update -qq && apt-get install -y -qq redis-server) >/dev/null; }

# Debian's Chromium, headless, for the tests that look at the gateway's pages
# (tests/support/browser.py).
browser:
	@command -v chromium >/dev/null || { \
	  echo "chromium not found; installing Debian's chromium"; \
	  (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null; }

run: install redis-server
	$(VENV)/bin/streamfn dev

lint: install
	$(PY) .ci/check_tree.py
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install redis-server browser lint
	$(PY) -m pytest -q -p no:cacheprovider -m "not soak"

# The cluster tier: the Lua, core, gateway, schedule, timekeeping, CLI, runner and end-to-end
# suites against a private 3-master Redis Cluster (tests/conftest.py starts it; single_node
# tests are skipped).
test-cluster: install redis-server browser
	STREAMFN_TEST_CLUSTER=1 $(PY) -m pytest -q -p no:cacheprovider -m "not soak" \
	  tests/lua tests/streamfn tests/gateway tests/schedules tests/timekeeping tests/cli \
	  tests/runner tests/e2e

test-fast: install redis-server
	$(PY) -m pytest -q -p no:cacheprovider -m "not e2e and not fault and not fuzz and not soak"

# Longer fault-injection and fuzzing runs; re-renders the table in docs/reliability.md.
soak: install redis-server
	$(PY) -m pytest -q -p no:cacheprovider -m soak tests/fault tests/fuzz
	$(PY) -m tests.fault.report

# The load benchmarks (bench/README.md): `make bench ARGS="floor --n 10000"`; no ARGS runs all.
# wrk is the HTTP load generator of http-throughput's wrk phase; without it that phase is skipped.
bench: bench-install
	$(PY) -m bench $(ARGS)

# What the benchmarks need, without running them: then `streamfn bench ...` works too.
bench-install: install redis-server
	@command -v wrk >/dev/null || { \
	  echo "wrk not found; installing Debian's wrk"; \
	  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 || \
	  echo "could not install wrk: http-throughput will skip its wrk phase"; }
	$(PY) -m pip install -q -e '.[dev]' -e ./bench


clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
