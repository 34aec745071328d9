# The two commands of the README's quick start, and a few for developers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo

.PHONY: demo test lint install wheel-check clean

$(BIN)/tracker: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/tracker

# Sets everything up and runs the demo: on SQLite, no network.
demo: $(BIN)/tracker
	$(BIN)/tracker demo --no-serve --folder $(DEMO_DIR)

lint: $(BIN)/tracker
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Lint, types, then every test on SQLite and PostgreSQL, one worker per core
# (each test has its own database and its own servers on free ports).
test: lint
	$(BIN)/pytest -n auto

# Builds the wheel, installs it into a fresh virtual environment and plays the
# demo from an empty folder (CI runs it too).
wheel-check:
	bash .ci/wheel.sh

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .hypothesis dist build
