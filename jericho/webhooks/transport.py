"""One webhook POST with the standard library's http.client, to an address already checked
(addresses.py): the connection goes to that address, while the Host header, TLS's SNI and the
certificate check use the URL's host name. Redirects are not followed (a 3xx is a failure), and
of the answer only the status line and a short excerpt of the body are read and kept."""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from datetime import datetime

from ..storage.deliveries import Attempt
from .addresses import Address, Target

EXCERPT_BYTES = 512
EXCERPT_CHARACTERS = 200


class _PinnedConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, address: Address, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedTlsConnection(_PinnedConnection):
    context = ssl.create_default_context()  # certificates checked against the host name

    def connect(self) -> None:
        super().connect()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)


def post(target: Target, addresses: list[Address], body: bytes, headers: dict[str, str], *, timeout: float,
         at: datetime) -> Attempt:
    """POST `body` to the first of `addresses` that accepts a connection; each step waits at most
    until `timeout` seconds have passed since the start (`at`, as the log shows it)."""
    started = time.monotonic()

    def attempt(status: int | None, error: str | None, excerpt: str | None = None) -> Attempt:
        return Attempt(at, status, error, excerpt, round((time.monotonic() - started) * 1000, 1))

    error = "no address to connect to"
    for address in addresses:
        remaining = timeout - (time.monotonic() - started)
        if remaining <= 0:
            break
        connection_class = _PinnedTlsConnection if target.scheme == "https" else _PinnedConnection
        connection = connection_class(target, address, timeout=remaining)
        try:
            connection.connect()
            connection.request("POST", target.path, body=body, headers=headers)
            connection.sock.settimeout(max(timeout - (time.monotonic() - started), 0.001))
            response = connection.getresponse()
            excerpt = _excerpt(response.read(EXCERPT_BYTES))
        except (TimeoutError, socket.timeout):
            return attempt(None, f"no answer within {timeout:g} s")
        except ssl.SSLError as failure:
            return attempt(None, f"TLS failed: {_first_line(failure)}")
        except http.client.HTTPException as failure:
            return attempt(None, f"not an HTTP answer ({type(failure).__name__})")
        except OSError as failure:  # refused, reset, unreachable: the next address may answer
            error = f"could not connect to {address}: {_first_line(failure)}"
            continue
        finally:
            connection.close()
        status = response.status
        failed = None if 200 <= status < 300 else f"answered {status} {response.reason}"[:100]
        return attempt(status, failed, excerpt)
    return attempt(None, error)


def _excerpt(data: bytes) -> str | None:
    # Text only, on one line: the log shows it escaped, and never more than this.
    text = " ".join(data.decode("utf-8", "replace").split())
    text = "".join(character for character in text if character.isprintable())
    return text[:EXCERPT_CHARACTERS] or None


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:120]
