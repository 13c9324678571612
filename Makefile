# Forecourt: `make demo` runs the main job on embedded defaults, `make test` runs the tests.
# Everything installs into .venv from the pinned requirements.lock; nothing writes outside
# the repository or /tmp.

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
export FORECOURT_HOME ?= $(CURDIR)/var
export MPLCONFIGDIR   ?= /tmp/forecourt-mpl
# Airflow is installed (dags/): keep its home in the project, never ~/airflow
export AIRFLOW_HOME   ?= $(FORECOURT_HOME)/airflow
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
# MLflow writes a telemetry id into ~/.config/mlflow unless told not to
export MLFLOW_DISABLE_TELEMETRY ?= true
export DO_NOT_TRACK ?= true

.PHONY: demo test ui rehearse lint format bench venv lock clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "Forecourt needs Python 3.11 ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

demo: venv
	$(VENV)/bin/forecourt demo

ui: venv
	$(VENV)/bin/forecourt ui

# The AWS path offline: terraform apply on moto, the DAG on MWAA's Airflow with runner batch,
# Batch jobs run in the training environment, S3 store, MLflow server; then destroy.
rehearse: venv
	$(PY) -m rehearsal

# Test files run in parallel (pytest-xdist), longest first (tests/durations.json); a file's
# tests stay in one worker, where they share its fixtures. 2 workers: with 3 on 2 cores the
# Terraform applies on moto slowed until the AWS provider retried creates that had gone
# through (409s; docs/performance.md, "The test suite"). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m tools.check_imports
	$(PY) -m pytest -n $(TEST_WORKERS) --maxprocesses 4 --dist loadfile --no-loadscope-reorder \
		--junitxml=$(FORECOURT_HOME)/test-results.xml
	$(PY) -m tools.test_durations $(FORECOURT_HOME)/test-results.xml

bench: venv
	$(PY) -m benchmarks.run_all --agents profit demand

lint: venv
	$(PY) -m ruff check .

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Re-pin every package after changing pyproject.toml (torch stays the CPU wheel).
lock:
	rm -rf /tmp/forecourt-lock && $(PYTHON) -m venv /tmp/forecourt-lock
	/tmp/forecourt-lock/bin/pip install --quiet torch==2.13.0 -e '.[dev,airflow]'
	/tmp/forecourt-lock/bin/pip freeze --exclude-editable | sed 's/^torch==2.13.0+cpu/torch==2.13.0/' > requirements.lock.new
	( sed -n '1,2p' requirements.lock; cat requirements.lock.new ) > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock && rm requirements.lock.new

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
