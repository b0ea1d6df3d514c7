"""The servers under measurement: gunicorn started as `make run` starts it (the repository's
gunicorn.conf.py, default settings), bound to 127.0.0.1 on a free port, and always stopped.

Also the databases they use: a temporary SQLite file, or a database of its own created on the
machine's PostgreSQL and dropped afterwards.
"""
from __future__ import annotations

import http.client
import os
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from jericho import database_uri

from bench import BenchError

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = ROOT / "gunicorn.conf.py"
START_TIMEOUT_SECONDS = 60
# gunicorn's graceful_timeout is 30 s; past this the process group is killed.
STOP_TIMEOUT_SECONDS = 40
CLI_TIMEOUT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configured_workers() -> int:
    """The worker count gunicorn.conf.py gives (WEB_CONCURRENCY, else two per core): the servers
    inherit this process's environment, so they read the same."""
    return int(runpy.run_path(str(GUNICORN_CONFIG))["workers"])


class Gunicorn:
    """`gunicorn --config gunicorn.conf.py <wsgi_app>` in a process group of its own, so that
    stopping it ends its workers too. Use as a context manager."""

    def __init__(self, wsgi_app: str, *, env: dict[str, str], log_path: Path) -> None:
        self.wsgi_app = wsgi_app
        self.env = {**env, "HOST": "127.0.0.1", "PORT": str(free_port())}
        self.port = int(self.env["PORT"])
        self.log_path = log_path
        self.workers = configured_workers()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG), self.wsgi_app],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _wait_until_ready(self) -> None:
        """Until every worker has booted and one of them answers HTTP (any status)."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn {self.wsgi_app} exited at start; see {self.log_path}")
            if len(self.worker_pids()) == self.workers and self._answers():
                return
            time.sleep(0.2)
        raise BenchError(f"gunicorn {self.wsgi_app} did not start in {START_TIMEOUT_SECONDS} s; see {self.log_path}")

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/bench-ready")
            connection.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT_SECONDS)

    def worker_pids(self) -> list[int]:
        master = self.process.pid
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                # Fields after the parenthesised command name: state, ppid, ...
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
        return pids

    def worker_rss_mb(self) -> float:
        """The largest resident set of the workers, in MiB."""
        sizes = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
            sizes.append(int(kilobytes) / 1024)
        return max(sizes)


def flask_cli(env: dict[str, str], *args: str) -> str:
    """`flask --app app jericho <args>` as an admin would run it; returns its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "jericho", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
    )
    if done.returncode != 0:
        raise BenchError(f"flask jericho {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@contextmanager
def database(workdir: Path, postgres_url: str | None) -> Iterator[str]:
    """The app's DATABASE_URL: a SQLite file in `workdir`, or a new database on the PostgreSQL
    server that `postgres_url` reaches, dropped at the end."""
    if postgres_url is None:
        yield f"sqlite:///{workdir / 'jericho.sqlite3'}"
        return
    server = make_url(database_uri(postgres_url, workdir))
    name = f"jericho_bench_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()
