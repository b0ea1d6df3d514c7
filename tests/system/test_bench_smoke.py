"""The benchmark keeps working: a small run (a few hundred users) completes and prints every figure
the benchmark issue names. Nothing about speed is asserted here; `make bench` measures that."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import DATABASE_URL, ON_POSTGRES

ROOT = Path(__file__).resolve().parents[2]

REQUIRED_FIGURES = (
    "create_rps",
    "create_ratio_to_framework",
    "filter_p95_ms",
    "filter_p95_ratio_to_framework",
    "get_user_p50_ratio_to_framework",
    "get_user_reads_per_request",
    "filter_reads_per_request",
    "post_transactions_per_request",
    "patch_add_100_small_ms",
    "patch_add_100_large_ms",
    "patch_add_flatness",
    "remove_one_member_large_ms",
    "remove_one_member_flatness",
    "group_get_no_members_flatness",
    "users_page_ratio_to_trivial",
    "dashboard_ratio_to_trivial",
    "users_page_after_request_ratio_to_trivial",
    "dashboard_after_request_ratio_to_trivial",
    "rss_growth_mb",
    "db_bytes_per_user",
    # and the framework floor's and the signed-in frame's, which tell the framework's share of a
    # ratio from Jericho's own
    "framework_lookup_insert_ratio_to_floor",
    "framework_lookup_p95_ratio_to_floor",
    "framework_trivial_ratio_to_trivial",
    "signed_in_frame_ms",
    # one organization's expensive filters against another's lookups
    "noisy_neighbour_p50_ratio",
    "noisy_neighbour_p95_ratio",
    "expensive_filters_refused",
    # and the directory's consumers': the outbox's cost on the sync, the feed, webhooks
    "create_no_outbox_rps",
    "outbox_create_ratio",
    "events_read_per_s",
    "webhook_deliveries_per_s",
    "webhook_lag_p95_ms",
)


def test_a_small_benchmark_run_prints_every_figure(tmp_path):
    command = [
        sys.executable, "-m", "bench",
        "--users", "300", "--groups", "12", "--log-rows", "2000", "--samples", "200", "--repeat", "3",
        "--results", str(tmp_path / "RESULTS.md"), "--out", str(tmp_path), "--max-minutes", "8",
    ]
    if ON_POSTGRES:
        command += ["--postgres", DATABASE_URL]  # the bench makes a database of its own there
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}

    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)

    assert done.returncode == 0, done.stderr[-4000:]
    printed = {line.split(": ", 1)[0] for line in done.stdout.splitlines() if ": " in line}
    assert set(REQUIRED_FIGURES) <= printed, set(REQUIRED_FIGURES) - printed
    results = (tmp_path / "RESULTS.md").read_text()
    assert all(f"`{name}`" in results for name in REQUIRED_FIGURES)
