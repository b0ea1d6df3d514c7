"""The app under a real gunicorn: limits shared by every worker, the provisioning log stored when
a process stops, what gunicorn hands on of bodies and request lines, and tokens kept out of its
access log."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from jericho.extensions import db
from jericho.scim.errors import ERROR_URN
from jericho.storage.models import ProvisioningEvent

from conftest import new_token
from servers import running_server

MAX_BODY = 64 * 1024


def events(app):
    with app.app_context():
        return db.session.execute(db.select(ProvisioningEvent).order_by(ProvisioningEvent.id)).scalars().all()


def test_a_real_server_answers_chunked_oversized_and_long_requests_with_scim_errors(app, tmp_path):
    token = new_token(app)
    config = {"MAX_CONTENT_LENGTH": MAX_BODY}
    with running_server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, workers=2, config=config) as server:
        body = json.dumps({"userName": "big@contoso.com", "title": "x" * MAX_BODY}).encode()
        declared = server.scim("POST", "/Users", token, body=body, headers={"Content-Type": "application/scim+json"})
        assert declared.status == 413 and declared.json()["schemas"] == [ERROR_URN]

        # Chunked, without Content-Length: Werkzeug would cut it at the limit without a word.
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 4096]), body[i:i + 4096])
                          for i in range(0, len(body), 4096)) + b"0\r\n\r\n"
        head = (f"POST /scim_v2/Users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
            connection.sendall(head.encode() + chunks)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 413")
        assert json.loads(rest.partition(b"\r\n\r\n")[2])["schemas"] == [ERROR_URN]

        # A filter just over the default SCIM_MAX_FILTER_LENGTH (4096) still fits gunicorn's
        # request line (gunicorn.conf.py), so it gets the SCIM answer, not gunicorn's HTML 414.
        too_long = 'userName eq "' + "a b" * 1400 + '"'
        reply = server.scim("GET", "/Users?filter=" + quote(too_long), token)
        assert reply.status == 400 and reply.json()["scimType"] == "tooMany"
        assert server.scim("GET", "/Users", token).json()["totalResults"] == 0


def test_a_token_in_the_tenant_url_or_encoded_in_the_query_stays_out_of_the_access_log(app, tmp_path):
    token = new_token(app)
    secret = token.split("_", 2)[2]
    with running_server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, workers=1) as server:
        assert server.scim("GET", f"/{token}/Users", token).status == 404  # pasted into the Tenant URL
        assert server.scim("GET", f"/Users?access_token={token.replace('_', '%5F')}", token).status == 200
        assert server.request("GET", f"/{token}/Users").status in (302, 400, 404)  # outside /scim_v2
    log = server.log()
    assert f"/scim_v2/jer_{token.split('_')[1]}_[redacted]/Users" in log
    assert secret not in log and secret.replace("_", "%5F") not in log


def test_pending_events_are_stored_when_the_process_exits(app, scim, tmp_path):
    # Another process on the same database, batching, exits at once after one request.
    script = f"""
from pathlib import Path
from conftest import make_app
app = make_app(Path({str(tmp_path)!r}), DATABASE_URL={app.config["SQLALCHEMY_DATABASE_URI"]!r},
               PROVISIONING_LOG_FLUSH_SECONDS=60)
answer = app.test_client().get("/scim_v2/Users", headers={{"Authorization": "Bearer {scim.token}"}})
assert answer.status_code == 200, answer.data
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": ":".join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert [e.operation for e in events(app)] == ["list"]


def test_a_server_stores_every_pending_event_when_it_stops(app, scim, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with running_server(url, tmp_path, workers=2, config={"PROVISIONING_LOG_FLUSH_SECONDS": 60}) as server:
        for _ in range(6):
            assert server.scim("GET", "/Users", scim.token).status == 200
        assert events(app) == []
        server.process.terminate()  # gunicorn's graceful stop
        server.process.wait(60)
    assert [e.operation for e in events(app)] == ["list"] * 6


def test_limits_hold_across_four_gunicorn_workers(app, tmp_path):
    """Requests spread over 4 worker processes, 8 at a time, share one allowance exactly."""
    token = new_token(app)
    config = {
        "RATE_LIMIT_TOKEN_PER_SECOND": 0.001, "RATE_LIMIT_TOKEN_BURST": 10,
        "RATE_LIMIT_FAILED_AUTH_PER_SECOND": 0.001, "RATE_LIMIT_FAILED_AUTH_BURST": 5,
    }
    with running_server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, config=config) as server:
        with ThreadPoolExecutor(8) as pool:
            good = list(pool.map(lambda _: server.scim("GET", "/Users", token), range(30)))
            bad = list(pool.map(lambda _: server.scim("GET", "/Users", "wrong"), range(20)))
    assert sorted(reply.status for reply in good) == [200] * 10 + [429] * 20
    assert sorted(reply.status for reply in bad) == [401] * 5 + [429] * 15
    refused = next(reply for reply in good if reply.status == 429)
    assert refused.headers["Content-Type"].startswith("application/scim+json")
    assert refused.json()["status"] == "429" and int(refused.headers["Retry-After"]) > 900
