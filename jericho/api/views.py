"""/scim_v2: the SCIM 2.0 service provider (RFC 7644) that Entra ID and Okta provision into.

Each view parses the request, calls `storage`, and answers application/scim+json. The bearer
token decides the organization; every storage call is scoped to it.
"""
from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request

from ..errors import SCIM_CONTENT_TYPE
from ..extensions import csrf
from ..scim import discovery, entra, okta
from ..scim.errors import (
    InvalidFilter,
    InvalidSyntax,
    InvalidValue,
    NotFound,
    NotSupported,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from ..scim.filter import Comparison, Expr, parse_filter, resolve_filter
from ..scim.filter_cost import ROUTINE_COST, check_filter_cost
from ..scim.patch import parse_patch_request
from ..scim.paths import AttrPath, parse_attr_list, parse_attr_path
from ..scim.resources import list_response, parse_search_request, select_served_attributes
from ..scim.schema import GROUP, USER, ResourceType
from ..storage import resources as storage
from ..storage.filters import indexed_attributes
from ..storage.models import utcnow
from ..storage.versions import version_matches
from ..urls import SCIM_PREFIX, tenant_url
from . import rate_limits
from .provisioning_log import note, note_change

bp = Blueprint("scim", __name__, url_prefix=SCIM_PREFIX)

COLLECTIONS = {"Users": USER, "Groups": GROUP}
COLLECTION = "<any(Users, Groups):collection>"
JSON_TYPES = ("application/scim+json", "application/json")
MAX_START_INDEX = 2**31


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # bearer-token API, no cookies
    app.register_blueprint(bp)


# -- resources -------------------------------------------------------------------------------


@bp.get(f"/{COLLECTION}")
def search_collection(collection: str):
    resource_type = COLLECTIONS[collection]
    args = request.args
    start_index, count = _integer_arg("startIndex"), _integer_arg("count")
    return _search(
        [resource_type],
        filter_text=args.get("filter"),
        sort_by=parse_attr_path(args["sortBy"]) if args.get("sortBy") else None,
        sort_order=args.get("sortOrder"),
        start_index=start_index,
        count=count,
        attributes=parse_attr_list(args.get("attributes")),
        excluded=parse_attr_list(args.get("excludedAttributes")),
        connection_test=resource_type is USER and okta.is_test_connector_request(
            user_agent=request.headers.get("User-Agent"), filtered="filter" in args,
            start_index=start_index, count=count),
    )


@bp.post(f"/{COLLECTION}/.search")
@bp.post("/.search")
def search_post(collection: str | None = None):
    """RFC 7644 §3.4.3; at the root, across every resource type."""
    body = parse_search_request(_json_body())
    types = [COLLECTIONS[collection]] if collection else list(COLLECTIONS.values())
    return _search(
        types,
        filter_text=body["filter"],
        sort_by=body["sortBy"],
        sort_order=body["sortOrder"],
        start_index=body["startIndex"],
        count=body["count"],
        attributes=body["attributes"],
        excluded=body["excludedAttributes"],
    )


@bp.post(f"/{COLLECTION}")
def create(collection: str):
    resource_type = COLLECTIONS[collection]
    body = _json_body()
    # Named in the log even when the create is refused (a 409 names the duplicate).
    label = body.get("userName") or body.get("displayName") if isinstance(body, dict) else None
    note("create", f"create {resource_type.name.lower()} {label or ''}".strip(), resource_type=resource_type.name)
    written = storage.resource_create(
        g.organization_id, resource_type, body, base_url=tenant_url(), max_members=_max_members()
    )
    note_change(written.change)
    response = _resource_response(written.resource, written.resource, status=201)
    response.headers["Location"] = written.resource["meta"]["location"]
    return response


@bp.get(f"/{COLLECTION}/<scim_id>")
def read(collection: str, scim_id: str):
    resource_type = COLLECTIONS[collection]
    note("read", f"read {resource_type.name.lower()} {scim_id}", resource_type=resource_type.name, resource_id=scim_id)
    attributes, excluded = _selection_args()
    resource = storage.resource_read(
        g.organization_id, resource_type, scim_id, base_url=tenant_url(), expand=_expand(attributes, excluded)
    )
    if version_matches(resource["meta"]["version"], request.headers.get("If-None-Match")):
        return _no_content(304, ETag=resource["meta"]["version"])
    selected = select_served_attributes(resource, resource_type, attributes=attributes, excluded=excluded)
    return _resource_response(selected, resource)


@bp.put(f"/{COLLECTION}/<scim_id>")
def replace_resource(collection: str, scim_id: str):
    resource_type = COLLECTIONS[collection]
    note("update", f"replace {resource_type.name.lower()} {scim_id}", resource_type=resource_type.name,
         resource_id=scim_id)
    written = storage.resource_replace(
        g.organization_id, resource_type, scim_id, _json_body(),
        base_url=tenant_url(), if_match=request.headers.get("If-Match"), max_members=_max_members(),
    )
    note_change(written.change)
    return _resource_response(written.resource, written.resource)


@bp.patch(f"/{COLLECTION}/<scim_id>")
def patch(collection: str, scim_id: str):
    resource_type = COLLECTIONS[collection]
    note("update", f"update {resource_type.name.lower()} {scim_id}", resource_type=resource_type.name,
         resource_id=scim_id)
    operations = parse_patch_request(_json_body())
    attributes, excluded = _selection_args()
    # Users: 200 with the resource. Groups: 204, unless the client asked for attributes — a large
    # group is never serialised just to answer a PATCH (RFC 7644 §3.5.2 allows either).
    wants_body = resource_type is USER or bool(attributes or excluded)
    written = storage.resource_patch(
        g.organization_id, resource_type, scim_id, operations,
        base_url=tenant_url(), if_match=request.headers.get("If-Match"), max_members=_max_members(),
        expand=_expand(attributes, excluded) if wants_body else None,
    )
    note_change(written.change)
    if written.resource is None:
        return _no_content()
    selected = select_served_attributes(written.resource, resource_type, attributes=attributes, excluded=excluded)
    return _resource_response(selected, written.resource)


@bp.delete(f"/{COLLECTION}/<scim_id>")
def delete(collection: str, scim_id: str):
    resource_type = COLLECTIONS[collection]
    note("delete", f"delete {resource_type.name.lower()} {scim_id}", resource_type=resource_type.name,
         resource_id=scim_id)
    change = storage.resource_delete(
        g.organization_id, resource_type, scim_id, if_match=request.headers.get("If-Match")
    )
    note_change(change)
    return _no_content()


# -- discovery (RFC 7644 §4) -----------------------------------------------------------------


@bp.get("/ServiceProviderConfig")
def service_provider_config():
    note("discovery", "read ServiceProviderConfig")
    return _scim_response(discovery.service_provider_config(
        base_url=tenant_url(),
        max_results=current_app.config["SCIM_MAX_PAGE_SIZE"],
        max_payload_bytes=current_app.config["MAX_CONTENT_LENGTH"],
    ))


@bp.get("/Schemas")
def schemas():
    note("discovery", "read Schemas")
    return _listing(discovery.schemas(tenant_url()))


@bp.get("/Schemas/<path:urn>")
def schema(urn: str):
    note("discovery", f"read Schema {urn}")
    return _scim_response(_found(discovery.schema(urn, tenant_url()), f"schema {urn}"))


@bp.get("/ResourceTypes")
def resource_types():
    note("discovery", "read ResourceTypes")
    return _listing(discovery.resource_types(tenant_url()))


@bp.get("/ResourceTypes/<name>")
def resource_type(name: str):
    note("discovery", f"read ResourceType {name}")
    return _scim_response(_found(discovery.resource_type(name, tenant_url()), f"resource type {name}"))


@bp.route("/Me", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/Bulk", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_supported():
    raise NotSupported(f"{request.path.removeprefix(SCIM_PREFIX)} is not supported by this service provider")


# -- helpers ---------------------------------------------------------------------------------


def _search(
    types: list[ResourceType],
    *,
    filter_text: str | None,
    sort_by: AttrPath | None,
    sort_order: str | None,
    start_index: int | None,
    count: int | None,
    attributes: list[AttrPath],
    excluded: list[AttrPath],
    connection_test: bool = False,
):
    config = current_app.config
    if sort_order is not None and sort_order.lower() not in ("ascending", "descending"):
        raise InvalidValue('sortOrder must be "ascending" or "descending"')
    # RFC 7644 §3.4.2.4: startIndex below 1 is 1; a negative count is 0; the server caps count.
    # A startIndex past any number of rows finds an empty page: capped, it fits SQL's OFFSET.
    search = storage.Search(
        sort_by=sort_by,
        descending=(sort_order or "").lower() == "descending",
        start_index=min(max(start_index or 1, 1), MAX_START_INDEX),
        count=min(max(config["SCIM_DEFAULT_PAGE_SIZE"] if count is None else count, 0), config["SCIM_MAX_PAGE_SIZE"]),
    )
    expr = _parse_filter(filter_text) if filter_text is not None else None
    _note_search(types, expr, connection_test=connection_test)
    resolved = _resolve_for_each(types, expr)
    costs = [check_filter_cost(type_filter, resource_type, indexed=indexed_attributes(resource_type),
                               max_cost=config["SCIM_MAX_FILTER_COST"])
             for resource_type, type_filter in resolved if type_filter is not None]
    if max(costs, default=0) > ROUTINE_COST:
        rate_limits.limit_expensive_filter(g.organization_id, now=utcnow())
    expand = _expand(attributes, excluded)
    resources, total, offset, remaining = [], 0, search.start_index - 1, search.count
    for resource_type, type_filter in resolved:
        page = storage.resource_search(
            g.organization_id, resource_type,
            replace(search, filter=type_filter, start_index=max(offset - total, 0) + 1, count=remaining),
            base_url=tenant_url(), expand=expand,
        )
        resources += [select_served_attributes(r, resource_type, attributes=attributes, excluded=excluded)
                      for r in page.resources]
        remaining -= len(page.resources)
        total += page.total
    return _scim_response(list_response(resources, total=total, start_index=search.start_index))


def _parse_filter(text: str) -> Expr:
    return parse_filter(text, max_length=current_app.config["SCIM_MAX_FILTER_LENGTH"])


def _resolve_for_each(types: list[ResourceType], expr: Expr | None) -> list[tuple[ResourceType, Expr | None]]:
    """Resolve the filter for each resource type searched. At the root (RFC 7644 §3.4.3) a type
    whose schema lacks the filtered attribute simply matches nothing."""
    if expr is None:
        return [(resource_type, None) for resource_type in types]
    resolved, first_error = [], None
    for resource_type in types:
        try:
            resolved.append((resource_type, resolve_filter(expr, resource_type)))
        except InvalidFilter as error:
            first_error = first_error or error
    if not resolved:
        raise first_error
    return resolved


def _note_search(types: list[ResourceType], expr: Expr | None, *, connection_test: bool) -> None:
    noun = types[0].name.lower() if len(types) == 1 else "resource"
    resource_type = types[0].name if len(types) == 1 else None
    if connection_test:
        note("test_connection", "Test Connector Configuration: list of 2 users", resource_type=resource_type)
    elif expr is None:
        note("list", f"list {noun}s", resource_type=resource_type)
    elif entra.is_test_connection_lookup(expr):
        note("test_connection", "Test Connection: lookup of a random GUID", resource_type=resource_type)
    elif isinstance(expr, Comparison) and expr.op == "eq":
        note("lookup", f"look up {noun} {expr.value}", resource_type=resource_type)
    else:
        note("lookup", f"search {noun}s", resource_type=resource_type)


def _selection_args() -> tuple[list[AttrPath], list[AttrPath]]:
    return parse_attr_list(request.args.get("attributes")), parse_attr_list(request.args.get("excludedAttributes"))


def _expand(attributes: list[AttrPath], excluded: list[AttrPath]) -> storage.Expand:
    """Load members / groups only when the response will contain them (RFC 7644 §3.4.2.5):
    `excludedAttributes=members` never touches a group's member rows."""

    def returned(name: str) -> bool:
        if attributes:
            return any(path.name.lower() == name for path in attributes)
        return not any(path.name.lower() == name and path.sub is None for path in excluded)

    return storage.Expand(members=returned("members"), groups=returned("groups"))


def _integer_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidValue(f"{name} must be an integer, not {value!r}") from None


def _max_members() -> int:
    return current_app.config["SCIM_MAX_MEMBERS_PER_REQUEST"]


def _json_body() -> Any:
    """The request body as JSON. Entra sends application/scim+json (ENTRA.md §2); plain
    application/json and a missing Content-Type are accepted too."""
    if request.mimetype and request.mimetype not in JSON_TYPES and not request.mimetype.endswith("+json"):
        raise UnsupportedMediaType(f"send application/scim+json, not {request.mimetype}")
    data = request.get_data(cache=False)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and limit is not None and len(data) >= limit:
        # A body without Content-Length (chunked) is cut off at the limit by Werkzeug, silently.
        raise PayloadTooLarge(f"the request body must be smaller than {limit} bytes")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise InvalidSyntax("the request body is not valid JSON") from None
    _reject_unstorable_characters(body)
    return body


# U+0000, and the lone surrogates that JSON's \uD800-style escapes can produce: no database
# stores them in text reliably (PostgreSQL refuses NUL, and a surrogate is not valid UTF-8, so it
# would fail the write or, stored inside the JSON document, every later response listing it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _reject_unstorable_characters(body: Any) -> None:
    # Walked without recursion, so a deeply nested body cannot exhaust the stack.
    pending = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and _UNSTORABLE.search(value):
            raise InvalidValue("values must not contain NUL characters or unpaired surrogates")
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def _listing(documents: list[dict]) -> Response:
    return _scim_response(list_response(documents, total=len(documents), start_index=1))


def _found(document: dict | None, what: str) -> dict:
    if document is None:
        raise NotFound(f"no {what}")
    return document


def _resource_response(payload: dict, resource: dict, *, status: int = 200) -> Response:
    """One resource (`payload`, perhaps a selection of `resource`) with its ETag (RFC 7644 §3.14)."""
    response = _scim_response(payload, status=status)
    response.headers["ETag"] = resource["meta"]["version"]
    return response


def _no_content(status: int = 204, **headers: str) -> Response:
    # 204 and 304 have no content (RFC 9110 §15.3.5, §15.4.5), so no Content-Type: never text/html.
    response = Response(status=status, headers=headers)
    del response.headers["Content-Type"]
    return response


def _scim_response(payload: dict, *, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype=SCIM_CONTENT_TYPE)
