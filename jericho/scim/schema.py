"""The schemas this service provider implements (RFC 7643 §3.1, §4, §8.7) as data: the single
source for path resolution, filtering, validation and the /Schemas documents."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from .errors import InvalidPath
from .paths import AttrPath

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
SERVICE_PROVIDER_CONFIG_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"


@dataclass(frozen=True)
class Attribute:
    # RFC 7643 §7 attribute characteristics, with the §2.2 defaults.
    name: str
    type: str  # "string" "boolean" "decimal" "integer" "dateTime" "reference" "complex" "binary"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    description: str = ""

    def sub(self, name: str) -> Attribute | None:
        return self._subs_by_name.get(name.lower())

    @cached_property
    def _subs_by_name(self) -> dict[str, Attribute]:
        return _by_name(self.sub_attributes)


@dataclass(frozen=True)
class Schema:
    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        return self._by_name.get(name.lower())

    @cached_property
    def _by_name(self) -> dict[str, Attribute]:
        return _by_name(self.attributes)


def _by_name(attributes: tuple[Attribute, ...]) -> dict[str, Attribute]:
    """Attributes by lower-cased name (RFC 7643 §2.1: names are case-insensitive); built once per
    schema, since every attribute of every request is looked up."""
    return {attribute.name.lower(): attribute for attribute in reversed(attributes)}  # the first wins


def _multi_valued(name: str, description: str, *, value: Attribute | None = None,
                  types: tuple[str, ...] = ()) -> Attribute:
    # RFC 7643 §2.4: the conventional sub-attributes of a multi-valued attribute.
    return Attribute(name, "complex", multi_valued=True, description=description, sub_attributes=(
        value or Attribute("value", "string", description=f"The value of the {name} entry."),
        Attribute("display", "string", description="A human-readable name, primarily for display."),
        Attribute("type", "string", canonical_values=types,
                  description="A label indicating the attribute's function."),
        Attribute("primary", "boolean", description="Whether this is the preferred value of the attribute."),
    ))


# RFC 7643 §3 and §3.1: in every resource, outside any schema. `id` and `externalId` are caseExact,
# so a filter on them (Entra matches on externalId, ENTRA.md §4) compares exactly.
COMMON_ATTRIBUTES = (
    Attribute("schemas", "reference", multi_valued=True, required=True, returned="always",
              reference_types=("uri",), description="The schema URIs the resource conforms to."),
    Attribute("id", "string", case_exact=True, mutability="readOnly", returned="always", uniqueness="server",
              description="Unique identifier for the resource, assigned by the service provider."),
    Attribute("externalId", "string", case_exact=True,
              description="Identifier of the resource as defined by the provisioning client."),
    Attribute("meta", "complex", mutability="readOnly", description="Resource metadata.", sub_attributes=(
        Attribute("resourceType", "string", case_exact=True, mutability="readOnly"),
        Attribute("created", "dateTime", mutability="readOnly"),
        Attribute("lastModified", "dateTime", mutability="readOnly"),
        Attribute("location", "reference", case_exact=True, mutability="readOnly", reference_types=("uri",)),
        Attribute("version", "string", case_exact=True, mutability="readOnly"),
    )),
)

_NAME_PARTS = (
    ("formatted", "The full name, formatted for display."),
    ("familyName", "The family name, or last name."),
    ("givenName", "The given name, or first name."),
    ("middleName", "The middle name(s)."),
    ("honorificPrefix", "The honorific prefix(es), or title."),
    ("honorificSuffix", "The honorific suffix(es)."),
)

_ADDRESS_PARTS = (
    ("formatted", "The full mailing address, formatted for display."),
    ("streetAddress", "The full street address component."),
    ("locality", "The city or locality component."),
    ("region", "The state or region component."),
    ("postalCode", "The zip code or postal code component."),
    ("country", "The country name component, ISO 3166-1 alpha-2."),
)

# RFC 7643 §4.1 and §8.7.1.
USER_SCHEMA = Schema(USER_URN, "User", "User Account", (
    Attribute("userName", "string", required=True, uniqueness="server",
              description="Unique identifier for the User, used to authenticate."),
    Attribute("name", "complex", description="The components of the user's real name.",
              sub_attributes=tuple(Attribute(part, "string", description=text)
                                   for part, text in _NAME_PARTS)),
    Attribute("displayName", "string", description="The name of the User, suitable for display."),
    Attribute("nickName", "string", description="The casual way to address the user."),
    Attribute("profileUrl", "reference", reference_types=("external",),
              description="A fully qualified URL pointing to the User's online profile."),
    Attribute("title", "string", description="The user's title, such as \"Vice President\"."),
    Attribute("userType", "string", description="The relationship between the organization and the user."),
    Attribute("preferredLanguage", "string", description="The User's preferred written or spoken language."),
    Attribute("locale", "string", description="The User's default location for localisation."),
    Attribute("timezone", "string", description="The User's time zone, in IANA Time Zone database format."),
    Attribute("active", "boolean", description="The User's administrative status."),
    Attribute("password", "string", mutability="writeOnly", returned="never",
              description="The User's cleartext password; never returned."),
    _multi_valued("emails", "Email addresses for the user.", types=("work", "home", "other")),
    _multi_valued("phoneNumbers", "Phone numbers for the User.",
                  types=("work", "home", "mobile", "fax", "pager", "other")),
    _multi_valued("ims", "Instant messaging addresses for the User.",
                  types=("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
    _multi_valued("photos", "URLs of photos of the User.", types=("photo", "thumbnail"),
                  value=Attribute("value", "reference", reference_types=("external",),
                                  description="URL of a photo.")),
    Attribute("addresses", "complex", multi_valued=True,
              description="A physical mailing address for this User.",
              sub_attributes=(
                  *(Attribute(part, "string", description=text) for part, text in _ADDRESS_PARTS),
                  Attribute("type", "string", canonical_values=("work", "home", "other"),
                            description="A label indicating the attribute's function."),
                  Attribute("primary", "boolean",
                            description="Whether this is the preferred mailing address."),
              )),
    # Managed through the Group resource (RFC 7643 §4.1.2), hence read-only here.
    Attribute("groups", "complex", multi_valued=True, mutability="readOnly",
              description="Groups to which the user belongs.", sub_attributes=(
                  Attribute("value", "string", case_exact=True, mutability="readOnly",
                            description="The identifier of the User's group."),
                  Attribute("$ref", "reference", case_exact=True, mutability="readOnly",
                            reference_types=("User", "Group"), description="The URI of the Group resource."),
                  Attribute("display", "string", mutability="readOnly",
                            description="The group's displayName."),
                  Attribute("type", "string", mutability="readOnly", canonical_values=("direct", "indirect"),
                            description="How the membership was derived."),
              )),
    _multi_valued("entitlements", "A list of entitlements for the User."),
    _multi_valued("roles", "A list of roles for the User."),
    _multi_valued("x509Certificates", "A list of certificates issued to the User.",
                  value=Attribute("value", "binary", description="The DER-encoded, base64 certificate.")),
))

# RFC 7643 §4.3 and §8.7.1.
ENTERPRISE_USER_SCHEMA = Schema(ENTERPRISE_USER_URN, "EnterpriseUser", "Enterprise User", (
    Attribute("employeeNumber", "string",
              description="Numeric or alphanumeric identifier assigned to a person."),
    Attribute("costCenter", "string", description="Identifies the name of a cost center."),
    Attribute("organization", "string", description="Identifies the name of an organization."),
    Attribute("division", "string", description="Identifies the name of a division."),
    Attribute("department", "string", description="Identifies the name of a department."),
    Attribute("manager", "complex", description="The User's manager.", sub_attributes=(
        Attribute("value", "string", case_exact=True,
                  description="The id of the SCIM resource representing the manager."),
        Attribute("$ref", "reference", case_exact=True, reference_types=("User",),
                  description="The URI of the SCIM resource representing the manager."),
        Attribute("displayName", "string", mutability="readOnly",
                  description="The displayName of the manager."),
    )),
))

# RFC 7643 §4.2 and §8.7.1. displayName is required and unique: Entra matches groups on it and
# requires it to be unique (ENTRA.md §1.2).
GROUP_SCHEMA = Schema(GROUP_URN, "Group", "Group", (
    Attribute("displayName", "string", required=True, uniqueness="server",
              description="A human-readable name for the Group."),
    Attribute("members", "complex", multi_valued=True, description="A list of members of the Group.",
              sub_attributes=(
                  Attribute("value", "string", case_exact=True, mutability="immutable",
                            description="Identifier of the member of this Group."),
                  Attribute("$ref", "reference", case_exact=True, mutability="immutable",
                            reference_types=("User", "Group"), description="The URI of the member resource."),
                  Attribute("type", "string", mutability="immutable", canonical_values=("User", "Group"),
                            description="The type of the member."),
                  Attribute("display", "string", mutability="readOnly",
                            description="The member's display name."),
              )),
))


@dataclass(frozen=True)
class ResourceType:
    name: str
    endpoint: str
    schema: Schema
    extensions: tuple[Schema, ...]

    def resolve(self, path: AttrPath) -> tuple[str, Attribute, Attribute | None]:
        for urn, attributes in self._scopes(path.schema):
            attribute = attributes.get(path.name.lower())
            if attribute is not None:
                break
        else:
            raise InvalidPath(f"unknown attribute '{path}' for {self.name} resources")
        if path.sub is None:
            return urn, attribute, None
        sub = attribute.sub(path.sub)
        if sub is None:
            raise InvalidPath(
                f"unknown attribute '{path}': '{attribute.name}' has no sub-attribute '{path.sub}'")
        return urn, attribute, sub

    def extension(self, urn: str) -> Schema | None:
        # RFC 7643 §2.1: schema URNs compare case-insensitively.
        return next((extension for extension in self.extensions if extension.id.lower() == urn.lower()), None)

    def _scopes(self, urn: str | None) -> list[tuple[str, dict[str, Attribute]]]:
        # Schema URNs compare case-insensitively (RFC 7643 §2.1).
        if urn is None:
            return self._all_scopes
        return [scope for scope in self._all_scopes if scope[0].lower() == urn.lower()]

    @cached_property
    def _all_scopes(self) -> list[tuple[str, dict[str, Attribute]]]:
        # Unqualified names are looked up in the core schema (with the common attributes), then in
        # each extension (RFC 7644 §3.10), so Entra's unqualified `manager` (ENTRA.md §3.3) is found.
        return [(self.schema.id, _by_name(self.schema.attributes + COMMON_ATTRIBUTES)),
                *((extension.id, _by_name(extension.attributes)) for extension in self.extensions)]


USER = ResourceType("User", "/Users", USER_SCHEMA, (ENTERPRISE_USER_SCHEMA,))
GROUP = ResourceType("Group", "/Groups", GROUP_SCHEMA, ())


def timestamp(moment: datetime) -> str:
    # RFC 7643 §2.3.5; a naive datetime (as SQLite returns it) is UTC.
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
