# The two commands of the README's quick start, and a few for developers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo

.PHONY: demo test lint install wheel-check clean translations bench bench-quick reliability

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
	$(BIN)/lint-imports

# Lint, types, then every test on SQLite and PostgreSQL, one worker per core and
# one more, as many tests wait on servers and subprocesses (each test has its own
# database and its own servers on free ports).
test: lint
	$(BIN)/pytest -n $(shell echo $$(( $$(nproc) + 1 )))

# Every performance figure in one table, on SQLite and PostgreSQL (see
# docs/performance.md); bench-quick runs the small sizes only. The peer reply
# parsers are measured when installed: pip install -e '.[bench]'.
bench: $(BIN)/tracker
	$(BIN)/python -m benchmarks

bench-quick: $(BIN)/tracker
	mkdir -p build
	$(BIN)/python -m benchmarks --quick --json build/bench.json

# After changing a dashboard string: re-extract, merge into the Chinese catalogue
# (translate what is new), and compile the .mo that is committed beside the .po.
# New strings arrive untranslated (`--statistics` says how many; the test
# tests/unit/test_web_translations.py names them).
translations: $(BIN)/tracker
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d tracker/web/translations -l zh_Hans_CN --ignore-obsolete --no-fuzzy-matching --width 100
	$(BIN)/pybabel compile -d tracker/web/translations -l zh_Hans_CN --statistics

# The long fault-injection loop (SIGKILLed senders, failing SMTP, hostile mail) on
# both engines; prints one table of figures. TRIALS=50 by default, SEED= to replay.
TRIALS ?= 50
reliability: $(BIN)/tracker
	$(BIN)/python -m tests.reliability --trials $(TRIALS) $(if $(SEED),--seed $(SEED))

# Builds the wheel, installs it into a fresh virtual environment and plays the
# demo from an empty folder (CI runs it too).
wheel-check:
	bash .ci/wheel.sh

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .hypothesis dist build
