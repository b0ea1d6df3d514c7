import pytest

from jericho.scim import errors
from jericho.scim.errors import ERROR_URN, ScimError


@pytest.mark.parametrize(("error", "status", "scim_type"), [
    (errors.InvalidFilter, 400, "invalidFilter"),
    (errors.TooMany, 400, "tooMany"),
    (errors.Uniqueness, 409, "uniqueness"),
    (errors.Mutability, 400, "mutability"),
    (errors.InvalidSyntax, 400, "invalidSyntax"),
    (errors.InvalidPath, 400, "invalidPath"),
    (errors.NoTarget, 400, "noTarget"),
    (errors.InvalidValue, 400, "invalidValue"),
    (errors.InvalidVersion, 400, "invalidVers"),
    (errors.Sensitive, 403, "sensitive"),
])
def test_rfc7644_3_12_scim_types(error, status, scim_type):
    raised = error("bad")
    assert isinstance(raised, ScimError)
    assert (raised.status, raised.scim_type, raised.detail) == (status, scim_type, "bad")


@pytest.mark.parametrize(("error", "status"), [
    (errors.Unauthorized, 401), (errors.Forbidden, 403), (errors.NotFound, 404),
    (errors.MethodNotAllowed, 405), (errors.PreconditionFailed, 412), (errors.PayloadTooLarge, 413),
    (errors.UnsupportedMediaType, 415), (errors.TooManyRequests, 429), (errors.InternalError, 500),
    (errors.NotSupported, 501),
])
def test_status_only_errors_have_no_scim_type(error, status):
    raised = error("nope")
    assert raised.status == status
    assert "scimType" not in raised.to_dict()


def test_rfc7644_3_12_error_body_has_status_as_string():
    assert errors.Uniqueness("userName 'ava' is taken").to_dict() == {
        "schemas": [ERROR_URN],
        "status": "409",
        "scimType": "uniqueness",
        "detail": "userName 'ava' is taken",
    }


def test_entra_404_body():
    # ENTRA.md §3.3: only the status matters, but it must be a SCIM error with a string status.
    assert errors.NotFound("User 'x' not found").to_dict() == {
        "schemas": [ERROR_URN], "status": "404", "detail": "User 'x' not found"}


def test_instance_overrides_class_defaults_without_changing_them():
    raised = errors.InvalidValue("x", status=409, scim_type="uniqueness")
    assert (raised.status, raised.scim_type) == (409, "uniqueness")
    assert (errors.InvalidValue.status, errors.InvalidValue.scim_type) == (400, "invalidValue")


def test_message_is_the_detail():
    assert str(errors.InvalidPath("bad path")) == "bad path"
