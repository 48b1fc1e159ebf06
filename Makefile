# Each target builds .venv first. `make run` and `make test` are the two commands of the README.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/optdesk.duckdb
MAILBOX ?= maildir:data/demo-mailbox

.PHONY: run test lint lab desk bench venv system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m compileall -q daemon/optdesk  # what a wheel install does; -e leaves it out
	$(BIN)/python scripts/lab_settings.py
	touch $(STAMP)

venv: $(STAMP)

# a no-op when Dovecot and Chromium are there already
system-deps:
	bash scripts/system-deps.sh

run: $(STAMP)
	$(BIN)/optdesk --db $(DB) init --demo --if-absent
	$(BIN)/optdesk --db $(DB) demo-mailbox --if-absent data/demo-mailbox
	@echo "one-click unsubscribe of the demo: http://127.0.0.1:8025/u/TOKEN (optdesk list-unsubscribe --contact 1 prints a URL)"
	$(BIN)/optdesk --db $(DB) --mailbox $(MAILBOX) --data-group demo run --serve

lint: $(STAMP)
	$(BIN)/ruff check daemon tests bench scripts

test: $(STAMP) system-deps lint
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m pytest $(PYTEST_ARGS)

lab: $(STAMP)
	$(BIN)/optdesk --db $(DB) init --demo --if-absent
	PATH=$(CURDIR)/$(BIN):$$PATH OPTDESK_DB=$(CURDIR)/$(DB) $(BIN)/optdesk --db $(DB) lab

# the analysts' desk: the five notebooks as an app (Voilà, no code) on the embedded store
desk: $(STAMP)
	$(BIN)/optdesk --db $(DB) init --demo --if-absent
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/optdesk --db $(DB) desk

bench: $(STAMP) system-deps
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV)
