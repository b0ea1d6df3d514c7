"""Client load on 127.0.0.1: concurrent clients, each a process of its own (so the clients'
Python work never queues on one interpreter lock) holding one keep-alive HTTP connection
(stdlib http.client; it reconnects by itself when the server closes, as gunicorn's sync
workers do after every response).

A phase hands every client a *builder*, a module-level function and its arguments that yields
the client's `Request`s; a client runs them one after another and reports latencies per kind.
"""
from __future__ import annotations

import http.client
import json
import math
import multiprocessing
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from bench import BenchError

REQUEST_TIMEOUT_SECONDS = 60
SHOWN_FAILURES = 3


@dataclass(frozen=True)
class Request:
    kind: str  # the name its latency is reported under
    method: str
    path: str
    body: Any = None  # sent as JSON
    expect: int | tuple[int, ...] = 200  # several: the first is the usual answer
    capture: Any = None  # keep the response's "id" under this key
    content_type: str = "application/scim+json; charset=utf-8"
    headers: dict[str, str] | None = None  # besides the connection's

    def expected(self) -> tuple[int, ...]:
        return self.expect if isinstance(self.expect, tuple) else (self.expect,)


@dataclass
class Response:
    status: int
    body: bytes
    headers: http.client.HTTPMessage
    ms: float

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One client's connection; `headers` go with every request."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
        self.headers = dict(headers or {})

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Response:
        headers = {**self.headers, **(headers or {})}
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A worker that reached gunicorn's max_requests closed the socket before
                # reading the request: nothing was done, so sending it again is safe.
                self.connection.close()
                if attempt == 2:
                    raise
                continue
            return Response(response.status, data, response.headers, (time.perf_counter() - started) * 1000)
        raise AssertionError("unreachable")

    def run(self, request: Request) -> Response:
        body = None if request.body is None else json.dumps(request.body).encode()
        headers = {**({"Content-Type": request.content_type} if body is not None else {}), **(request.headers or {})}
        return self.send(request.method, request.path, body, headers)

    def close(self) -> None:
        self.connection.close()


@dataclass
class Outcome:
    """What the clients of one phase did."""

    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    captured: dict[Any, str] = field(default_factory=dict)

    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())


def run_share(port: int, headers: dict[str, str], builder: Callable[..., Iterable[Request]], args: tuple,
              deadline: float) -> Outcome:
    """One client's part of a phase (runs in a client process)."""
    connection = Connection(port, headers)
    outcome = Outcome()
    failures = []
    try:
        for request in builder(*args):
            if time.time() > deadline:
                raise BenchError(f"out of time in a {request.kind} phase")
            response = connection.run(request)
            expected = request.expected()
            # An answer other than the usual one is counted apart, as "<kind>_<status>".
            kind = request.kind if response.status == expected[0] else f"{request.kind}_{response.status}"
            outcome.latencies[kind].append(response.ms)
            if response.status not in expected:
                failures.append(f"{request.method} {request.path} -> {response.status} {response.body[:300]!r}")
            elif request.capture is not None:
                outcome.captured[request.capture] = response.json()["id"]
    finally:
        connection.close()
    if failures:
        raise BenchError(f"{len(failures)} unexpected responses, e.g. " + "; ".join(failures[:SHOWN_FAILURES]))
    outcome.latencies = dict(outcome.latencies)
    return outcome


class Clients:
    """`count` client processes, started once, so that no phase times a process start."""

    def __init__(self, count: int, deadline: float) -> None:
        self.count = count
        self.deadline = deadline
        self.pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"))
        list(self.pool.map(time.sleep, [0.01] * count))  # start every process now

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc_info) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def run(self, port: int, builder: Callable[..., Iterable[Request]], shares: list[tuple], *,
            headers: dict[str, str] | None = None) -> Outcome:
        """Run `builder(*share)` on one client per share, all at once; the outcome's seconds
        are the wall time from the first request sent to the last answer."""
        if len(shares) > self.count:
            raise ValueError(f"{len(shares)} shares for {self.count} clients")
        started = time.perf_counter()
        futures = [self.pool.submit(run_share, port, headers or {}, builder, share, self.deadline) for share in shares]
        merged = Outcome()
        for future in futures:
            part = future.result(timeout=max(self.deadline - time.time(), 0) + REQUEST_TIMEOUT_SECONDS)
            for kind, values in part.latencies.items():
                merged.latencies[kind].extend(values)
            merged.captured.update(part.captured)
        merged.seconds = time.perf_counter() - started
        merged.latencies = dict(merged.latencies)
        return merged


def deal(items: list, parts: int) -> list[tuple[list]]:
    """`items` dealt round-robin into `parts` shares, each the argument tuple of one builder."""
    return [(items[index::parts],) for index in range(parts)]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)]


def median(values: list[float]) -> float:
    return percentile(values, 50)
