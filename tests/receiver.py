"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 in a thread, answering each POST
with the next status of its script (then 200), and keeping what it received; and the `receiver`
fixture that runs one for a test."""
from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    def event(self) -> dict:
        return json.loads(self.body)


HANG = 0  # in a script: answer nothing until the test ends (the sender times out)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: deque[int] = deque()
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.arrived:
                    status = receiver.script.popleft() if receiver.script else 200
                    receiver.received.append(Received(dict(self.headers), body, status))
                    receiver.arrived.notify_all()
                if status == HANG:
                    receiver.closing.wait()
                    return
                answer = b"ok" if status < 300 else b"<h1>down for maintenance</h1>" + b"x" * 2000
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/jericho?source=test"
        # A short poll: stopping waits for it, once per test.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def answer(self, *statuses: int) -> None:
        """The statuses of the next POSTs, in order."""
        with self.lock:
            self.script.extend(statuses)

    def delivered(self) -> list[dict]:
        """The events answered 2xx, in the order they arrived."""
        with self.lock:
            return [item.event() for item in self.received if 200 <= item.status < 300]

    def wait_for(self, count: int, timeout: float) -> bool:
        """Until `count` events were answered 2xx (system tests, whose servers deliver on their own)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: sum(200 <= item.status < 300 for item in self.received) >= count, timeout)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver
