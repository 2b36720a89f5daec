# Everything a fresh machine needs lives here: `make demo` and `make test` create/refresh .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two install stamps per pyproject.toml version: the demo needs only the runtime dependencies; tests,
# lint and benchmarks need the dev extras on top (pytest, ruff, faiss, kubernetes-validate, ...).
PYPROJECT_HASH := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
RUNTIME_STAMP := $(VENV)/.installed-runtime-$(PYPROJECT_HASH)
DEV_STAMP := $(VENV)/.installed-dev-$(PYPROJECT_HASH)
# The Kubernetes version the manifests are validated against (offline, schemas ship with the package).
KUBERNETES_VERSION ?= 1.32.0
DEMO_DB ?= .demo/skillmatch.db
SKILLMATCH_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export SKILLMATCH_TEST_POSTGRES_URL

.PHONY: install install-dev demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.installed-runtime-*
	touch $(RUNTIME_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(DEV_STAMP) $(RUNTIME_STAMP)

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

demo: install
	rm -f $(DEMO_DB)
	mkdir -p $(dir $(DEMO_DB))
	$(BIN)/skillmatch --database-url sqlite:///$(DEMO_DB) demo
	$(BIN)/skillmatch --database-url sqlite:///$(DEMO_DB) chat

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/kubernetes-validate --strict --quiet -k $(KUBERNETES_VERSION) deploy/kubernetes/*.yaml
	$(BIN)/python -m pytest -q

lint:
	$(BIN)/ruff check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-dev
	$(BIN)/python -m bench.search_quality
	$(BIN)/python -m bench.search_latency
	$(BIN)/python -m bench.dense_topk
	$(BIN)/python -m bench.ingest_throughput
	$(BIN)/python -m bench.match_precision
	$(BIN)/python -m bench.large_cv

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache
