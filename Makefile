# mmbook: `make book` and `make test` do all set-up themselves (a venv in .venv from requirements.txt).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going --all
# torch's OpenMP threads spin while waiting; on 2 shared cores that can slow a chapter several-fold
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: env book test test-min lint unit nbval browser notebooks notebook bench set-repo clean

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

## book: execute every chapter and build the HTML book into _build/html (fails on any cell error or warning)
book: env
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	$(BIN)/jupyter-book build . $(JB_FLAGS)

## test: lint, unit tests, notebook regression (nbval), then the rendered book in headless chromium
test: env lint unit nbval browser

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check mmlib tests tools benchmarks book/_ext

unit: env
	$(BIN)/pytest tests -m "not browser"

NBVAL := $(BIN)/pytest -p no:cacheprovider --nbval-lax --nbval-current-env \
	--nbval-sanitize-with tests/nbval_sanitize.cfg book/*.ipynb

## nbval: the key numbers of every chapter, as they are and with torch on its generic CPU code path
nbval: env
	$(NBVAL)
	ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 $(NBVAL)

browser: env
	$(BIN)/pytest tests -m browser

## test-min: the unit tests on the lowest versions pyproject.toml declares, in their own venv
# (.venv-min): each `>=` bound of [project] dependencies installed exactly (torch: the book's
# 2.13.0), then mmlib itself without dependencies; a representative subset, under 5 minutes.
MIN_DEPS = $(shell $(PYTHON) -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print(' '.join('torch==2.13.0' if r.startswith('torch') else r.replace('>=', '==') for r in d))")
MIN_TESTS := tests/test_checks.py tests/test_linear.py tests/test_metrics.py tests/test_losses.py \
	tests/test_nets.py tests/test_fusion.py tests/test_training.py tests/test_defaults.py \
	tests/test_plotting.py tests/test_package.py tests/test_gmc.py tests/test_fuzz_second.py
test-min:
	@if [ ! -f .venv-min/.installed ] || [ pyproject.toml -nt .venv-min/.installed ]; then \
		set -e; \
		rm -rf .venv-min; \
		$(PYTHON) -m venv .venv-min; \
		.venv-min/bin/python -m pip install -q --upgrade pip; \
		.venv-min/bin/python -m pip install -q $(MIN_DEPS) $$(grep -E '^pytest==' requirements.txt); \
		touch .venv-min/.installed; \
	fi
	.venv-min/bin/python -m pip install -q --no-deps -e .
	.venv-min/bin/python -m pip list --format=freeze | grep -iE '^(numpy|scipy|scikit-learn|torch|tqdm|matplotlib|plotly)=='
	.venv-min/bin/python -m pytest -p no:cacheprovider -q $(MIN_TESTS)

## notebooks: regenerate every book/*.ipynb from its .md and execute it (commit the result)
notebooks: env
	$(BIN)/python tools/make_notebooks.py book/*.md

## notebook NB=cca: the same for one chapter
notebook: env
	$(BIN)/python tools/make_notebooks.py book/$(NB).md

## bench: mmlib against its peers; writes benchmarks/results/
bench: env
	@# the peers live in their own venv, beside the book's pinned .venv (mvlearn pins an old matplotlib)
	@if [ ! -f .venv-bench/.installed ] || [ requirements.txt -nt .venv-bench/.installed ]; then \
		set -e; \
		$(PYTHON) -m venv .venv-bench; \
		.venv-bench/bin/python -m pip install -q --upgrade pip; \
		.venv-bench/bin/python -m pip install -q -r requirements.txt; \
		.venv-bench/bin/python -m pip install -q "cca-zoo[deep]==4.0.1" "seaborn>=0.13"; \
		.venv-bench/bin/python -m pip install -q --no-deps "mvlearn==0.5.0"; \
		touch .venv-bench/.installed; \
	fi
	.venv-bench/bin/python -m pip install -q --no-deps -e .
	.venv-bench/bin/python benchmarks/run.py $(BENCH_ARGS)

## set-repo URL=https://github.com/you/mmbook BRANCH=main: where the book is published
set-repo: env
	$(BIN)/python tools/set_repository.py "$(URL)" "$(BRANCH)"

clean:
	rm -rf _build .pytest_cache .ruff_cache .venv-min
