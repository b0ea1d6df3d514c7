"""Where the app is reached: the SCIM and read-API base paths, whether a request is for one of
them, and the Tenant URL an admin pastes into Entra or Okta."""
from __future__ import annotations

from flask import current_app, request

SCIM_PREFIX = "/scim_v2"
API_PREFIX = "/api/v1"


def is_scim_request() -> bool:
    return request.path == SCIM_PREFIX or request.path.startswith(SCIM_PREFIX + "/")


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def tenant_url() -> str:
    """The Tenant URL an admin pastes into Entra or Okta, and the base of every meta.location."""
    base = current_app.config.get("PUBLIC_URL") or request.url_root.rstrip("/")
    return base + SCIM_PREFIX
