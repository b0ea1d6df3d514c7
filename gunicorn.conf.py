"""gunicorn settings for `make run`; HOST, PORT, WEB_CONCURRENCY override."""
import multiprocessing
import os

from jericho import create_app
from jericho.admin.signin import log_setup_code
from jericho.webhooks.delivery import start_worker

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Sync workers, two per core (at least two). A SCIM request is mostly Python, not waiting: the
# database driver is under a tenth of it (bench/RESULTS.md, "Where a request's time goes"), so the
# threads of a gthread worker share one interpreter lock and add nothing a second process does
# not, while a sync worker's slow request holds up only itself. `python -m bench.workers` compares
# sync 2, 3 and 4 and gthread 2x4 on a 2-core machine; in each of five rounds (1,000-1,500 users,
# an otherwise quiet machine) sync with 4 workers created the most users per second (147-196,
# against 134-173 for 2 and 3, and 78-122 for gthread 2x4, whose lookups' p95 was about twice as
# long): two per core keep a worker busy while another waits on SQLite's one writer or
# PostgreSQL's round trips.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count() * 2)))
timeout = 60
graceful_timeout = 30
max_requests = 10000
max_requests_jitter = 1000
# The longest request line gunicorn allows (default 4094), so that a SCIM filter up to
# SCIM_MAX_FILTER_LENGTH, percent-encoded, reaches the app and gets a SCIM answer.
limit_request_line = 8190

accesslog = "-"
# Remote address, time, method and path, status, size, duration. Never a header such as
# Authorization, the Basic-auth user (%(u)s), or the query string (%(r)s, %(q)s): SCIM filters
# carry people's email addresses, and a misconfigured client may put its token there. The
# provisioning log keeps the full request, token-redacted, for the organization's admins.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
# A token pasted into the Tenant URL is in the path itself: every field of a line is redacted.
logger_class = "jericho.access_log.RedactingLogger"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def when_ready(server):
    # Until the first admin exists, the log shows the code that the first-run page asks for.
    log_setup_code(create_app(), server.log)


def post_worker_init(worker):
    # Each worker process delivers webhooks from a thread of its own, started once it has
    # loaded the app (jericho/webhooks/delivery.py).
    start_worker(worker.wsgi)
