"""Configuration defaults.

Precedence, lowest first: these defaults, `instance/config.py`, environment variables, and the
`test_config` mapping given to `create_app`. Environment variables are read in the factory, never
at import, so tests can set them per app.
"""

LOG_LEVEL = "INFO"

# Without SECRET_KEY, the key that `flask jericho init` generated into this file in instance/.
SECRET_KEY_FILE = "secret_key"

# Where the server is reached from outside, e.g. "https://scim.example.com". Used for the Tenant URL
# shown in the wizard and for meta.location. Unset: derived from each request.
PUBLIC_URL = None

# Trust X-Forwarded-Proto/Host from exactly one reverse proxy in front of the app.
TRUST_PROXY = False

SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

# Largest request body accepted anywhere (bytes); larger bodies get 413.
MAX_CONTENT_LENGTH = 1024 * 1024

# RFC 7644 §3.4.2.4 pagination: page size when the client gives no `count`, and the largest page.
SCIM_DEFAULT_PAGE_SIZE = 100
SCIM_MAX_PAGE_SIZE = 1000

# Longest filter expression and most members in one request before answering 400 tooMany.
SCIM_MAX_FILTER_LENGTH = 4096
SCIM_MAX_MEMBERS_PER_REQUEST = 10000

# Most a filter may ask of the database before answering 400 invalidFilter (jericho/scim/filter_cost.py):
# a comparison costs 1 on an indexed attribute (userName, externalId, id, displayName...), 2 on
# emails.value, emails.type, groups or members, 4 on another single-valued attribute, 8 on another
# multi-valued one; a [...] filter as a comparison on its attribute plus 1 per comparison in it.
# Entra's lookups cost 1 to 4.
SCIM_MAX_FILTER_COST = 12

# Most seconds of database time one /scim_v2 request may take (0: no limit). Past it, the statement
# is stopped, the request's changes are rolled back, and the client is answered 503 with Retry-After.
# Admin pages, the CLI and migrations have no such limit.
SCIM_DATABASE_TIMEOUT_SECONDS = 5

# Rate limits under /scim_v2, shared by every server process (jericho/rate_limits.py): a sustained
# rate in requests per second, plus a burst that may come at once. Beyond: 429 with Retry-After.
# A rate of 0 turns a limit off. Per SCIM token: Entra needs at least 25 requests per second
# (ENTRA.md §1.4) and answers 429 by retrying later, so this only stops a runaway client.
RATE_LIMIT_TOKEN_PER_SECOND = 50
RATE_LIMIT_TOKEN_BURST = 500
# Per organization, its filters that cost more than any Entra or Okta sends (more than 4, such as
# several comparisons on attributes read from the stored documents): a client's own searches, each
# of which may read every user. Without this, one organization sending a few of them a second
# would keep every server process busy and slow the others' provisioning.
RATE_LIMIT_EXPENSIVE_FILTER_PER_SECOND = 1
RATE_LIMIT_EXPENSIVE_FILTER_BURST = 10
# Per client address, counting only requests whose token is missing, unknown or revoked: 20 at
# once, then one every 5 seconds.
RATE_LIMIT_FAILED_AUTH_PER_SECOND = 0.2
RATE_LIMIT_FAILED_AUTH_BURST = 20

# Write a token's last-use time at most this often, so authentication is not a write per request.
TOKEN_LAST_USED_RESOLUTION_SECONDS = 60

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# An admin's session ends after this long without a request, and this long after signing in
# whatever happens (jericho/admin/sessions.py). Signing out ends it at once.
ADMIN_SESSION_IDLE_MINUTES = 12 * 60
ADMIN_SESSION_LIFETIME_HOURS = 7 * 24

# Seconds a provisioning log entry may wait to be stored with others in one write
# (jericho/provisioning_log.py); 0 writes each one before its request is answered.
PROVISIONING_LOG_FLUSH_SECONDS = 0.2

# Days of provisioning log kept (0 keeps everything); older requests are pruned in the background.
PROVISIONING_LOG_RETENTION_DAYS = 30

# Each SCIM change records its events (the events feed) in its own transaction. Only the benchmark
# turns this off, to measure what the outbox costs: without it, consumers miss every change.
RECORD_DIRECTORY_EVENTS = True

# /api/v1 (README "Reading the directory from another product"): items per page when the client
# gives no `limit`, and the most a page holds.
API_DEFAULT_PAGE_SIZE = 100
API_MAX_PAGE_SIZE = 1000

# Days of events and of webhook delivery log kept; None keeps them as long as the provisioning log
# (PROVISIONING_LOG_RETENTION_DAYS), 0 keeps everything. Older ones are pruned in the background.
EVENT_RETENTION_DAYS = None

# Webhook endpoints on loopback and private networks (10.0.0.0/8, fc00::/7, ...), and plain http://
# URLs, are refused unless this is set, for consumers on the same premises; link-local and cloud
# metadata addresses are refused always.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
# Seconds a receiver has to answer a delivery before it counts as failed.
WEBHOOK_TIMEOUT_SECONDS = 10
# How long an event is retried, with growing pauses, before the endpoint is marked failing.
WEBHOOK_RETRY_HOURS = 24
# How often each server process's delivery worker looks for work nothing woke it for (changes
# made by other processes, retries that came due).
WEBHOOK_POLL_SECONDS = 1.0
