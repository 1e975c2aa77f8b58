# The two commands of the README: `make run` and `make test`. Everything they need is set up by the targets below.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
PIP := $(BIN)/pip --disable-pip-version-check -q

.PHONY: run test lint format system-packages messages clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(PIP) install -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

# Debian's packages the tests need: Chromium for the browser tests (Playwright must not download a browser of its
# own), gettext's xgettext for the translation-completeness test, and npm for the browser tests' axe-core.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	command -v xgettext >/dev/null 2>&1 || missing="$$missing gettext"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Runs the app on the embedded default: SQLite, a Celery worker and beat on the filesystem broker, demo data loaded.
run: export DEBUG ?= true
run: export OUTBOUND_ALLOW_PRIVATE_TARGETS ?= true
run: $(VENV)/.run-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py compiletranslations
	$(BIN)/python manage.py seed_demo
	$(BIN)/python -m hiboo_connect.run_dev Procfile.dev

# What the browser tests inject into the test browser (axe-core), at the versions package-lock.json pins.
node_modules/.installed: package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund
	touch $@

# The whole test suite, with the project checks and the coverage of every app (its floor: fail_under in pyproject.toml).
# DATABASE_URL picks the database (SQLite by default). It runs in two processes (pytest-xdist: each its own test
# database, live server, browser and Celery queues), about 18 minutes on these 2-core machines against 28 in one;
# TEST_PROCESSES=0 runs it in one process (no xdist).
TEST_PROCESSES ?= 2
test: $(VENV)/.dev-installed system-packages node_modules/.installed
	$(BIN)/python manage.py compiletranslations --settings=hiboo_connect.test_settings
	$(BIN)/python manage.py check --settings=hiboo_connect.test_settings
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=hiboo_connect.test_settings
	$(BIN)/pytest --cov -n $(TEST_PROCESSES) $(PYTEST_ARGS)

# The measures of issue 10 on PostgreSQL, in a database of their own (never the tests'): builds a million sharings and
# 13 M readings set-wise the first time (minutes), reuses them afterwards, prints the table with each goal.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bench
bench: $(VENV)/.dev-installed
	@psql "$(BENCH_DATABASE_URL)" -c "select 1" >/dev/null 2>&1 || createdb -h 127.0.0.1 -U postgres bench
	rm -rf /tmp/bench-var/celery  # the delivery tasks the last run queued (for rows it removed)
	DEBUG=false SECRET_KEY=bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz VAR_DIR=/tmp/bench-var ALLOWED_HOSTS=localhost \
		DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/run.py $(BENCH_ARGS)

# Extract translatable strings into locale/fr with gettext's xgettext (compiling them needs no system tool).
messages: $(VENV)/.dev-installed system-packages
	$(BIN)/python manage.py makemessages -l fr --no-obsolete --ignore=.venv --ignore=var --ignore=artifacts --ignore=tests --ignore=bench

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/db.sqlite3 var/celery var/celerybeat-schedule var/mail
