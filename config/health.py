"""GET /healthz: is the database reachable, is the broker reachable. It answers within
HEALTH_TIMEOUT whatever the services do: a check still running then counts as down."""

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as CheckTimeout

from django.db import connection, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

HEALTH_TIMEOUT = 1.5  # seconds, for both checks together

# Checks run on threads of their own, so that a hung connect cannot hold the answer.
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return False, type(exc).__name__
    finally:
        # This thread's connection is not a request's: Django would not close it.
        connections.close_all()
    return True, "ok"


def _broker_ok() -> tuple[bool, str]:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=HEALTH_TIMEOUT)
    except Exception as exc:
        return False, type(exc).__name__
    return True, "ok"


@never_cache
@require_GET
def healthz(request):
    database = _checks.submit(_database_ok)
    broker = _checks.submit(_broker_ok)
    results = {}
    for name, check in (("database", database), ("broker", broker)):
        try:
            results[name] = check.result(timeout=HEALTH_TIMEOUT)
        except CheckTimeout:
            results[name] = (False, "timeout")
    healthy = all(ok for ok, _ in results.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "database": results["database"][1],
            "broker": results["broker"][1],
        },
        status=200 if healthy else 503,
    )
