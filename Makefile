# 善治 Shanzhi — two commands for a new user: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck pytest chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The demo year builds in a process of its own while the pages already answer (its progress is
# shown at the top of every page), so a newcomer signs in within the first minute.
run: install
	$(BIN)/shanzhi collectstatic --no-input -v 0 & $(BIN)/shanzhi migrate --no-input -v 0 && wait $$!
	$(BIN)/shanzhi demo --if-empty --background &
	@echo "善治已启动: http://$(HOST):$(PORT)/  (Ctrl+C 停止)"
	$(BIN)/gunicorn shanzhi.wsgi:application --bind $(HOST):$(PORT) --workers 2 --access-logfile -

chromium:
	@bash scripts/ensure-system-packages.sh

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install
	$(BIN)/mypy src

# The suite runs on PostgreSQL when DATABASE_URL points at one, and always on SQLite; the two
# runs go side by side (each is one process) and their reports are printed one after the other.
pytest: install chromium
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== pytest on $$DATABASE_URL and on SQLite, side by side"; \
		$(BIN)/pytest -q -p no:cacheprovider > $(VENV)/pytest-postgresql.log 2>&1 & pg=$$!; \
		env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider > $(VENV)/pytest-sqlite.log 2>&1; lite=$$?; \
		wait $$pg; pgrc=$$?; \
		echo "== pytest on PostgreSQL"; cat $(VENV)/pytest-postgresql.log; \
		echo "== pytest on SQLite"; cat $(VENV)/pytest-sqlite.log; \
		[ $$pgrc -eq 0 ] && [ $$lite -eq 0 ]; \
	else \
		echo "== pytest on SQLite"; \
		$(BIN)/pytest -q -p no:cacheprovider; \
	fi

test: lint typecheck pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
