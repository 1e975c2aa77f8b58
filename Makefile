# The two commands of the README: `make run` and `make test`. Everything they need is set up by the targets below.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
PIP := $(BIN)/pip --disable-pip-version-check -q

.PHONY: run test lint format chromium messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(PIP) install -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

# Debian's Chromium for the browser tests (Playwright must not download a browser of its own).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Runs the app on the embedded default: SQLite, a Celery worker and beat on the filesystem broker, demo data loaded.
run: export DEBUG ?= true
run: $(VENV)/.run-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py compiletranslations
	$(BIN)/python manage.py seed_demo
	$(BIN)/honcho start -f Procfile.dev

# The whole test suite, with the project checks. DATABASE_URL picks the database (SQLite by default).
test: $(VENV)/.dev-installed chromium
	$(BIN)/python manage.py compiletranslations --settings=hiboo_connect.test_settings
	$(BIN)/python manage.py check --settings=hiboo_connect.test_settings
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=hiboo_connect.test_settings
	$(BIN)/pytest $(PYTEST_ARGS)

# Extract translatable strings into locale/fr (needs gettext's xgettext, a development tool only).
messages: $(VENV)/.dev-installed
	@command -v xgettext >/dev/null 2>&1 || apt-get install -y -qq gettext >/dev/null
	$(BIN)/python manage.py makemessages -l fr --no-obsolete --ignore=.venv --ignore=var --ignore=artifacts

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/db.sqlite3 var/celery var/celerybeat-schedule var/mail
