# The one task runner. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
NPM    ?= npm
VENV   := .venv
BIN    := $(VENV)/bin
# Browser assets the API serves (GraphiQL), vendored from npm through the committed
# package-lock.json; nothing is fetched from anywhere else at run time.
STATIC := api/static/vendor/manifest.json

.PHONY: install assets demo test check lint format typecheck bench-load bench-api bench-algorithms neo4j-start neo4j-stop neo4j-status clean

install: $(VENV)/.installed $(STATIC)  ## virtual environment with crkg and its dev tools, and the browser assets

assets: $(STATIC)                    ## npm ci + copy GraphiQL's assets into api/static/vendor

$(STATIC): package.json package-lock.json api/static/build.mjs
	$(NPM) ci --no-audit --no-fund --loglevel=error
	$(NPM) run --silent build

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

clean:                               ## the virtual environment and npm's files (not .crkg/, which holds data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules api/static/vendor
