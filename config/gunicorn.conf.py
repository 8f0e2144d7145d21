"""gunicorn's configuration for `scripts/serve --production`, every value from the environment like the settings.

WEB_CONCURRENCY   worker processes (default: 2 per CPU core)
WEB_THREADS       threads per worker process (default 4; gthread worker: a slow request does not hold a process)
BIND              address to listen on (default 127.0.0.1:$PORT, PORT default 8000; 0.0.0.0:8000 in a container)
WEB_TIMEOUT       seconds a request may take before its worker is restarted (default 60)
WEB_KEEPALIVE     seconds an idle keep-alive connection from the reverse proxy stays open (default 5)
WEB_MAX_REQUESTS  restart a worker after this many requests, with jitter (default 0: never)
ACCESS_LOG        1 (default) writes one access-log line per request to stdout; 0 turns it off
FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers gunicorn trusts (default 127.0.0.1)
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


wsgi_app = "config.wsgi:application"
bind = os.environ.get("BIND") or f"127.0.0.1:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))
worker_class = "gthread"
threads = _int("WEB_THREADS", 4)
timeout = _int("WEB_TIMEOUT", 60)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 30)
keepalive = _int("WEB_KEEPALIVE", 5)
max_requests = _int("WEB_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
backlog = _int("WEB_BACKLOG", 2048)
# The app is imported in each worker after the fork (no preload): polars' thread pool and the database
# connections are created in the process that uses them.
preload_app = False
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-" if os.environ.get("ACCESS_LOG", "1").strip().lower() in {"1", "true", "yes", "on"} else None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = os.environ.get("PROC_NAME", "twincity")
# gunicorn's control socket (gunicornc) is one per user by default: several servers on one machine would share it.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "") == ""
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
