"""`python -m bench.workers`: gunicorn worker configurations compared on this machine, to choose
the one gunicorn.conf.py sets. Each serves, in turns and from a fresh server, an Entra-shaped
sync (filter, then POST, 8 clients) and then userName lookups, on one SQLite database."""
from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from pathlib import Path

from bench import entra
from bench.load import Clients, deal, percentile
from bench.scenario import APP
from bench.server import Gunicorn, flask_cli

CLIENTS = 8
WARMUP_USERS = 80
CONFIGURATIONS = {
    "sync, 2 workers": {"WEB_CONCURRENCY": "2"},
    "sync, 3 workers": {"WEB_CONCURRENCY": "3"},
    "sync, 4 workers": {"WEB_CONCURRENCY": "4"},
    "gthread, 2 workers x 4 threads": {"WEB_CONCURRENCY": "2", "GUNICORN_CMD_ARGS": "--worker-class gthread --threads 4"},
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    parser.add_argument("--users", type=int, default=1000, help="users created per configuration and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="jericho-workers-"))
    env = {"DATABASE_URL": f"sqlite:///{workdir / 'workers.sqlite3'}", "SECRET_KEY": secrets.token_hex(16)}
    flask_cli(env, "init")
    created = 0
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")
    with Clients(CLIENTS, time.time() + 3600) as clients:
        for round_ in range(1, args.rounds + 1):
            for name, settings in CONFIGURATIONS.items():
                for key in ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"):  # gunicorn.conf.py reads them here too
                    os.environ.pop(key, None)
                os.environ.update(settings)
                # A token per server: a stopped server's workers keep the rate-limit leases they
                # took, and a dozen servers in a row would use up even the bench's lifted burst.
                token = flask_cli(env, "token", "create", "--org", "Contoso", "--label", name).strip()
                headers = {"Authorization": f"Bearer {token}"}
                with Gunicorn(APP, env={**env, **settings}, log_path=workdir / "gunicorn.log") as server:
                    users = [(number, entra.user_name(number), number) for number in range(created, created + args.users)]
                    created += args.users
                    clients.run(server.port, entra.user_creates, deal(users[:WARMUP_USERS], CLIENTS), headers=headers)
                    sync = clients.run(server.port, entra.user_creates, deal(users[WARMUP_USERS:], CLIENTS), headers=headers)
                    names = [entra.user_name(number) for number in range(0, created, 3)][: args.users * 2]
                    lookups = clients.run(server.port, entra.lookups, deal(names, CLIENTS), headers=headers)
                print(f"round {round_}, {name}: {(args.users - WARMUP_USERS) / sync.seconds:.0f} users/s, lookup p95"
                      f" {percentile(lookups.latencies['filter'], 95):.1f} ms, load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
