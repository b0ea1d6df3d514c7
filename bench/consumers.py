"""The directory's consumers under measurement: the events feed read by cursor as a consuming
product reads it, and webhooks delivered by the app's own delivery threads to a receiver on
127.0.0.1 — how many per second from a backlog, and how long after a change was answered it
arrives."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import BenchError
from bench.entra import PATCH_OP, SCIM
from bench.load import Connection, Request, percentile

FEED_PAGE = 1000
# A change whose webhook has not arrived by then makes the run fail.
ARRIVAL_TIMEOUT_SECONDS = 60


class Receiver:
    """Answers every POST with 204 and notes when each event arrived (perf_counter)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # event id -> arrival
        self.titles: dict[str, float] = {}  # the title a user.updated event carries -> arrival
        self.condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                arrived = time.perf_counter()
                self.send_response(204)
                self.end_headers()
                with receiver.condition:
                    receiver.arrivals.setdefault(event["id"], arrived)
                    receiver.titles.setdefault(str(event["data"].get("title")), arrived)
                    receiver.condition.notify_all()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jericho"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait(self, done, what: str) -> None:
        with self.condition:
            if not self.condition.wait_for(done, ARRIVAL_TIMEOUT_SECONDS):
                raise BenchError(f"webhooks: {what} did not arrive within {ARRIVAL_TIMEOUT_SECONDS} s")

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


def read_feed(port: int, key: str) -> tuple[int, float]:
    """The whole feed, page by page as a consumer catching up reads it: (events, seconds)."""
    connection = Connection(port, {"Authorization": f"Bearer {key}"})
    count, after, started = 0, "0", time.perf_counter()
    while True:
        response = connection.send("GET", f"/api/v1/events?after={after}&limit={FEED_PAGE}")
        if response.status != 200:
            raise BenchError(f"GET /api/v1/events -> {response.status} {response.body[:300]!r}")
        page = response.json()
        count += len(page["data"])
        after = page["next"]
        if not page["hasMore"]:
            connection.close()
            return count, time.perf_counter() - started


def retitle(user_id: str, title: str) -> Request:
    body = {"schemas": PATCH_OP, "Operations": [{"op": "Replace", "path": "title", "value": title}]}
    return Request("retitle", "PATCH", f"{SCIM}/Users/{user_id}", body)


def retitles(changes: list[tuple[str, str]]):
    """A builder for load.Clients: (user id, new title) pairs."""
    for user_id, title in changes:
        yield retitle(user_id, title)


def lag_ms(connection: Connection, receiver: Receiver, user_ids: list[str], samples: int) -> list[float]:
    """One change at a time: from the PATCH being sent to its webhook's arrival."""
    lags = []
    for number in range(samples):
        title = f"lag {number}"
        sent = time.perf_counter()
        response = connection.run(retitle(user_ids[number % len(user_ids)], title))
        if response.status != 200:
            raise BenchError(f"PATCH for the lag -> {response.status} {response.body[:300]!r}")
        receiver.wait(lambda: title in receiver.titles, f"the webhook of change {number}")
        lags.append((receiver.titles[title] - sent) * 1000)
    return lags


def p95(values: list[float]) -> float:
    return percentile(values, 95)
