# Two commands matter: `make run` (the app, a worker with beat, demo data) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEV_ENV := DJANGO_DEBUG=1

.PHONY: install run test lint format ci migrate demo screenshots bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

migrate: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput

demo: migrate
	$(DEV_ENV) $(PY) manage.py load_demo

# The web app, a Celery worker with embedded beat (filesystem broker), demo data, SQLite.
run: demo
	@mkdir -p var
	@$(DEV_ENV) $(VENV)/bin/celery -A config worker --beat --loglevel=INFO --concurrency=1 \
		--without-mingle --without-gossip --pidfile= --logfile=var/worker.log & \
	WORKER=$$!; trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	echo ""; \
	echo "  Breach tracker: http://$(HOST):$(PORT)/   admin: http://$(HOST):$(PORT)/admin/"; \
	echo "  API: http://$(HOST):$(PORT)/api/v1/   docs: http://$(HOST):$(PORT)/api/v1/docs/"; \
	echo "  Worker + beat log: var/worker.log (pid $$WORKER)"; \
	echo ""; \
	$(DEV_ENV) $(PY) manage.py load_demo --print-logins; \
	$(DEV_ENV) $(PY) manage.py runserver $(HOST):$(PORT) --noreload

test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

ci:
	bash .ci/run

# PNGs of the dashboard, an incident and a plan (desktop and phone) into docs/screenshots/,
# from a throw-away SQLite database, with Debian's headless Chromium (apt-get install chromium).
screenshots: install
	$(DEV_ENV) $(PY) scripts/screenshots.py

clean:
	rm -rf var db.sqlite3 db.sqlite3-*
