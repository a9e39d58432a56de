# techauction: `make run` serves, `make test` runs the whole suite. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run migrate test lint openapi bench clean

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

test: lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/lint-imports

openapi: $(STAMP)
	$(BIN)/python -m app.openapi openapi.yaml

bench: migrate
	$(BIN)/techauction bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
