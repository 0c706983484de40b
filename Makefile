# congdan — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROVINCE ?= 48
PEOPLE ?= 100000
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: demo test install lint typecheck check bench messages clean

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

var/secret.key:
	@mkdir -p var
	@$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret.key
	@chmod 600 var/secret.key

# Install, migrate the embedded SQLite database, seed a synthetic population (once),
# create the demo accounts and serve http://127.0.0.1:8000 with the production server.
demo: $(STAMP) var/secret.key
	@export CONGDAN_SECRET_KEY="$$(cat var/secret.key)" CONGDAN_DEMO=1 CONGDAN_PUBLIC_URL=http://$(HOST):$(PORT) \
	  CONGDAN_ACCESS_LOG_SEAL_DELAY=5; \
	$(BIN)/congdan migrate --no-input -v0 && \
	if [ "$$($(BIN)/congdan shell --no-imports -c 'from congdan.registry.models import Person; print(Person.objects.exists())')" = "False" ]; then \
	  $(BIN)/congdan seed --province $(PROVINCE) --people $(PEOPLE) --seed 1 && \
	  $(BIN)/congdan seed_documents --province $(PROVINCE) --seed 1; fi && \
	$(BIN)/congdan demo_accounts --province $(PROVINCE) --url http://$(HOST):$(PORT)/ && \
	$(BIN)/congdan seed_monitoring --province $(PROVINCE) --seed 1 && \
	$(BIN)/congdan oidc_client ensure-demo && \
	echo "  sample relying parties (another terminal): $(BIN)/python examples/relying_party.py --preset bank | --preset portal" && \
	{ $(BIN)/congdan worker & WORKER=$$!; trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/congdan serve --host $(HOST) --port $(PORT); }

# The whole suite. CONGDAN_DATABASE_URL=postgresql://... runs it on PostgreSQL.
test: $(STAMP)
	CONGDAN_DEBUG=1 $(BIN)/pytest -p no:cacheprovider -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	CONGDAN_DEBUG=1 $(BIN)/mypy

check: $(STAMP)
	CONGDAN_DEBUG=1 $(BIN)/congdan makemigrations --check --dry-run
	CONGDAN_DEBUG=1 $(BIN)/congdan check
	CONGDAN_DEBUG=1 $(BIN)/congdan procedures_check

messages: $(STAMP)
	cd src/congdan && CONGDAN_DEBUG=1 ../../$(BIN)/congdan makemessages -l en --no-obsolete && \
	CONGDAN_DEBUG=1 ../../$(BIN)/congdan compilemessages -l en

# Benchmarks (not part of `make test`): see bench/README.md.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
