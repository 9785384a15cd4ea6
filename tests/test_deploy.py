"""Production settings and the deployment files: what a fresh environment gets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _clean_env(overrides: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "CACHE_URL", "EMAIL_URL"))
    }
    env.update(overrides)
    return env


def _run_manage(*args: str, env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_clean_env(env_overrides),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy():
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            "DJANGO_SECRET_KEY": "x7#production-grade-secret-key-with-enough-entropy-9f2b1c4d5e",
            "DJANGO_ALLOWED_HOSTS": "breach.example.com",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_serve_without_secret_key():
    code = "import config.wsgi"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_clean_env({}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_served_app_is_loaded_whole_and_frozen_out_of_the_collector():
    code = (
        "import gc, sys, json, config.wsgi\n"
        "print(json.dumps([gc.get_freeze_count(), 'breaches.api.views' in sys.modules]))"
    )
    secret = {"DJANGO_SECRET_KEY": "deploy-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"}
    served = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_clean_env({**secret, "DJANGO_ALLOWED_HOSTS": "breach.example.com"}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert served.returncode == 0, served.stderr
    frozen, views_loaded = json.loads(served.stdout)
    assert views_loaded  # the URLconf and its views came in before the freeze
    assert frozen > 50_000
    testing = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**_clean_env(secret), "DJANGO_SETTINGS_MODULE": "config.settings_test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert testing.returncode == 0, testing.stderr
    assert json.loads(testing.stdout)[0] == 0


def test_check_deploy_fails_without_secret_key():
    result = _run_manage(
        "check", "--deploy", env_overrides={"DJANGO_ALLOWED_HOSTS": "breach.example.com"}
    )
    assert result.returncode != 0
    assert "breach.E001" in result.stderr + result.stdout


def test_management_commands_need_no_environment():
    # The migrations check (and migrate, collectstatic) run on a bare machine.
    result = _run_manage("makemigrations", "--check", "--dry-run", env_overrides={})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_debug_is_off_unless_asked():
    code = "from django.conf import settings; print(settings.DEBUG, settings.TIME_ZONE)"
    result = _run_manage(
        "shell", "-v", "0", "-c", code, env_overrides={"DJANGO_SECRET_KEY": "k" * 60}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "UTC"]


def test_compose_runs_every_service_with_health_checks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert "healthcheck" in services[name], name
    assert "pgdata" in compose["volumes"]
    assert any("pgdata:" in volume for volume in services["postgres"]["volumes"])
    assert "gunicorn" in services["web"]["command"]
    assert "config.wsgi:application" in services["web"]["command"]
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile


def _database_settings(overrides: dict[str, str]) -> dict:
    code = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\n"
        "from django.conf import settings\n"
        "db = settings.DATABASES['default']\n"
        "keys = ('OPTIONS', 'CONN_MAX_AGE', 'CONN_HEALTH_CHECKS')\n"
        "print(json.dumps({k: db.get(k, {}) for k in keys}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_clean_env(overrides),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_postgresql_prepares_repeated_statements_unless_turned_off():
    url = {"DATABASE_URL": "postgres://app@db.example.com:5432/breach"}
    prepared = _database_settings({**url, "DJANGO_CONN_MAX_AGE": "60"})
    assert prepared["OPTIONS"] == {
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c plan_cache_mode=force_custom_plan",
    }
    assert prepared["CONN_MAX_AGE"] == 60
    assert prepared["CONN_HEALTH_CHECKS"] is True
    pooled = _database_settings({**url, "DATABASE_PREPARED_STATEMENTS": "0"})
    assert "server_side_binding" not in pooled["OPTIONS"]
    sqlite = _database_settings({"DATABASE_URL": "sqlite:////tmp/x.sqlite3"})
    assert "server_side_binding" not in sqlite["OPTIONS"]


def test_compose_keeps_database_connections_for_prepared_statements():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["x-app"]["environment"]
    assert env["DJANGO_CONN_MAX_AGE"].startswith("${DJANGO_CONN_MAX_AGE:-")
    assert int(env["DJANGO_CONN_MAX_AGE"].split(":-")[1].rstrip("}")) > 0


def test_web_serves_with_the_gunicorn_config_file(monkeypatch):
    """Compose and the image run the same gunicorn command, settings from config/gunicorn.py:
    stock gthread workers with several threads each (tests/test_web_serving.py)."""
    import re
    import runpy

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    from_compose = compose["services"]["web"]["command"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    from_image = json.loads(re.search(r"^CMD (\[.*\])\s*$", dockerfile, re.MULTILINE).group(1))
    assert from_compose == from_image
    assert from_image[:4] == ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
    # Every serving setting comes from the file, none from the command line.
    assert not {"-w", "-k", "-b", "--workers", "--worker-class", "--threads", "--bind"} & {
        arg.split("=", 1)[0] for arg in from_image
    }
    for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)
    settings = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert settings["worker_class"] == "gthread"  # gunicorn's own, no subclass
    assert settings["threads"] >= 4
    assert settings["bind"] == ["0.0.0.0:8000"]


def test_the_web_runs_statements_without_parallel_workers_and_celery_keeps_them(monkeypatch):
    """gunicorn hands its workers DATABASE_PARALLEL_WORKERS=0 (raw_env), which the
    settings turn into the connection's max_parallel_workers_per_gather; a process without
    it (Celery's) keeps PostgreSQL's own; an operator's value wins over the default."""
    import runpy

    monkeypatch.delenv("DATABASE_PARALLEL_WORKERS", raising=False)
    served = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert served["raw_env"] == ["DATABASE_PARALLEL_WORKERS=0"]
    monkeypatch.setenv("DATABASE_PARALLEL_WORKERS", "2")
    assert runpy.run_path(str(ROOT / "config" / "gunicorn.py"))["raw_env"] == [
        "DATABASE_PARALLEL_WORKERS=2"
    ]
    monkeypatch.delenv("DATABASE_PARALLEL_WORKERS")
    url = {"DATABASE_URL": "postgres://app@db.example.com:5432/breach"}
    web = _database_settings({**url, "DATABASE_PARALLEL_WORKERS": "0"})
    assert web["OPTIONS"]["options"] == (
        "-c plan_cache_mode=force_custom_plan -c max_parallel_workers_per_gather=0"
    )
    pooled = _database_settings(
        {**url, "DATABASE_PARALLEL_WORKERS": "0", "DATABASE_PREPARED_STATEMENTS": "0"}
    )
    assert pooled["OPTIONS"]["options"] == "-c max_parallel_workers_per_gather=0"
    worker = _database_settings(url)
    assert "max_parallel_workers_per_gather" not in worker["OPTIONS"]["options"]
    sqlite = _database_settings(
        {"DATABASE_URL": "sqlite:////tmp/x.sqlite3", "DATABASE_PARALLEL_WORKERS": "0"}
    )
    assert "options" not in sqlite["OPTIONS"]


def test_make_run_links_reminder_emails_to_the_port_it_serves():
    env = {k: v for k, v in _clean_env({}).items() if k not in ("SITE_URL", "MAKEFLAGS")}
    plan = subprocess.run(
        ["make", "-n", "run", "PORT=8100"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert plan.returncode == 0, plan.stderr
    commands = plan.stdout
    for program in ("celery -A config worker", "manage.py load_demo", "manage.py runserver"):
        line = next(line for line in commands.splitlines() if program in line)
        assert "SITE_URL=http://127.0.0.1:8100" in line, line
    assert "runserver 127.0.0.1:8100" in commands
    assert "http://127.0.0.1:8100/" in commands  # the URL it prints
