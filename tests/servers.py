"""Real gunicorn servers for tests: `running_server(...)` starts one on 127.0.0.1 with the
project's gunicorn.conf.py, waits until it answers, and always stops it, however the test ends.

The listening socket is bound here and handed to gunicorn (`--bind fd://N`), so there is no
race for a free port, and a server killed with SIGKILL restarts on the same port. gunicorn runs
in a process group of its own: `kill()` takes the master and every worker down at once.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
START_TIMEOUT = 30.0
STOP_GRACE = 2.0
STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Server:
    def __init__(self, app_uri: str, *, workers: int, log_path: Path, env: dict[str, str]) -> None:
        self.app_uri, self.workers, self.log_path, self.env = app_uri, workers, log_path, env
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self._reset_queued_connections()
        fd = self.listener.fileno()
        # No control socket: test servers running side by side would share its one path.
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "--config", str(ROOT / "gunicorn.conf.py"), "--bind", f"fd://{fd}",
                 "--workers", str(self.workers), "--no-control-socket", self.app_uri],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(fd,), start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                self.request("GET", "/static/style.css", timeout=5)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT} s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM to the master, then SIGKILL to whatever of the group is left after a short
        grace: a test has no request in flight by now, and idle sync workers can take seconds to
        notice SIGTERM on a busy machine."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                pass
        self._signal_group(signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT)

    def kill(self) -> None:
        """kill -9 of the master and every worker at once, as the OOM killer or a crash would."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT)
        self._reset_queued_connections()

    def _reset_queued_connections(self) -> None:
        # A killed server's queued connections die with its listening socket, which here lives
        # on for the restart: reset them, or the new server would answer stale requests.
        while True:
            try:
                connection, _ = self.listener.accept()
            except BlockingIOError:
                return
            connection.close()

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> Reply:
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/scim+json; charset=utf-8")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def scim(self, method: str, path: str, token: str, json_body: Any = None, **kwargs) -> Reply:
        return self.request(method, "/scim_v2" + path, token=token, json_body=json_body, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self.listener.close()


def app_uri(database_url: str, instance_path: Path, config: dict[str, Any] | None = None) -> str:
    """gunicorn's `module:factory(literal arguments)` form, so each server gets its own settings."""
    settings = {"SECRET_KEY": "test-secret-key", "DATABASE_URL": database_url, **(config or {})}
    return f"jericho:create_app({settings!r}, instance_path={str(instance_path)!r})"


@contextmanager
def running_server(
    database_url: str,
    tmp_path: Path,
    *,
    workers: int = 4,
    config: dict[str, Any] | None = None,
) -> Iterator[Server]:
    """A started server on `database_url` (its schema already created); stopped on exit."""
    env = {
        **os.environ,
        # gunicorn.conf.py's start-up hook reads these, like `make run`.
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "LOG_LEVEL": "info",
        "PYTHONUNBUFFERED": "1",
    }
    server = Server(app_uri(database_url, tmp_path, config), workers=workers,
                    log_path=tmp_path / "gunicorn.log", env=env)
    try:
        server.start()
        yield server
    finally:
        server.close()
