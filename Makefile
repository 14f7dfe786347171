# Vínculo — every target creates .venv and installs what it needs first (idempotent).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install run test test-pg test-browser lint format bench demo messages clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo --if-empty --contacts 300
	$(PY) manage.py serve

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-pg: $(STAMP)
	scripts/with-postgres.sh $(PY) -m pytest $(PYTEST_ARGS)

test-browser: $(STAMP)
	VINCULO_REQUIRE_BROWSER=1 $(PY) -m pytest -m browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null && git diff --exit-code --stat -- '*.mo' || (echo "compiled translations are stale: run make messages" && exit 1)

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: $(STAMP)
	cd vinculo && ../$(PY) ../manage.py makemessages -l es --no-obsolete --ignore 'static/vendor/*'
	$(PY) manage.py compilemessages --ignore=.venv

bench: $(STAMP)
	$(PY) -m bench

demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo --contacts $${CONTACTS:-100000}

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
