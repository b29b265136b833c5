# Two commands matter: `make run` serves the product, `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core, the accessibility engine the browser tests run in each page (from npm, pinned).
AXE_VERSION := 4.14.1
AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js
# Where make run listens: make run PORT=8080 (HOST=0.0.0.0 to be reached from other machines).
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck pytest test-postgres i18n i18n-check flows-graph bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(AXE): Makefile
	@if command -v npm >/dev/null; then \
		npm install --silent --prefix $(VENV)/axe --no-save --no-audit --no-fund --no-package-lock \
			axe-core@$(AXE_VERSION) && touch $(AXE); \
	else echo "npm not found: the accessibility checks will be skipped (apt-get install npm)"; fi

## Serve the web chat, the APIs and the admin on http://$(HOST):$(PORT) (SQLite, no token needed).
run: $(STAMP)
	$(BIN)/aiguillage serve --host $(HOST) --port $(PORT)

## Lint, type-check and run every test (SQLite; PostgreSQL too when AIGUILLAGE_TEST_POSTGRES_URL is set).
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@if command -v node >/dev/null; then for f in webhook/static/*.js; do node --check $$f; done; fi

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(AXE)
	$(BIN)/pytest -q
	@if [ -n "$$AIGUILLAGE_TEST_POSTGRES_URL" ]; then \
		echo "--- database tests on PostgreSQL"; \
		$(BIN)/pytest -q -m db --db=postgresql; \
	fi

## Extract every text (Python, templates, messages.yaml) and update the catalogues.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --width=100 \
		--project=Aiguillage -k pgettext:1c,2 -k N_ -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching \
		--ignore-obsolete --width=100

## Redraw the flow diagrams committed next to the flows.
flows-graph: $(STAMP)
	$(BIN)/aiguillage flows graph --write

## Load benchmark of the Telegram channel beside python-telegram-bot and aiogram baselines.
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.telegram_load

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache test-artifacts
