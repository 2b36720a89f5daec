# Everything a fresh machine needs lives here: `make demo` and `make test` create/refresh .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO_DB ?= .demo/skillmatch.db
SKILLMATCH_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export SKILLMATCH_TEST_POSTGRES_URL

.PHONY: install demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	rm -f $(DEMO_DB)
	mkdir -p $(dir $(DEMO_DB))
	$(BIN)/skillmatch --database-url sqlite:///$(DEMO_DB) demo
	$(BIN)/skillmatch --database-url sqlite:///$(DEMO_DB) chat

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint:
	$(BIN)/ruff check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench.search_quality
	$(BIN)/python -m bench.search_latency
	$(BIN)/python -m bench.dense_topk
	$(BIN)/python -m bench.ingest_throughput

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache
