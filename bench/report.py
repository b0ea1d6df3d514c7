"""bench/RESULTS.md: the figures of a run, the machine they were measured on, and the targets
of the benchmark issue with whether this run met them."""
from __future__ import annotations

import operator
import os
import platform
import sqlite3
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from bench.scenario import Report

# Ratios are measured within one run, so the machine's speed cancels out.
TARGETS = {
    "create_ratio_to_framework": (">=", 0.7),
    "filter_p95_ratio_to_framework": ("<=", 1.5),
    "get_user_p50_ratio_to_framework": ("<=", 1.5),
    "get_user_reads_per_request": ("<=", 2),
    "filter_reads_per_request": ("<=", 2),
    "post_transactions_per_request": ("<=", 1),
    "patch_add_flatness": ("<=", 1.5),
    "remove_one_member_flatness": ("<=", 1.5),
    "group_get_no_members_flatness": ("<=", 2),
    "users_page_ratio_to_trivial": ("<=", 10),
    "dashboard_ratio_to_trivial": ("<=", 10),
    "users_page_after_request_ratio_to_trivial": ("<=", 10),
    "dashboard_after_request_ratio_to_trivial": ("<=", 10),
    "rss_growth_mb": ("<=", 50),
    "outbox_create_ratio": (">=", 0.9),
    # One organization's filters leave another's lookups "within a few times" their usual time.
    "noisy_neighbour_p50_ratio": ("<=", 3),
    "noisy_neighbour_p95_ratio": ("<=", 3),
}
_COMPARE = {">=": operator.ge, "<=": operator.le}

MEANING = {
    "create_rps": "users created per second by the initial sync (filter, then POST; 8 clients), every other user, "
                  "each recording its event in the outbox",
    "create_no_outbox_rps": "the same for the other users, through the same app on the same database without its "
                            "events outbox, in turns with create_rps",
    "outbox_create_ratio": "create_rps / create_no_outbox_rps: what the outbox leaves of the sync's speed",
    "floor_insert_rps": "floor: one-row SQLite commits per second (8 clients), in bursts between the sync's segments",
    "floor_lookup_insert_rps": "floor: a lookup then a one-row commit per user, users per second (8 clients): the sync's "
                               "two requests per user at the floor, the most any app could reach",
    "create_ratio_to_floor_lookup_insert": "create_rps / floor_lookup_insert_rps",
    "framework_lookup_insert_rps": "framework: the same lookup then one-row commit per user, in Flask and Flask-SQLAlchemy "
                                   "doing nothing else (8 clients)",
    "framework_lookup_insert_ratio_to_floor": "framework_lookup_insert_rps / floor_insert_rps: what the framework "
                                              "alone leaves of the floor",
    "create_ratio_to_framework": "create_rps / framework_lookup_insert_rps: the sync's speed against the framework's "
                                 "own lookup and insert",
    "create_post_p95_ms": "95th percentile of POST /Users during the sync",
    "group_create_rps": "groups created per second (filter, then POST)",
    "memberships_per_s": "members added per second, in PATCH batches of 100",
    "add_members_batch_p95_ms": "95th percentile of one PATCH adding 100 members",
    "incremental_rps": "requests per second in the incremental cycle",
    "incremental_patch_p95_ms": "95th percentile of its PATCHes (updates, disables, member removals)",
    "db_bytes_per_user": "database size on disk after the sync / N (includes the sync's own log rows)",
    "filter_p95_ms": "95th percentile of userName eq lookups at N users (8 clients)",
    "floor_lookup_p95_ms": "floor: 95th percentile of one indexed SQLite lookup among N rows (8 clients, in turns with the app's)",
    "framework_lookup_p95_ms": "framework: the same lookups in Flask and Flask-SQLAlchemy doing nothing else (8 clients, in turns)",
    "framework_lookup_p95_ratio_to_floor": "framework_lookup_p95_ms / floor_lookup_p95_ms: the framework's share of the floor",
    "filter_p95_ratio_to_framework": "filter_p95_ms / framework_lookup_p95_ms",
    "get_user_p50_ms": "median GET /Users/{id} at N users, one client, one request at a time",
    "framework_single_lookup_p50_ms": "framework: median lookup at N rows, one client, in turns with get_user_p50_ms",
    "get_user_p50_ratio_to_framework": "get_user_p50_ms / framework_single_lookup_p50_ms",
    "get_user_reads_per_request": "SELECTs per GET /Users/{id} of a warm process (the token's check included), "
                                  "counted with SQLAlchemy events in-process on the run's database",
    "filter_reads_per_request": "the same for a userName eq lookup",
    "post_transactions_per_request": "transactions per POST /Users of a warm process: its one write, and any read "
                                     "before it",
    "post_statements_per_request": "statements per POST /Users, BEGIN left out (the user, its emails, the "
                                   "counts, the event, the token's check)",
    "neighbour_lookup_p50_ms": "median userName eq lookup of a second organization, paced, alone (one client)",
    "neighbour_lookup_p95_ms": "95th percentile of the same",
    "neighbour_lookup_loaded_p50_ms": "the same lookups while the first organization sends expensive filters within the "
                                      "cost budget (see the noisy neighbour under Run)",
    "neighbour_lookup_loaded_p95_ms": "95th percentile of the same",
    "noisy_neighbour_p50_ratio": "neighbour_lookup_loaded_p50_ms / neighbour_lookup_p50_ms",
    "noisy_neighbour_p95_ratio": "neighbour_lookup_loaded_p95_ms / neighbour_lookup_p95_ms",
    "expensive_filter_p50_ms": "median time of the expensive filters answered in full",
    "expensive_filters_stopped": "expensive filters stopped at their deadline (SCIM_DATABASE_TIMEOUT_SECONDS), "
                                 "answered 503",
    "expensive_filters_refused": "expensive filters past their organization's rate (RATE_LIMIT_EXPENSIVE_FILTER_*), "
                                 "answered 429",
    "group_get_no_members_small_ms": "median GET /Groups/{id}?excludedAttributes=members, 10 members",
    "group_get_no_members_large_ms": "the same for the group of every user",
    "group_get_no_members_flatness": "large / small",
    "patch_add_100_small_ms": "median PATCH adding 100 members to a group of 100",
    "patch_add_100_large_ms": "the same for the group of every user",
    "patch_add_flatness": "large / small",
    "remove_one_member_small_ms": "median PATCH removing one member (both dialects) from a group of 100",
    "remove_one_member_large_ms": "the same for the group of every user",
    "remove_one_member_flatness": "large / small",
    "floor_trivial_ms": "floor: median GET of a fixed JSON body",
    "framework_trivial_ms": "framework: median GET of a fixed JSON body from Flask",
    "framework_trivial_ratio_to_trivial": "framework_trivial_ms / floor_trivial_ms: the framework's share of the page targets",
    "signed_in_frame_ms": "median GET of a page that does not exist, signed in: the session, the admin's load and the "
                          "site's frame around \"not found\", which every admin page costs before its own work",
    "users_page_ms": "median GET of the admin users page (signed in), between two requests from Entra",
    "users_page_ratio_to_trivial": "users_page_ms / floor_trivial_ms",
    "dashboard_ms": "median GET of the admin dashboard",
    "dashboard_ratio_to_trivial": "dashboard_ms / floor_trivial_ms",
    "users_page_after_request_ms": "median GET of the users page right after a request from Entra, as during a sync",
    "users_page_after_request_ratio_to_trivial": "users_page_after_request_ms / floor_trivial_ms",
    "dashboard_after_request_ms": "the same for the dashboard",
    "dashboard_after_request_ratio_to_trivial": "dashboard_after_request_ms / floor_trivial_ms",
    "rss_growth_mb": "largest worker RSS at N users minus at the baseline (1,000 users)",
    "events_read_per_s": "events a consumer reads per second, catching up on the whole feed (pages of 1,000, one client)",
    "webhook_deliveries_per_s": "webhooks delivered per second to a receiver on 127.0.0.1, from a backlog of user changes "
                                "(one endpoint: one delivery in flight at a time), first arrival to last",
    "webhook_lag_p95_ms": "95th percentile from a PATCH being sent to its webhook's arrival, one change at a time",
}


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor() or "unknown")
    memory = next((line.split()[1] for line in _lines("/proc/meminfo") if line.startswith("MemTotal:")), None)
    return {
        "CPU": f"{cpu}, {os.cpu_count()} logical cores",
        "memory": f"{int(memory) / 1024 / 1024:.1f} GiB" if memory else "unknown",
        "system": platform.platform(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "gunicorn": version("gunicorn"),
        "load average (1 min) at start": f"{os.getloadavg()[0]:.2f}",
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def met(name: str, value: float | None) -> str:
    if value is None:
        return "not measured"
    sign, bound = TARGETS[name]
    return "yes" if _COMPARE[sign](value, bound) else "no"


def write(path: Path, report: Report, machine_facts: dict[str, str], command: str, started: datetime) -> None:
    options = report.options
    values = {figure.name: figure for figure in report.figures}
    finished = datetime.now(timezone.utc)
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}` on {started:%Y-%m-%d %H:%M} UTC, in {(finished - started).total_seconds() / 60:.1f} min."
        " Rerun to replace. Ratios compare figures measured in this one run.",
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in machine_facts.items()],
        f"- load average (1 min) at the end: {os.getloadavg()[0]:.2f}",
        "",
        "## Run",
        "",
        f"- {options.users:,} users, {options.groups:,} groups, {options.log_rows:,} log rows added for the admin pages",
        f"- {options.clients} concurrent clients; {options.samples:,} samples for floor inserts and lookups;"
        f" {options.repeat} repetitions of each probe",
        *[f"- {name}: {value}" for name, value in report.facts.items()],
        "",
        "## Targets",
        "",
        "| figure | value | target | met |",
        "| --- | --- | --- | --- |",
    ]
    for name, (sign, bound) in TARGETS.items():
        figure = values.get(name)
        shown = figure.line().split(": ", 1)[1] if figure else "n/a"
        lines.append(f"| `{name}` | {shown} | {sign} {bound} | {met(name, figure.value if figure else None)} |")
    lines += ["", "## Figures", "", "| figure | value | meaning |", "| --- | --- | --- |"]
    for figure in report.figures:
        lines.append(f"| `{figure.name}` | {figure.line().split(': ', 1)[1]} | {MEANING.get(figure.name, '')} |")
    for title, table in report.tables.items():
        lines += ["", f"## {title}", "", *table]
    path.write_text("\n".join(lines) + "\n")
