"""Adding a webhook endpoint: the URL checked (its form, then every address its host resolves to,
outside any database transaction), the secret's salt drawn, the endpoint stored, and its signing
secret returned to be shown once."""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from ..storage.consumer_models import WebhookEndpoint
from ..storage.webhooks import webhook_endpoint_create
from .addresses import checked_addresses, parse_url
from .signing import derive_secret, new_salt


def endpoint_add(
    *, organization_id: int, url: str, events: str, now: datetime, admin_id: int | None = None,
    remote_addr: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """WebhookUrlError when webhooks may not reach the URL; AccountError for the events."""
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"]
    checked_addresses(parse_url(url, allow_private=allow_private), allow_private=allow_private)
    salt = new_salt()
    endpoint = webhook_endpoint_create(organization_id=organization_id, url=url, events=events, secret_salt=salt,
                                       admin_id=admin_id, remote_addr=remote_addr, now=now)
    return endpoint, derive_secret(current_app.config["SECRET_KEY"], salt)
