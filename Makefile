# Two commands for a newcomer: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
export UV_COMPILE_BYTECODE := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: demo test lint venv bytecode clean lock serve serve-scaled bench bench-ducklake bench-steps bench-patched profile

demo: bytecode
	$(BIN)/kcity demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

venv: $(STAMP)

# The venv is (re)built whenever the lock file or pyproject changes.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(UV) pip sync --quiet --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# The project's own modules compiled to bytecode (only those changed since): the installed
# packages are (UV_COMPILE_BYTECODE), but an editable install's are not, and where
# PYTHONDONTWRITEBYTECODE is set (this machine kind) every `kcity` process compiled them
# again at its start (~40 ms of a run that loads; bench/RESULTS.md, twenty-second session).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q kcity flows tasks warehouse schemas

# Regenerate the lock after changing pyproject.toml's pins.
lock: $(STAMP)
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) data .pytest_cache

# The Prefect server, work pool, deployments and a worker on 127.0.0.1 (Ctrl-C stops them).
serve: bytecode
	bash scripts/serve.sh

# The scale-out mode (docs/deployment.md): the Prefect server on PostgreSQL (started here
# unless PREFECT_API_DATABASE_CONNECTION_URL names one), two process workers, and the
# warehouse on DuckLake with its catalog in that PostgreSQL and its data under data/lake/.
serve-scaled: bytecode
	KCITY_PREFECT_DB=postgres KCITY_WORKERS=$${KCITY_WORKERS:-2} KCITY_WAREHOUSE=ducklake bash scripts/serve.sh

# The benchmark (bench/README.md): `make bench` (1M rows, ~30 min) or `make bench SIZE=small`.
SIZE ?= default
bench: bytecode
	$(BIN)/python -m bench.run --size $(SIZE) $(if $(RUNS),--runs $(RUNS)) $(if $(HEAVY_RUNS),--heavy-runs $(HEAVY_RUNS)) $(if $(CASES),--cases "$(CASES)")

# The embedded file against DuckLake (PostgreSQL catalog), full and nothing-new nightly runs.
bench-ducklake: bytecode
	$(BIN)/python -m bench.ducklake --size $(SIZE) $(if $(RUNS),--runs $(RUNS))

# The snapshot and publish of the bench's full run, statement by statement, rebuilt with the
# current code and compared mart by mart with the run's own (bench/steps.py).
bench-steps: bytecode
	$(BIN)/python -m bench.steps --size $(SIZE)

# One new day patched at SIZE (new requests, new versions, newer reviews), checked mart by
# mart against the same day rebuilt whole (bench/patched.py).
bench-patched: bytecode
	$(BIN)/python -m bench.patched --size $(SIZE)

# A profile of the full run at SIZE (pyinstrument), written to bench/profile-$(SIZE).txt.
profile: bytecode
	$(BIN)/python -m bench.profile --size $(SIZE)
