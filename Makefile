# techauction: `make run` serves, `make test` runs the whole suite. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run migrate test lint openapi bench clean browser messages screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/techauction migrate

run: migrate
	$(BIN)/techauction serve --host 127.0.0.1 --port 8000

# The browser tests (tests/web) drive Debian's chromium: installed here when missing.
browser:
	bash scripts/install-browser.sh

test: lint browser
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/lint-imports

openapi: $(STAMP)
	$(BIN)/python -m app.openapi openapi.yaml

# Page texts: extract from app/web, merge into each language's .po, compile the .mo files
# (committed; tests/web/test_catalogs.py checks they match).
messages: $(STAMP)
	$(BIN)/pybabel extract -F app/web/babel.cfg -k N_ --no-location --sort-output \
		-o app/web/locale/messages.pot app/web
	$(BIN)/pybabel update -i app/web/locale/messages.pot -d app/web/locale -D messages \
		--width 100 --ignore-pot-creation-date
	$(BIN)/pybabel compile -d app/web/locale -D messages --statistics

# Screenshots of the catalogue, the room and each role's console (zh and en) into docs/screenshots/.
screenshots: $(STAMP) browser
	WEB_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q \
		tests/web/test_browser.py::test_pages_in_chinese_and_english_and_on_a_phone \
		tests/web/test_console_browser.py tests/web/test_session_browser.py

bench: migrate
	$(BIN)/techauction bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
