# The two commands of the README: `make demo` and `make test`.
# Both create their own virtual environment in .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DB ?= demo.db

# The wheels users get, both built into build/wheels: the compiled one (cp311-...-linux_x86_64,
# its judging core compiled by mypyc, hatch_build.py), installed in a second environment where
# the tests run again, and the pure-Python one (py3-none-any), for any CPython from 3.11.
CVENV ?= .venv-wheel
CBIN := $(CVENV)/bin
CSTAMP := $(CVENV)/.installed-stamp
WHEELS := build/wheels
# the files, and their folders (whose times change when a file is added, removed or renamed)
SOURCES := $(shell find src rulepacks -name __pycache__ -prune -o \( -type d -o -name '*.py' -o -name '*.toml' -o -name '*.html' -o -name '*.css' \) -print | sort)

.PHONY: demo test test-deep lint typecheck bench clean

# The web board's browser tests drive Debian's Chromium through its chromedriver (issue 14):
# `make test` installs them here when missing (as root, with apt-get), so that CI has them:
# under CI (CI=true) those tests fail without a browser, never skip.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-noto-cjk

$(STAMP): pyproject.toml requirements/constraints.txt examples/example-district-pack/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the package with its extras, and the development tools (pyproject.toml's dependency group)
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[postgres,testing,http]' --group dev
	# a third-party rule pack, installed as a user would, for the tests that discover it
	$(BIN)/python -m pip install --quiet --no-deps -e examples/example-district-pack
	touch $(STAMP)

$(CSTAMP): $(STAMP) hatch_build.py $(SOURCES)
	rm -rf $(CVENV) $(WHEELS)
	CASELEDGER_REQUIRE_COMPILED=1 $(BIN)/python -m pip wheel --quiet --no-build-isolation --no-deps -w $(WHEELS) .
	CASELEDGER_PURE_PYTHON=1 $(BIN)/python -m pip wheel --quiet --no-build-isolation --no-deps -w $(WHEELS) .
	$(BIN)/python -c "import glob, zipfile; [w] = glob.glob('$(WHEELS)/caseledger-*-py3-none-any.whl'); built = [n for n in zipfile.ZipFile(w).namelist() if n.endswith(('.so', '.pyd'))]; assert not built, built"
	$(PYTHON) -m venv $(CVENV)
	$(CBIN)/python -m pip install --quiet --upgrade pip
	$(CBIN)/python -m pip install --quiet -c requirements/constraints.txt "$$(ls $(WHEELS)/caseledger-*-cp3*.whl)[postgres,testing,http]" --group dev
	$(CBIN)/python -m pip install --quiet --no-deps -e examples/example-district-pack
	$(CBIN)/python -c "import caseledger.judging.clock as c; assert not c.__file__.endswith('.py'), c.__file__"
	# and every other module of the judging folder
	$(CBIN)/python -c "import importlib, pkgutil, caseledger.judging as j; py = [m.name for m in pkgutil.iter_modules(j.__path__) if importlib.import_module(f'caseledger.judging.{m.name}').__file__.endswith('.py')]; assert not py, py"
	touch $(CSTAMP)

demo: $(STAMP)
	rm -f $(DEMO_DB)
	$(BIN)/caseledger --db sqlite:///$(DEMO_DB) demo

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks hatch_build.py
	$(BIN)/ruff format --check src tests examples benchmarks hatch_build.py

typecheck: $(STAMP)
	$(BIN)/mypy src hatch_build.py

# The PostgreSQL tests are required here: they fail, not skip, when the server is down.
# First against the sources (editable, pure Python), then against the wheel users get.
test: lint typecheck $(CSTAMP) | $(CHROMIUM)
	CASELEDGER_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest
	CASELEDGER_REQUIRE_POSTGRES=1 $(CBIN)/python -m pytest -p no:cacheprovider -q

# Many more hypothesis examples, on demand.
test-deep: $(STAMP)
	CASELEDGER_REQUIRE_POSTGRES=1 HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest

# Speed of the board query and of rebuilding the read models (SQLite), on demand.
# (with the wheel users get, compiled core included)
bench: $(CSTAMP)
	$(CBIN)/python benchmarks/bench_read_models.py
	$(CBIN)/python benchmarks/bench_import.py --memory-events 1000000 --stored 100000 1000000

clean:
	rm -rf $(VENV) $(CVENV) build $(DEMO_DB) .pytest_cache .mypy_cache .ruff_cache
