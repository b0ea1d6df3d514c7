"""Where the app is reached: the SCIM base path, whether a request is for it, and the Tenant URL
an admin pastes into Entra."""
from __future__ import annotations

from flask import current_app, request

SCIM_PREFIX = "/scim_v2"


def is_scim_request() -> bool:
    return request.path == SCIM_PREFIX or request.path.startswith(SCIM_PREFIX + "/")


def tenant_url() -> str:
    """The Tenant URL an admin pastes into Entra, and the base of every meta.location."""
    base = current_app.config.get("PUBLIC_URL") or request.url_root.rstrip("/")
    return base + SCIM_PREFIX
