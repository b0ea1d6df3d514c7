"""One benchmark run. The floor and Jericho run side by side under the same gunicorn config; an
Entra-shaped initial sync and an incremental cycle load Jericho to N users; probes then show
whether a request's cost grows with the size of the group it touches; last, the admin pages
over a full provisioning log. Each floor is measured in turns with the figure it is compared
with (floor, app, floor, app, ...), so both see the same noise from the rest of the machine.
"""
from __future__ import annotations

import random
import secrets
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from jericho import config as jericho_config
from jericho.scim.filter_cost import DOCUMENT_COST

from bench import BenchError, admin, consumers, entra, floor, hot_path
from bench.load import Clients, Connection, Outcome, Request, deal, median, percentile
from bench.server import ROOT, Gunicorn, database, flask_cli

ORGANIZATION = "Contoso"
ADMIN_EMAIL = "bench-admin@contoso.com"
# Worker memory is compared between this many users (or half of N, if smaller) and N.
BASELINE_USERS = 1000
# The sync's users are created in this many segments, with a burst of floor inserts before each
# and after the last; lookups at N alternate with the floor's in this many rounds.
CREATE_SEGMENTS = 10
LOOKUP_ROUNDS = 4
# A request's log entry is stored by then (the app's default PROVISIONING_LOG_FLUSH_SECONDS).
LOG_FLUSH_WAIT_SECONDS = jericho_config.PROVISIONING_LOG_FLUSH_SECONDS + 0.1
# Untimed views of each page per worker before the timed ones: a worker's first views of a page
# warm the interpreter and its templates, and the figures are for the views after those.
PAGE_WARMUP_VIEWS_PER_WORKER = 10
# Requests each client sends in every memory probe, so every worker serves the whole mix.
PROBE_ROUNDS = 6
# The app as `make run` serves it (app.py: create_app()), except that the per-token rate limit is
# lifted: the clients send far more than Entra's rate on purpose, to measure cost, and the
# limiter's bookkeeping still runs on every request.
LIFTED_RATE_LIMITS = {"RATE_LIMIT_TOKEN_PER_SECOND": 1000000, "RATE_LIMIT_TOKEN_BURST": 100000000}
LIFTED_RATE_LIMIT = ", ".join(f"{name!r}: {value}" for name, value in LIFTED_RATE_LIMITS.items())
APP = f"jericho:create_app({{{LIFTED_RATE_LIMIT}}})"
# The same app on the same database without its events outbox (RECORD_DIRECTORY_EVENTS, a setting
# for this measure only): half of the sync's users are created through it, in turns with the
# other half through APP, so that create_rps can be compared with what it would be without.
APP_WITHOUT_OUTBOX = f"jericho:create_app({{{LIFTED_RATE_LIMIT}, 'RECORD_DIRECTORY_EVENTS': False}})"
# Users 0..99 belong to the 100-member group; the incremental cycle leaves them alone.
SMALL_GROUP = 100
TINY_GROUP = 10
# The noisy neighbour: a second organization's userName lookups, paced, alone and then while this
# one sends filters as expensive as the default cost budget allows, eight a second from several
# clients (the rate at which such filters stalled other organizations before the budget).
NEIGHBOUR = "Fabrikam"
NEIGHBOUR_USERS = 100
NEIGHBOUR_LOOKUPS_PER_SECOND = 20
EXPENSIVE_PER_SECOND = 8
EXPENSIVE_CLIENTS = 4


@dataclass(frozen=True)
class Options:
    users: int = 100_000
    groups: int = 1_000
    log_rows: int = 1_000_000
    clients: int = 8
    samples: int = 4_000  # floor inserts, and lookups at N users (app and floor)
    repeat: int = 30  # sequential repetitions of each flatness probe and page view
    postgres_url: str | None = None
    out: Path = ROOT / "bench" / "out"
    max_minutes: float = 40


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str = ""
    reason: str = ""  # why the value is missing

    def line(self) -> str:
        if self.value is None:
            return f"{self.name}: n/a ({self.reason})"
        return f"{self.name}: {_number(self.value)} {self.unit}".rstrip()


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


