# The one task runner. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
NPM    ?= npm
VENV   := .venv
BIN    := $(VENV)/bin
# Browser assets the API serves, from npm through the committed package-lock.json; nothing is
# fetched from anywhere else at run time: GraphiQL's files copied into api/static/vendor/, and
# the explorer page (explorer/: TypeScript + Cytoscape.js, type-checked and bundled by esbuild)
# built into api/explorer/static/.
NODE_MODULES := node_modules/.crkg-npm-ci
STATIC   := api/static/vendor/manifest.json
EXPLORER := api/explorer/static/manifest.json
EXPLORER_SOURCES := $(wildcard explorer/src/*.ts) explorer/build.mjs explorer/tsconfig.json \
	explorer/index.html explorer/explorer.css explorer/favicon.svg

.PHONY: install lock audit assets demo test check lint format typecheck bench-load bench-api bench-load-faults bench-algorithms bench-referral neo4j-start neo4j-stop neo4j-status clean

install: $(VENV)/.installed $(STATIC) $(EXPLORER)  ## virtual environment with crkg and its dev tools, and the browser assets

assets: $(STATIC) $(EXPLORER)        ## npm ci, GraphiQL's assets into api/static/vendor, the explorer into api/explorer/static

$(NODE_MODULES): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

$(STATIC): $(NODE_MODULES) api/static/build.mjs
	$(NPM) run --silent build:vendor

$(EXPLORER): $(NODE_MODULES) $(EXPLORER_SOURCES)
	$(NPM) run --silent build:explorer

# Every package pinned and hash-checked from requirements-dev.lock (`make lock` writes it and
# the runtime-only requirements.lock the image installs, from pyproject.toml), then crkg itself
# without resolving anything again: the same install on every machine, and a tampered
# download is refused.
$(VENV)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

lock:                                ## re-pin requirements-dev.lock and requirements.lock (with hashes) after a change to pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --extra dev --strip-extras --allow-unsafe \
		--no-emit-find-links --output-file requirements-dev.lock pyproject.toml
	cp requirements-dev.lock requirements.lock  # the runtime pins start from the tested ones
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-find-links --output-file requirements.lock pyproject.toml

audit: install                       ## known vulnerabilities in requirements-dev.lock and package-lock.json; fails if nothing could be checked
	$(BIN)/python -m tools.audit

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

bench-load-faults: install           ## locust read mix on the 100k bank, connection resets and a Neo4j restart part-way
	$(BIN)/python -m bench.load_faults --customers 100000

bench-algorithms: install            ## GDS vs in-process vs networkx on the bench instance's bank
	$(BIN)/python -m bench.algorithms --customers 100000

bench-referral: install              ## learned referral model vs fixed weights on held-out planted adoption (20k-customer banks, no Neo4j)
	$(BIN)/python -m bench.referral --customers 20000

neo4j-start: install
	$(BIN)/crkg neo4j start

neo4j-stop: install
	$(BIN)/crkg neo4j stop

neo4j-status: install
	$(BIN)/crkg neo4j status

clean:                               ## the virtual environment and npm's files (not .crkg/, which holds data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules api/static/vendor api/explorer/static
