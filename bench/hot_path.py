"""The SCIM hot path against the framework it stands on: one client reading users by id, in turns
with the framework's lookup; and how many statements and transactions a request runs once the
process is warm, counted with SQLAlchemy's engine events in an app served in-process on the
benchmark's own database."""
from __future__ import annotations

import cProfile
import pstats
import random
import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event

from bench import entra
from bench.load import Connection, Request, median

# Requests of each kind before the counted ones: the first ones look the token up, take a
# rate-limit lease, and touch the token's last use, which a warm process does not do each time.
WARMUP_REQUESTS = 20
COUNTED_REQUESTS = 100
# Single-client reads (app, then framework) after the untimed warm-up rounds.
SINGLE_CLIENT_READS = 400
SINGLE_CLIENT_WARMUP = 20


def single_client_reads(report, app: Connection, framework: Connection, user_ids: list[str], users: int) -> None:
    """`GET /Users/{id}` and the framework's lookup, one client, one request at a time, in turns."""
    chooser = random.Random(17)
    times: dict[str, list[float]] = {"app": [], "framework": []}
    for round_ in range(SINGLE_CLIENT_WARMUP + SINGLE_CLIENT_READS):
        number = chooser.randrange(users)
        for name, connection, request in (
            ("app", app, Request("read", "GET", f"{entra.SCIM}/Users/{user_ids[number]}")),
            ("framework", framework, next(entra.floor_lookups([entra.user_name(number)]))),
        ):
            response = connection.run(request)
            if response.status != 200:
                raise RuntimeError(f"{request.method} {request.path} -> {response.status}")
            if round_ >= SINGLE_CLIENT_WARMUP:
                times[name].append(response.ms)
    report.add("get_user_p50_ms", median(times["app"]), "ms")
    report.add("framework_single_lookup_p50_ms", median(times["framework"]), "ms")
    report.ratio("get_user_p50_ratio_to_framework", median(times["app"]), median(times["framework"]))


def statements_per_request(report, url: str, token: str, user_ids: list[str], app_config: dict) -> None:
    """Statements and transactions per request of the app served in-process (a test client) on
    the benchmark's database, averaged over COUNTED_REQUESTS of each kind after a warm-up. Only
    the request's own thread counts: the provisioning log is written by a thread of its own."""
    from jericho import create_app
    from jericho.extensions import db

    app = create_app({"DATABASE_URL": url, **app_config})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def get_user(number: int):
        return client.get(f"{entra.SCIM}/Users/{user_ids[number % len(user_ids)]}", headers=headers)

    def lookup(number: int):
        return client.get(entra.user_lookup(entra.user_name(number % len(user_ids))).path, headers=headers)

    def create(number: int):
        name = f"Count{number}.Bench@contoso.com"
        return client.post(f"{entra.SCIM}/Users", json=entra.user_document(name, number), headers=headers,
                           content_type="application/scim+json")

    with app.app_context():
        engine = db.engine
    report.tables["Where a request's time goes"] = where_time_goes(get_user, "GET /Users/{id}")
    for kind, send in (("get_user", get_user), ("filter", lookup), ("post", create)):
        for number in range(WARMUP_REQUESTS):
            send(number)
        with counted(engine) as counts:
            for number in range(WARMUP_REQUESTS, WARMUP_REQUESTS + COUNTED_REQUESTS):
                status = send(number).status_code
                if status not in (200, 201):
                    raise RuntimeError(f"{kind} -> {status}")
        per_request = {name: value / COUNTED_REQUESTS for name, value in counts.items()}
        if kind == "post":
            report.add("post_transactions_per_request", per_request["transactions"], "")
            report.add("post_statements_per_request", per_request["statements"], "")
        else:
            report.add(f"{kind}_reads_per_request", per_request["reads"], "")
    with app.app_context():
        db.engine.dispose()


# The parts of a request, each the cumulative time of the functions named (module path ending,
# function name). Parts nest as indented; the rest is Flask's and Werkzeug's own.
PARTS = (
    ("Flask request, whole (test client, no network)", (("flask/app.py", "wsgi_app"),)),
    ("authentication (token by its hash, rate-limit lease)", (("jericho/api/authentication.py", "authenticate"),)),
    ("the view", (("jericho/api/views.py", "read"),)),
    ("  storage read: one statement, the token's check riding in its transaction",
     (("jericho/storage/resources.py", "resource_read"),)),
    ("    SQLAlchemy Core execute, both statements", (("sqlalchemy/engine/base.py", "execute"),)),
    ("    of which the database driver", (("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
                                          ("psycopg/cursor.py", "execute"))),
    ("    rows to the SCIM resource (serialize)", (("jericho/storage/serialize.py", "serialize"),)),
    ("  JSON response (json.dumps)", (("jericho/api/views.py", "_scim_response"),)),
    ("provisioning log entry (after_request)", (("jericho/api/provisioning_log.py", "_record"),)),
    ("session teardown (connection back to the pool)", (("flask_sqlalchemy/extension.py", "_teardown_session"),)),
)


def where_time_goes(send, label: str, requests: int = COUNTED_REQUESTS) -> list[str]:
    """A markdown table of `send`'s time per part (PARTS), under cProfile, which slows every call
    alike: the shares are the figure, the microseconds only show the scale."""
    for number in range(WARMUP_REQUESTS):
        send(number)
    profile = cProfile.Profile()
    profile.enable()
    for number in range(requests):
        send(number)
    profile.disable()
    stats = pstats.Stats(profile).stats  # (file, line, function) -> (calls, primitive, own, cumulative, callers)
    cumulative = {}
    for (path, _, function), (_, _, _, total, _) in stats.items():
        for name, functions in PARTS:
            if any(function == wanted and path.endswith(ending) for ending, wanted in functions):
                cumulative[name] = cumulative.get(name, 0.0) + total
    whole = cumulative.get(PARTS[0][0]) or 1.0
    lines = [f"{label}, in-process, {requests} requests after {WARMUP_REQUESTS} untimed ones, under cProfile.", "",
             "| part | µs per request | share |", "| --- | --- | --- |"]
    for name, _ in PARTS:
        seconds = cumulative.get(name, 0.0)
        shown = name.replace("  ", "&nbsp;&nbsp;")
        lines.append(f"| {shown} | {seconds / requests * 1e6:.0f} | {seconds / whole:.0%} |")
    return lines


@contextmanager
def counted(engine) -> Iterator[dict[str, int]]:
    """Statements, reads (SELECTs) and transactions begun on this thread while the block runs."""
    counts = {"statements": 0, "reads": 0, "transactions": 0}
    thread = threading.get_ident()

    def on_statement(connection, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip()[:6].upper()
        if threading.get_ident() == thread and verb != "BEGIN":  # SQLite's BEGIN is a statement
            counts["statements"] += 1
            counts["reads"] += verb == "SELECT"

    def on_begin(connection):
        if threading.get_ident() == thread:
            counts["transactions"] += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "begin", on_begin)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "begin", on_begin)
