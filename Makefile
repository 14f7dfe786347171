# Vínculo — every target creates .venv and installs what it needs first (idempotent).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Debian packages the suite needs beyond Python: dovecot-imapd (the mailbox tests read a real IMAP
# server started on a free port). As root `make test` installs them; otherwise it stops with the
# exact command to run. The browser tests also need chromium (skipped without it, except in CI).
TEST_PACKAGES := dovecot-imapd
BROWSER_PACKAGES := chromium fonts-liberation

.PHONY: install run test test-packages test-pg test-browser lint format icons bench bench-pg demo messages clean

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

test-packages:
	@scripts/ensure-debian-packages.sh $(TEST_PACKAGES)

# Suite wall time (`make test PYTEST_ARGS=--durations=30` lists the slowest tests). Issue 8, on a
# 2-core machine shared with other jobs, so whole-suite figures move with the load:
#   whole suite, -n 2: 3 min 37 s before (1536 tests); 5 min 33 s after (1567 tests) at load 6;
#   the slowest tests (4 fuzzers, serve, worker kill, mailboxes, orders in), -n 0, back to back
#   at the same load: 194.5 s wall / 77.8 s CPU before, 131.5 s / 52.8 s after (-32 %).
# What changed: the OpenAPI schema is loaded once per process for the fuzzers, which run 3
# examples per operation and mode here and every declared one in .ci/run (VINCULO_FUZZ=full,
# vinculo/core/testing/fuzz.py); subprocess tests copy one migrated SQLite file instead of
# migrating each; dovecot refuses logins at once and stops in the background.
test: $(STAMP) test-packages
	$(PY) -m pytest $(PYTEST_ARGS)

test-pg: $(STAMP) test-packages
	scripts/with-postgres.sh $(PY) -m pytest $(PYTEST_ARGS)

test-browser: $(STAMP)
	@scripts/ensure-debian-packages.sh $(BROWSER_PACKAGES)
	VINCULO_REQUIRE_BROWSER=1 $(PY) -m pytest -m browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	find vinculo/locale -name '*.po' -exec touch {} +  # compilemessages skips a .mo newer than its .po
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null && git diff --exit-code --stat -- '*.mo' || (echo "compiled translations are stale: run make messages" && exit 1)

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Every translatable string of vinculo/ and config/ (Python, templates, e-mail .txt) goes to
# vinculo/locale/<lang>/LC_MESSAGES/django.po; vinculo/core/tests/test_translations.py reads
# MAKEMESSAGES_FLAGS from here to check the committed catalogue is not stale. The
# POT-Creation-Date header is dropped so that re-running the target changes nothing.
MAKEMESSAGES_FLAGS := --no-obsolete --add-location=file --ignore=.venv --ignore=var --ignore=node_modules --ignore=vinculo/static/vendor --ignore=bench --ignore=tests --ignore=scripts --ignore=docs --ignore=test-results --ignore=build --ignore=dist --ignore='*.egg-info' --ignore=conftest.py

messages: $(STAMP)
	$(PY) manage.py makemessages -l es $(MAKEMESSAGES_FLAGS)
	$(PY) -c "import pathlib, re; [p.write_text(re.sub(r'(?m)^\"POT-Creation-Date: .*\n', '', p.read_text())) for p in pathlib.Path('vinculo/locale').glob('*/LC_MESSAGES/*.po')]"
	$(PY) manage.py compilemessages --ignore=.venv

# the icon font served: only the Bootstrap Icons the code names (run after using a new icon)
icons: $(STAMP)
	$(PY) scripts/subset-icons.py

bench: $(STAMP)
	$(PY) -m bench

# the same benchmarks on a throwaway PostgreSQL cluster (scripts/with-postgres.sh), the data set
# built into it; every figure is named pg.<name>. BENCH_SCALE=small for minutes instead of hours.
bench-pg: $(STAMP)
	BENCH_DB=postgres scripts/with-postgres.sh $(PY) -m bench

# a bigger demo organisation beside the one `make run` loads: make demo CONTACTS=1000000 [ORG=big]
demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo --contacts $${CONTACTS:-100000} --org-slug $${ORG:-demo-large}

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