@dataclass
class Report:
    options: Options
    figures: list[Figure] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)  # what was measured on, for RESULTS.md
    tables: dict[str, list[str]] = field(default_factory=dict)  # titled sections of RESULTS.md

    def add(self, name: str, value: float, unit: str) -> None:
        self.figures.append(Figure(name, value, unit))
        print(self.figures[-1].line(), flush=True)

    def missing(self, name: str, reason: str) -> None:
        self.figures.append(Figure(name, None, reason=reason))
        print(self.figures[-1].line(), flush=True)

    def ratio(self, name: str, numerator: float, denominator: float) -> None:
        self.add(name, numerator / denominator, "x")


def progress(message: str) -> None:
    """What the run is doing, on stderr: a full run takes a while."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(options: Options) -> Report:
    if options.users < 2 * SMALL_GROUP or options.groups < 4:
        raise BenchError("the benchmark needs at least 200 users and 4 groups")
    report = Report(options)
    options.out.mkdir(parents=True, exist_ok=True)
    deadline = time.time() + options.max_minutes * 60
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="jericho-bench-")))
        url = stack.enter_context(database(workdir, options.postgres_url))
        report.facts["database"] = make_url(url).get_backend_name()
        progress(f"preparing a {report.facts['database']} database and the floor's")
        floor_db = workdir / "floor.sqlite3"
        floor.prepare(floor_db, (entra.user_name(number) for number in range(options.users)))
        # Webhooks go to a receiver on 127.0.0.1 (bench/consumers.py).
        env = {"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32), "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1"}
        flask_cli(env, "init")  # as `make run` does before gunicorn starts
        token = flask_cli(env, "token", "create", "--org", ORGANIZATION, "--label", "benchmark").strip()
        neighbour_token = flask_cli(env, "token", "create", "--org", NEIGHBOUR, "--label", "benchmark").strip()
        pages, password = _admin_pages(env, report)
        clients = stack.enter_context(Clients(options.clients, deadline))
        # The app's environment too: gunicorn.conf.py's start hook reads the app's database.
        floor_env = {**env, "BENCH_FLOOR_DB": str(floor_db)}
        floor_server = stack.enter_context(Gunicorn("bench.floor:app", env=floor_env, log_path=options.out / "floor.log"))
        framework_server = stack.enter_context(
            Gunicorn("bench.framework:app", env=floor_env, log_path=options.out / "framework.log")
        )
        app_server = stack.enter_context(Gunicorn(APP, env=env, log_path=options.out / "app.log"))
        without_outbox = stack.enter_context(
            Gunicorn(APP_WITHOUT_OUTBOX, env=env, log_path=options.out / "app-without-outbox.log")
        )
        report.facts["gunicorn workers"] = str(app_server.workers)
        report.facts["app"] = f"gunicorn --config gunicorn.conf.py \"{APP}\""
        Benchmark(options, report, clients, floor_server, framework_server, app_server, without_outbox, env, token,
                  neighbour_token, pages, password).run()
    return report


def _admin_pages(env: dict[str, str], report: Report) -> tuple[dict[str, str] | None, str]:
    """The admin pages' paths and a new admin's password, or None when the app has no such pages."""
    try:
        pages = admin.page_paths(env["DATABASE_URL"])
    except admin.AdminUnavailable as error:
        report.facts["admin pages"] = f"not measured: {error}"
        return None, ""
    password = secrets.token_urlsafe(18)
    flask_cli({**env, "JERICHO_ADMIN_PASSWORD": password},
              "admin", "create", "--org", ORGANIZATION, "--email", ADMIN_EMAIL)
    return pages, password


class Benchmark:
    def __init__(self, options: Options, report: Report, clients: Clients, floor_server: Gunicorn,
                 framework_server: Gunicorn, app_server: Gunicorn, without_outbox: Gunicorn, env: dict[str, str],
                 token: str, neighbour_token: str, pages: dict[str, str] | None, password: str) -> None:
        self.options, self.report, self.clients = options, report, clients
        self.floor, self.framework, self.app = floor_server, framework_server, app_server
        self.without_outbox = without_outbox
        self.env, self.url = env, env["DATABASE_URL"]
        self.pages, self.password = pages, password
        self.scim = {"Authorization": f"Bearer {token}"}
        self.neighbour = {"Authorization": f"Bearer {neighbour_token}"}
        self.connection = Connection(app_server.port, self.scim)
        self.browser: admin.Browser | None = None  # signed in to the admin pages
        self.user_ids: list[str] = []
        self.group_ids: list[str] = []

    def run(self) -> None:
        n = self.options.users
        if self.pages:
            self.browser = admin.sign_in(self.app.port, self.pages["sign_in"], ADMIN_EMAIL, self.password)
        self.phase(entra.test_connection, [()])
        baseline = min(BASELINE_USERS, n // 2)
        progress(f"initial sync: creating {n:,} users (filter, then POST), in turns with floor inserts")
        users = [(number, entra.user_name(number), number) for number in range(n)]
        creates, creates_without_outbox, inserts, pairs, framework_pairs, captured = [], [], [], [], [], {}
        for number, segment in enumerate([users[:baseline], *_parts(users[baseline:], CREATE_SEGMENTS - 1)]):
            inserts.append(self.floor_inserts())
            pairs.append(self.floor_inserts(lookup_first=True))
            framework_pairs.append(self.floor_inserts(lookup_first=True, port=self.framework.port))
            # Every other user through the app without its outbox, which goes first every other time.
            halves = [(creates, self.app, segment[0::2]), (creates_without_outbox, self.without_outbox, segment[1::2])]
            for outcomes, server, half in halves[::-1] if number % 2 else halves:
                outcomes.append(self.clients.run(server.port, entra.user_creates, deal(half, self.options.clients),
                                                 headers=self.scim))
                captured |= outcomes[-1].captured
            progress(f"{len(captured):,} users created")
            if number == 0:
                self.user_ids = [captured[number] for number in range(baseline)]
                rss_baseline = self.worker_rss_mb()
        inserts.append(self.floor_inserts())
        pairs.append(self.floor_inserts(lookup_first=True))
        framework_pairs.append(self.floor_inserts(lookup_first=True, port=self.framework.port))
        self.without_outbox.stop()  # its part is done
        self.user_ids = [captured[number] for number in range(n)]
        create_rps = _created_per_second(creates)
        self.report.add("create_rps", create_rps, "users/s")
        self.report.add("create_no_outbox_rps", _created_per_second(creates_without_outbox), "users/s")
        self.report.ratio("outbox_create_ratio", create_rps, _created_per_second(creates_without_outbox))
        self.report.add("floor_insert_rps", _inserts_per_second(inserts), "rows/s")
        self.report.add("floor_lookup_insert_rps", _inserts_per_second(pairs), "users/s")
        self.report.ratio("create_ratio_to_floor_lookup_insert", create_rps, _inserts_per_second(pairs))
        self.report.add("framework_lookup_insert_rps", _inserts_per_second(framework_pairs), "users/s")
        self.report.ratio("framework_lookup_insert_ratio_to_floor", _inserts_per_second(framework_pairs),
                          _inserts_per_second(inserts))
        self.report.ratio("create_ratio_to_framework", create_rps, _inserts_per_second(framework_pairs))
        posts = [ms for outcome in creates for ms in outcome.latencies["create"]]
        self.report.add("create_post_p95_ms", percentile(posts, 95), "ms")

        self.create_groups()
        self.add_memberships()
        self.incremental_cycle()
        self.report.add("db_bytes_per_user", self.database_bytes() / n, "B")
        self.lookups()
        hot_path.single_client_reads(self.report, self.connection, Connection(self.framework.port), self.user_ids, n)
        self.noisy_neighbour()
        self.flatness()
        self.admin_pages()
        self.report.add("rss_growth_mb", self.worker_rss_mb() - rss_baseline, "MB")
        self.consumers()
        progress("statements per request, counted in-process")
        hot_path.statements_per_request(self.report, self.url, self.scim["Authorization"].split()[1], self.user_ids,
                                        {"SECRET_KEY": self.env["SECRET_KEY"], **LIFTED_RATE_LIMITS})

    # -- phases --------------------------------------------------------------------------------

    def phase(self, builder, shares: list[tuple], port: int | None = None) -> Outcome:
        headers = None if port else self.scim
        return self.clients.run(port or self.app.port, builder, shares, headers=headers)

    def floor_inserts(self, lookup_first: bool = False, port: int | None = None) -> Outcome:
        """One burst of a quarter of `samples` floor inserts, from every client, to the floor or
        to the framework floor on `port`."""
        tag = secrets.token_hex(4)
        count = max(self.options.samples // (4 * self.options.clients), 1)
        shares = [(f"{tag}-{client}", count, lookup_first) for client in range(self.options.clients)]
        return self.phase(entra.floor_inserts, shares, port or self.floor.port)

    def create_groups(self) -> None:
        progress(f"creating {self.options.groups:,} groups")
        outcome = self.phase(entra.group_creates, deal(list(range(self.options.groups)), self.options.clients))
        self.group_ids = [outcome.captured[number] for number in range(self.options.groups)]
        self.report.add("group_create_rps", self.options.groups / outcome.seconds, "groups/s")

    def add_memberships(self) -> None:
        """Group 0 holds every user; group 1 ten, group 2 a hundred; every other group is a team,
        and each user is on one team."""
        everyone, tiny, small, *teams = self.group_ids
        ids = self.user_ids
        batches = [(everyone, ids[start:start + entra.BATCH]) for start in range(0, len(ids), entra.BATCH)]
        batches += [(tiny, ids[:TINY_GROUP]), (small, ids[:SMALL_GROUP])]
        for number, team in enumerate(teams):
            members = ids[number::len(teams)]
            batches += [(team, members[start:start + entra.BATCH]) for start in range(0, len(members), entra.BATCH)]
        random.Random(3).shuffle(batches)
        added = sum(len(user_ids) for _, user_ids in batches)
        progress(f"adding {added:,} memberships in {len(batches):,} PATCHes")
        outcome = self.phase(entra.member_batches, deal(batches, self.options.clients))
        self.report.add("memberships_per_s", added / outcome.seconds, "members/s")
        self.report.add("add_members_batch_p95_ms", percentile(outcome.latencies["add_members"], 95), "ms")

    def incremental_cycle(self) -> None:
        """Attribute updates, disables and member removals (from teams), a third each, among
        users outside the small groups, in both PATCH dialects."""
        teams = self.group_ids[3:]
        count = max(self.options.users // 100, 12)
        changes = []
        for number, index in enumerate(random.Random(5).sample(range(SMALL_GROUP, self.options.users), count)):
            user_id, name = self.user_ids[index], entra.user_name(index)
            changes.append([("update", user_id, name, index), ("disable", user_id, name),
                            ("remove", teams[index % len(teams)], user_id)][number % 3])
        progress(f"incremental cycle: {count:,} changes")
        outcome = self.phase(entra.incremental, deal(changes, self.options.clients))
        patches = [ms for kind in ("update", "disable", "remove_member") for ms in outcome.latencies[kind]]
        self.report.add("incremental_rps", outcome.requests() / outcome.seconds, "requests/s")
        self.report.add("incremental_patch_p95_ms", percentile(patches, 95), "ms")

    def lookups(self) -> None:
        """userName lookups at N users from every client at once, in turns with the floor's and
        the framework's."""
        progress(f"{self.options.samples:,} lookups at {self.options.users:,} users, in turns with the floors'")
        chooser = random.Random(11)
        names = [entra.user_name(chooser.randrange(self.options.users)) for _ in range(self.options.samples)]
        app, floors, frameworks = [], [], []
        for part in _parts(names, LOOKUP_ROUNDS):
            shares = deal(part, self.options.clients)
            floors += self.phase(entra.floor_lookups, shares, self.floor.port).latencies["floor_lookup"]
            frameworks += self.phase(entra.floor_lookups, shares, self.framework.port).latencies["floor_lookup"]
            app += self.phase(entra.lookups, shares).latencies["filter"]
        filter_p95, floor_p95, framework_p95 = (percentile(values, 95) for values in (app, floors, frameworks))
        self.report.add("filter_p95_ms", filter_p95, "ms")
        self.report.add("floor_lookup_p95_ms", floor_p95, "ms")
        self.report.add("framework_lookup_p95_ms", framework_p95, "ms")
        self.report.ratio("filter_p95_ratio_to_framework", filter_p95, framework_p95)
        self.report.ratio("framework_lookup_p95_ratio_to_floor", framework_p95, floor_p95)

    def noisy_neighbour(self) -> None:
        """How much one organization can slow another: the neighbour's lookups alone, then while
        this organization sends expensive filters within the cost budget."""
        seconds = min(max(self.options.samples / 200, 3), 20)
        progress(f"noisy neighbour: {NEIGHBOUR}'s lookups alone, then beside expensive filters, {seconds:.0f} s each")
        users = [(number, entra.neighbour_user_name(number), number) for number in range(NEIGHBOUR_USERS)]
        self.clients.run(self.app.port, entra.user_creates, deal(users, self.options.clients), headers=self.neighbour)
        lookups = [replace(entra.user_lookup(name, "neighbour_lookup"), headers=self.neighbour) for _, name, _ in users]
        random.Random(13).shuffle(lookups)
        neighbour = (lookups, NEIGHBOUR_LOOKUPS_PER_SECOND, seconds)
        text = entra.expensive_filter(jericho_config.SCIM_MAX_FILTER_COST, DOCUMENT_COST)
        noisy = [([entra.expensive_search(text)], EXPENSIVE_PER_SECOND / EXPENSIVE_CLIENTS, seconds)] * EXPENSIVE_CLIENTS
        alone = self.phase(entra.paced, [neighbour]).latencies["neighbour_lookup"]
        beside = self.phase(entra.paced, [neighbour, *noisy])
        loaded = beside.latencies["neighbour_lookup"]
        self.report.facts["noisy neighbour"] = (
            f"{NEIGHBOUR} ({NEIGHBOUR_USERS} users) looks up userNames at {NEIGHBOUR_LOOKUPS_PER_SECOND}/s for"
            f" {seconds:.0f} s alone, then while {ORGANIZATION} sends {EXPENSIVE_PER_SECOND}/s of `{text}`"
            f" (cost {jericho_config.SCIM_MAX_FILTER_COST}) from {EXPENSIVE_CLIENTS} clients")
        self.report.add("neighbour_lookup_p50_ms", median(alone), "ms")
        self.report.add("neighbour_lookup_p95_ms", percentile(alone, 95), "ms")
        self.report.add("neighbour_lookup_loaded_p50_ms", median(loaded), "ms")
        self.report.add("neighbour_lookup_loaded_p95_ms", percentile(loaded, 95), "ms")
        self.report.ratio("noisy_neighbour_p50_ratio", median(loaded), median(alone))
        self.report.ratio("noisy_neighbour_p95_ratio", percentile(loaded, 95), percentile(alone, 95))
        answered = beside.latencies.get("expensive_filter")
        if answered:
            self.report.add("expensive_filter_p50_ms", median(answered), "ms")
        else:
            self.report.missing("expensive_filter_p50_ms", "every one ran past its deadline")
        self.report.add("expensive_filters_stopped", len(beside.latencies.get("expensive_filter_503", [])), "requests")
        self.report.add("expensive_filters_refused", len(beside.latencies.get("expensive_filter_429", [])), "requests")

    def flatness(self) -> None:
        """One request at a time, the same request against a small group and the group of every
        user, alternately; medians of `repeat` tries."""
        progress("probing: small group against the group of every user")
        everyone, tiny, small = self.group_ids[:3]
        hires = [(("hire", number), entra.probe_user_name(number), number) for number in range(entra.BATCH)]
        captured = self.phase(entra.user_creates, deal(hires, self.options.clients)).captured
        new_ids = [captured[key] for key, _, _ in hires]

        def read(group_id: str) -> Request:
            return Request("group_read", "GET", f"{entra.SCIM}/Groups/{group_id}?excludedAttributes=members")

        reads = self.alternate(lambda size, group_id, _: [read(group_id)], {"small": tiny, "large": everyone})
        self.report.add("group_get_no_members_small_ms", reads["small"], "ms")
        self.report.add("group_get_no_members_large_ms", reads["large"], "ms")
        self.report.ratio("group_get_no_members_flatness", reads["large"], reads["small"])

        adds = self.alternate(
            lambda size, group_id, _: [entra.add_members(group_id, new_ids),
                                       entra.remove_members(group_id, new_ids, flag=False)],
            {"small": small, "large": everyone},
        )
        self.report.add("patch_add_100_small_ms", adds["small"], "ms")
        self.report.add("patch_add_100_large_ms", adds["large"], "ms")
        self.report.ratio("patch_add_flatness", adds["large"], adds["small"])

        removes = self.alternate(
            lambda size, group_id, round_: [
                entra.remove_members(group_id, [self.user_ids[round_ % SMALL_GROUP]], flag=round_ % 2 == 1),
                entra.add_members(group_id, [self.user_ids[round_ % SMALL_GROUP]]),
            ],
            {"small": small, "large": everyone},
        )
        self.report.add("remove_one_member_small_ms", removes["small"], "ms")
        self.report.add("remove_one_member_large_ms", removes["large"], "ms")
        self.report.ratio("remove_one_member_flatness", removes["large"], removes["small"])

    def alternate(self, requests, groups: dict[str, str]) -> dict[str, float]:
        """Median time of the first of `requests(size, group_id, round)` per group; the rest
        put the group back as it was. One untimed round first."""
        times: dict[str, list[float]] = {size: [] for size in groups}
        for round_ in range(self.options.repeat + 1):
            for size, group_id in groups.items():
                timed, *restore = requests(size, group_id, round_)
                elapsed = self.send(timed)
                for request in restore:
                    self.send(request)
                if round_:
                    times[size].append(elapsed)
        return {size: median(values) for size, values in times.items()}

    def send(self, request: Request, connection: Connection | None = None) -> float:
        response = (connection or self.connection).run(request)
        if response.status not in request.expected():
            raise BenchError(f"{request.method} {request.path} -> {response.status} {response.body[:300]!r}")
        return response.ms

    def admin_pages(self) -> None:
        """The signed-in admin pages, one request at a time, alternating with the floor's and the
        framework's trivial endpoints; medians of `repeat` tries after the untimed warm-up."""
        views = {server: (Connection(port), Request("trivial", "GET", "/trivial"))
                 for server, port in (("floor", self.floor.port), ("framework", self.framework.port))}
        if self.pages:
            progress(f"adding {self.options.log_rows:,} provisioning log rows")
            started = time.perf_counter()
            admin.fill_log(self.url, ORGANIZATION, user_ids=self.user_ids, group_id=self.group_ids[0],
                           rows=self.options.log_rows)
            self.report.facts["log rows inserted in"] = f"{time.perf_counter() - started:.0f} s"
            progress("admin pages")
            views |= {name: (self.browser, Request(name, "GET", self.pages[name])) for name in admin.PAGES}
            views["signed_in_frame"] = (self.browser, Request("frame", "GET", admin.NO_PAGE, expect=404))
        times: dict[str, list[float]] = {name: [] for name in views}
        warmup = PAGE_WARMUP_VIEWS_PER_WORKER * self.app.workers
        for round_ in range(warmup + self.options.repeat):
            for name, (connection, request) in views.items():
                elapsed = self.send(request, connection)
                if round_ >= warmup:
                    times[name].append(elapsed)
        trivial = median(times["floor"])
        self.report.add("floor_trivial_ms", trivial, "ms")
        self.report.add("framework_trivial_ms", median(times["framework"]), "ms")
        self.report.ratio("framework_trivial_ratio_to_trivial", median(times["framework"]), trivial)
        if not self.pages:
            for name in admin.PAGES:
                for figure in (f"{name}_ratio_to_trivial", f"{name}_after_request_ratio_to_trivial"):
                    self.report.missing(figure, self.report.facts["admin pages"])
            return
        self.report.add("signed_in_frame_ms", median(times["signed_in_frame"]), "ms")
        for name in admin.PAGES:
            self.report.add(f"{name}_ms", median(times[name]), "ms")
            self.report.ratio(f"{name}_ratio_to_trivial", median(times[name]), trivial)
        self.pages_after_requests(trivial)

    def pages_after_requests(self, trivial: float) -> None:
        """The admin pages as an admin sees them during a sync: each view right after a request
        from Entra has reached the log."""
        times: dict[str, list[float]] = {name: [] for name in admin.PAGES}
        for round_ in range(self.options.repeat):
            for name in admin.PAGES:
                self.send(entra.user_lookup(entra.user_name(round_)))
                time.sleep(LOG_FLUSH_WAIT_SECONDS)
                times[name].append(self.send(Request(name, "GET", self.pages[name]), self.browser))
        for name, values in times.items():
            self.report.add(f"{name}_after_request_ms", median(values), "ms")
            self.report.ratio(f"{name}_after_request_ratio_to_trivial", median(values), trivial)

    def consumers(self) -> None:
        """A consumer catching up on the whole events feed; then webhooks to a receiver on
        127.0.0.1: a backlog of user changes sent to a disabled endpoint, timed from the first
        arrival to the last once it is enabled, and the lag of single changes."""
        progress("the events feed, read by cursor")
        key = flask_cli(self.env, "api-key", "create", "--org", ORGANIZATION, "--label", "benchmark").strip()
        count, seconds = consumers.read_feed(self.app.port, key)
        self.report.facts["events in the feed"] = f"{count:,}"
        self.report.add("events_read_per_s", count / seconds, "events/s")
        with consumers.Receiver() as receiver:
            flask_cli(self.env, "webhook", "create", "--org", ORGANIZATION, "--url", receiver.url, "--events", "user.*")
            endpoint = flask_cli(self.env, "webhook", "list", "--org", ORGANIZATION).splitlines()[1].split()[0]
            backlog = min(len(self.user_ids), max(self.options.samples // 2, 100))
            progress(f"webhooks: {backlog:,} changes to a disabled endpoint, then delivered")
            flask_cli(self.env, "webhook", "disable", endpoint)
            changes = [(user_id, f"backlog {number}") for number, user_id in enumerate(self.user_ids[:backlog])]
            self.phase(consumers.retitles, deal(changes, self.options.clients))
            flask_cli(self.env, "webhook", "enable", endpoint)
            receiver.wait(lambda: all(title in receiver.titles for _, title in changes), "the backlog")
            arrivals = sorted(receiver.titles[title] for _, title in changes)
            self.report.add("webhook_deliveries_per_s", (backlog - 1) / (arrivals[-1] - arrivals[0]), "deliveries/s")
            samples = max(self.options.repeat * 2, 10)
            progress(f"webhooks: the lag of {samples} changes, one at a time")
            lags = consumers.lag_ms(self.connection, receiver, self.user_ids, samples)
            self.report.add("webhook_lag_p95_ms", consumers.p95(lags), "ms")

    # -- measurements --------------------------------------------------------------------------

    def worker_rss_mb(self) -> float:
        """Largest worker RSS after every client ran the same mix of reads several times."""
        paths = [("probe_filter", entra.user_lookup(entra.user_name(0)).path),
                 ("probe_read", f"{entra.SCIM}/Users/{self.user_ids[0]}"),
                 ("probe_list", f"{entra.SCIM}/Users?startIndex=1&count=100")]
        if self.pages:
            paths += [("probe_page", self.pages["users_page"]), ("probe_page", self.pages["dashboard"])]
        shares = [(paths, PROBE_ROUNDS)] * self.options.clients
        cookie = {"Cookie": self.browser.cookie_header()} if self.browser else {}
        self.clients.run(self.app.port, entra.page_views, shares, headers={**self.scim, **cookie})
        return self.app.worker_rss_mb()

    def database_bytes(self) -> int:
        """The database's size on disk: the SQLite file after a checkpoint, or PostgreSQL's tables
        with their indexes and TOAST."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                if engine.dialect.name == "sqlite":
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                    path = Path(make_url(self.url).database)
                    return sum(file.stat().st_size for file in (path, path.with_name(path.name + "-wal")) if file.exists())
                return int(connection.execute(text(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
                )).scalar_one())
        finally:
            engine.dispose()


def _created_per_second(phases: list[Outcome]) -> float:
    return sum(len(outcome.captured) for outcome in phases) / sum(outcome.seconds for outcome in phases)


def _inserts_per_second(bursts: list[Outcome]) -> float:
    return sum(len(outcome.latencies["floor_insert"]) for outcome in bursts) / sum(outcome.seconds for outcome in bursts)


def _parts(items: list, count: int) -> list[list]:
    """`items` cut into at most `count` consecutive, non-empty parts of about equal size."""
    size = -(-len(items) // count) if items else 1
    return [items[start:start + size] for start in range(0, len(items), size)]
