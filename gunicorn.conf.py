"""gunicorn settings for the web app: ``gunicorn -c gunicorn.conf.py`` (README, "Operations").

Every value can be changed from the environment (see .env.example); a command-line option
still wins over this file, e.g. ``gunicorn -c gunicorn.conf.py -b 0.0.0.0:8000``.
"""

import os

# web.wsgi turns a refused configuration (no SECRET_KEY...) into one line and "App failed to load"
wsgi_app = "web.wsgi:app"
bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"

# Threads, not processes, for the concurrency within a worker: requests mostly wait on the
# database, and a process costs about 300 MB (numpy, scikit-learn, the scorer). 2 x 4 is what
# bench/bench_api.py and bench/bench_soak.py measure on 2 cores: one worker per core.
# gthread, with new connections going to the worker that holds the fewest (web/serving.py): a
# kept-alive connection stays with the worker that accepted it, and plain gthread lets one worker
# take most of them while another idles.
worker_class = "web.serving.BalancedThreadWorker"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)

# A worker silent for `timeout` seconds is killed and replaced. Requests themselves are bounded
# sooner by the database timeouts (MATCHER_DB_*_TIMEOUT); scoring a batch runs in a job, not a request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
# On a restart (SIGTERM, SIGHUP) a worker finishes its requests for up to this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
# Seconds to hold an idle keep-alive connection open; behind a reverse proxy, keep it above zero.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 5)

# No preload: each worker builds its own app after the fork. create_app connects to the database
# (the schema upgrade, weights version 1) and the app may start threads (in-process batch jobs,
# the background ranks); pooled connections shared by forked workers corrupt each other, and
# threads do not survive a fork. Preloading would save some memory by copy-on-write; the start-up
# cost without it is paid once per worker, and SIGHUP then reloads the code too.
preload_app = False

# One line per request comes from the app itself (web/logs.py: with the request id, without
# query values), so gunicorn's access log stays off; its own messages go to stderr.
accesslog = None
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()


def on_starting(server):
    """Before any worker is forked: a configuration the app refuses (no SECRET_KEY...) stops gunicorn
    here with one line and exit status 4, instead of every worker failing to boot."""
    import sys

    from web import ConfigError, check_startup

    try:
        config = check_startup()
    except ConfigError as error:
        print(f"error: {error.message}", file=sys.stderr, flush=True)
        raise SystemExit(4) from None
    # As web.security reads them: the limits' switch, and Redis for their counts
    shared = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or os.environ.get("REDIS_URL")
    if server.cfg.workers > 1 and config.get("RATELIMIT_ENABLED", True) and not shared:
        server.log.warning(
            "rate limits count per worker process: with %d workers a client gets %d times each limit "
            "(set REDIS_URL so that the workers share one count)",
            server.cfg.workers,
            server.cfg.workers,
        )


def child_exit(server, worker):
    """In the master, once a worker has exited (even killed): its share of the connection counts is freed."""
    from web.serving import worker_exited

    worker_exited(worker.pid)
