# The one task runner. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install demo test check lint format typecheck bench-load bench-api bench-algorithms neo4j-start neo4j-stop neo4j-status clean

install: $(VENV)/.installed          ## virtual environment with crkg and its dev tools

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

demo: install                        ## the end-to-end demo on the managed local Neo4j
	$(BIN)/crkg demo

test: check                          ## lint, type-check, then every test (real Neo4j + GDS)
	$(BIN)/pytest

check: lint typecheck

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

bench-load: install                  ## online vs bulk vs row-at-a-time on a 100k-customer bank
	$(BIN)/python -m bench.load --customers 100000

bench-api: install                   ## GraphQL vs plain JSON, customer-360 latency on the 100k bank
	$(BIN)/python -m bench.api --customers 100000

bench-algorithms: install            ## GDS vs in-process vs networkx on the bench instance's bank
	$(BIN)/python -m bench.algorithms --customers 100000

neo4j-start: install
	$(BIN)/crkg neo4j start

neo4j-stop: install
	$(BIN)/crkg neo4j stop

neo4j-status: install
	$(BIN)/crkg neo4j status

clean:                               ## the virtual environment (not .crkg/, which holds data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
