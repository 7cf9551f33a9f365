# Keyline: `make run` serves the app with its worker; `make test` runs the whole suite.
# Both create the virtualenv and install what they need on first use.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install install-dev migrate demo lint bench clean messages

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Reinstall only when a requirements file changes.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

messages: install
	$(PY) manage.py compilemessages --ignore=.venv

## Serve on http://$(HOST):$(PORT) with a Celery worker and beat; Ctrl-C stops all of it.
run: demo
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho start -f Procfile

## The whole test suite (SQLite by default; PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set).
test: install-dev
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .hypothesis
