# The two commands of the README: `make demo` and `make test`.
# Both create their own virtual environment in .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DB ?= demo.db

.PHONY: demo test test-deep lint typecheck bench clean

$(STAMP): pyproject.toml requirements/constraints.txt examples/example-district-pack/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	# a third-party rule pack, installed as a user would, for the tests that discover it
	$(BIN)/python -m pip install --quiet --no-deps -e examples/example-district-pack
	touch $(STAMP)

demo: $(STAMP)
	rm -f $(DEMO_DB)
	$(BIN)/caseledger --db sqlite:///$(DEMO_DB) demo

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

# The PostgreSQL tests are required here: they fail, not skip, when the server is down.
test: lint typecheck
	CASELEDGER_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest

# Many more hypothesis examples, on demand.
test-deep: $(STAMP)
	CASELEDGER_REQUIRE_POSTGRES=1 HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest

# Speed of the board query and of rebuilding the read models (SQLite), on demand.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_read_models.py

clean:
	rm -rf $(VENV) $(DEMO_DB) .pytest_cache .mypy_cache .ruff_cache
