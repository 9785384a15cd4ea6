"""gunicorn's settings for the web service: the image, compose and `make bench` all run

    gunicorn -c config/gunicorn.py config.wsgi:application

Stock `gthread` workers with several threads each. A kept-alive connection stays with the
worker that accepted it, and a one-thread worker left a new connection (a visitor, or
/healthz) queued behind its kept-alive clients (docs/benchmarks.md, "Serving
configuration"). With 8 threads a worker answers a new connection while up to 7 others
are busy; tests/test_web_serving.py checks it.

GUNICORN_WORKERS, GUNICORN_THREADS and GUNICORN_KEEPALIVE override the defaults, and
gunicorn's own GUNICORN_CMD_ARGS and command-line options override anything here.

The web's database connections run each statement without parallel workers
(DATABASE_PARALLEL_WORKERS=0, config/settings.py) unless the environment says otherwise.
"""

import os

# The container's port (EXPOSE 8000, compose's healthcheck).
bind = ["0.0.0.0:8000"]
# 2 x cores + 1 for the 2-core machine. Not computed from os.cpu_count(): in a container it
# counts the host's cores, and each thread may keep a PostgreSQL connection open
# (DJANGO_CONN_MAX_AGE): workers x threads connections, 40 here, within max_connections.
workers = int(os.environ.get("GUNICORN_WORKERS", "5"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Seconds an idle kept-alive connection is held (gunicorn's default).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "2"))
# Set in the workers' environment before they load the app (gunicorn's raw_env).
raw_env = [f"DATABASE_PARALLEL_WORKERS={os.environ.get('DATABASE_PARALLEL_WORKERS', '0')}"]
