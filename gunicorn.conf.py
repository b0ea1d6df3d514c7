"""gunicorn settings for `make run`; HOST, PORT, WEB_CONCURRENCY override."""
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Requests are short and mostly wait on the database: two workers per core, at least two.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count() * 2)))
timeout = 60
graceful_timeout = 30
max_requests = 10000
max_requests_jitter = 1000

accesslog = "-"
# Remote address, time, request line, status, size, duration — never a header such as
# Authorization, and never the Basic-auth user (%(u)s).
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
