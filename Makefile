# The two commands: `make run` (portal with demo data on 127.0.0.1:8000, with its Celery worker and beat) and
# `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup run test lint browser worker beat pdf-libs

setup: $(VENV)/.installed node_modules/.installed pdf-libs

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

# Front-end packages come from npm and are served by the portal itself.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" PYTHONUNBUFFERED=1 $(VENV)/bin/honcho --procfile Procfile.dev start

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot be used here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

# The case pack's PDF (WeasyPrint) needs Pango and a font from the system.
pdf-libs:
	@{ ldconfig -p | grep -q libpangoft2-1.0 && fc-list | grep -qi dejavu; } || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; fi; }

# One test process per core (pytest-xdist), each with its own test database, CRM database and cache keys; a test
# file stays in one process, so a file's module fixtures are built once. PYTEST_ARGS="-n 0" runs it in one.
test: setup browser
	$(PY) -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

worker: setup
	$(VENV)/bin/celery -A dsar_portal worker --loglevel=INFO

beat: setup
	$(VENV)/bin/celery -A dsar_portal beat --loglevel=INFO
