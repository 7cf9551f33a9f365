# Keyline: `make run` serves the app with its worker; `make test` runs the whole suite.
# Both create the virtualenv and install what they need on first use.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# The settings default to production's (DEBUG off, a secret key required); what make runs is
# development, unless the environment says otherwise.
export DJANGO_DEBUG ?= true

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

# Compile the translation catalogs, if there are any. compilemessages fails outright when there
# is no catalog at all, or no GNU gettext (msgfmt): without msgfmt the pages stay in English.
COMPILE_MESSAGES = \
	if [ -z "$$(find . -path ./.venv -prune -o -path ./var -prune -o -path ./node_modules -prune \
	            -o -path '*/locale/*' -name '*.po' -print 2>/dev/null | head -n1)" ]; then \
		:; \
	elif command -v msgfmt >/dev/null 2>&1; then \
		$(PY) manage.py compilemessages --ignore=.venv --ignore=var --ignore=node_modules >/dev/null; \
	else \
		echo "note: GNU gettext (msgfmt) is not installed: using the committed .mo files as they are (apt-get install gettext)"; \
	fi

messages: install
	@$(COMPILE_MESSAGES)

## Serve on http://$(HOST):$(PORT) with a Celery worker and beat; Ctrl-C stops all of it. Mailed
## links point there (KEYLINE_RUN_URL): honcho gives each process a PORT of its own, the worker too.
run: demo
	@$(COMPILE_MESSAGES)
	@echo "Keyline on http://$(HOST):$(PORT)/ - sign in as provider, reseller, subreseller, customer or rival (password: demo); admin/demo for /admin/"
	KEYLINE_RUN_URL=http://$(HOST):$(PORT) HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho start -f Procfile -p $(PORT)

## The whole test suite (SQLite by default; PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set).
test: install-dev
	@$(COMPILE_MESSAGES)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## Benchmark at BENCH_SCALE codes (default 1,000,000) on PostgreSQL and Redis (DATABASE_URL, REDIS_URL);
## writes docs/BENCHMARKS.md and var/bench/*.json. Needs wrk (apt-get install wrk).
bench: install
	$(PY) -m bench.run

## Style (ruff) and the layers of the code (import-linter's contracts in pyproject.toml).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .hypothesis
