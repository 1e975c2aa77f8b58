"""Gunicorn's configuration for production (`gunicorn -c gunicorn.conf.py hiboo_connect.wsgi`). Every value can be
overridden by the environment variable named beside it; docs/scaling.md explains the numbers."""

import os

# Sync workers, two per core plus one: a request spends about half its time waiting on PostgreSQL, so a second
# process per core keeps the core busy. Each worker keeps one persistent database connection (DATABASE_CONN_MAX_AGE),
# so workers × web hosts + Celery workers must stay under PostgreSQL's max_connections (100 by default).
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# A request that takes longer is a bug (the exports stream, the lifecycle and e-mails run in Celery): kill it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Behind a proxy that keeps connections to gunicorn open.
keepalive = 5
# Recycle a worker now and then so a slow leak in a library never grows without bound; the jitter keeps the workers
# from restarting together.
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file lives in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# No control socket: nothing uses it, and it would need a writable home directory.
control_socket_disable = True
accesslog = "-"
