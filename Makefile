# Two commands matter: `make run` (the app, a worker with beat, demo data) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in reminder emails follow HOST and PORT unless SITE_URL is set.
SITE_URL ?= http://$(HOST):$(PORT)
DEV_ENV := DJANGO_DEBUG=1 SITE_URL=$(SITE_URL)
# pytest-xdist workers; `make test PYTEST_ARGS="-n 0 -k reminders"` for one process.
# worksteal: an idle worker takes tests from a busy one (the browser walks come last).
PYTEST_ARGS ?= -n auto --dist worksteal

.PHONY: install run test lint format ci migrate demo manage messages screenshots bench bench-export bench-import bench-tracing clean

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

# Any management command through the project's virtualenv, on the development settings:
# make manage CMD="send_reminders --dry-run"
manage: install
	$(DEV_ENV) $(PY) manage.py $(CMD)

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

# Extract every string marked for translation into the Chinese catalogues (one per app,
# the project's templates and config in locale/; needs GNU gettext's xgettext: apt-get
# install gettext) and compile them with Babel. The .mo files are committed, so running
# the product needs Python only.
messages: install
	$(DEV_ENV) $(PY) manage.py makemessages -l zh_Hans --no-obsolete --add-location file \
		-i ".venv/*" -i "tests/*" -i "bench/*" -i "scripts/*" -i "var/*" -i "docs/*"
	$(PY) scripts/compile_messages.py

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

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

# Performance benchmark (long; never part of `test` or `ci`). Seeds BENCH_DATABASE_URL at
# BENCH_INCIDENTS (20,000 by default; 1000000 for the full scale) when it is empty, serves
# the app with gunicorn, loads it with wrk and prints every figure (docs/benchmarks.md).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/breach_scale
bench: install
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) \
		|| { echo "bench needs wrk (apt-get install wrk)"; exit 2; }
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench.run

# An export of every incident as CSV and XLSX through gunicorn: time to first byte, total
# time, the worker's peak memory (EXPORT_ROWS, 100,000 by default on a SQLite file of its
# own; DATABASE_URL=postgres://... EXPORT_ROWS=1000000 for the full scale).
bench-export: install
	$(PY) -m bench.exports

# An import of IMPORT_SUPPLIERS (20,000) suppliers in three tiers, dry run and import.
bench-import: install
	$(PY) -m bench.imports
# Leak-tracing robustness table (DESIGN section 10) into docs/leak-tracing.md; about
# 15 minutes on two cores, `BENCH_TRACING_ARGS=--quick` for a small run.
BENCH_TRACING_ARGS ?=
bench-tracing: install
	$(PY) -m bench.tracing --write docs/leak-tracing.md $(BENCH_TRACING_ARGS)

clean:
	rm -rf var db.sqlite3 db.sqlite3-*
