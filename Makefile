# The two commands of the README's quick start, and a few for developers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo

.PHONY: demo test lint install clean

$(BIN)/tracker: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/tracker

# Sets everything up, runs the demo (SQLite, no network), then serves the
# coordinators' dashboard on it at http://127.0.0.1:8000/ until Ctrl+C.
demo: $(BIN)/tracker
	$(BIN)/tracker demo --folder $(DEMO_DIR)

lint: $(BIN)/tracker
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Lint, types, then every test on SQLite and PostgreSQL, one worker per core
# (each test has its own database and its own servers on free ports).
test: lint
	$(BIN)/pytest -n auto

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .hypothesis
