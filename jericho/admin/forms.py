"""The admin pages' forms. Flask-WTF adds a CSRF token to every form that posts, and `Form` refuses
NUL characters in every field."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..providers import PROVIDERS
from ..scim.document import EMAIL_PATTERN
from ..storage.accounts import MIN_PASSWORD_LENGTH
from ..text import time_zone_names

EMAIL_MESSAGE = "Enter an email address, like it@contoso.com."


def strip(value):
    return value.strip() if isinstance(value, str) else value


def refuse_nul(form: FlaskForm, field) -> None:
    if any(isinstance(value, str) and "\x00" in value for value in field.raw_data or ()):
        raise ValidationError("Remove the NUL character from this field: it cannot be stored.")


def whole_number_between(low: int, high: int):
    """NumberRange for an IntegerField: WTForms' own makes the number a float to look for NaN,
    which fails on a number of hundreds of digits."""

    def check(form: FlaskForm, field) -> None:
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(f"Number must be between {low} and {high}.")

    return check


class Form(FlaskForm):
    """Every admin form. A NUL character typed or pasted into a field is that field's error: no
    database stores one (PostgreSQL refuses it even in a query)."""

    def validate(self, extra_validators=None) -> bool:
        extra = dict(extra_validators or {})
        return super().validate({name: [*extra.get(name, ()), refuse_nul] for name in self._fields})


class SetupForm(Form):
    setup_code = StringField(
        "Setup code",
        validators=[DataRequired()],
        filters=[strip],
        description="The server writes it to its log when it starts.",
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
    organization = StringField(
        "Organization name",
        validators=[DataRequired(), Length(max=200)],
        filters=[strip],
        description="Your company, as the admin pages should show it.",
        render_kw={"autocomplete": "organization"},
    )
    email = EmailField(
        "Your email address",
        validators=[DataRequired(), Regexp(EMAIL_PATTERN, message=EMAIL_MESSAGE)],
        filters=[strip],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH},
    )
    confirm = PasswordField(
        "Password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Create organization and admin")


class SignInForm(Form):
    email = EmailField(
        "Email address",
        validators=[DataRequired()],
        filters=[strip],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    submit = SubmitField("Sign in")


class TokenForm(Form):
    label = StringField(
        "Label",
        validators=[Optional(), Length(max=200)],
        filters=[strip],
        description="A note to tell tokens apart, e.g. “production”.",
    )
    submit = SubmitField("Generate token")


class TokenReplaceForm(TokenForm):
    """A new token while others are active: the admin says what happens to them."""

    old_tokens = RadioField(
        "What happens to the current token",
        choices=[
            SelectChoice(
                "revoke",
                "Revoke it now: it is not in use yet, or I will paste the new one at once.",
            ),
            SelectChoice(
                "keep",
                "Keep it working until I revoke it on the Tokens page (rotation without downtime).",
            ),
        ],
        validators=[Optional()],
    )


class TimeZoneForm(Form):
    time_zone = SelectField(
        "Show times in",
        description="Pages show every time in this zone, with its offset from UTC. CSV exports stay in "
        "UTC (ISO 8601).",
    )
    submit = SubmitField("Save time zone")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone.choices = [(name, name.replace("_", " ")) for name in time_zone_names()]


class ProviderForm(Form):
    provider = RadioField(
        "Your identity provider",
        choices=[SelectChoice(provider.key, provider.name) for provider in PROVIDERS.values()],
        validators=[DataRequired(message="Choose your identity provider.")],
    )
    submit = SubmitField("Use these steps")


class EstimateForm(Form):
    """A GET form: how many objects are in scope, for an estimate of the first cycle."""

    class Meta:
        csrf = False

    assigned = IntegerField(
        "Users and groups in scope",
        # Checked once the form is sent (wizard.views.step): sent empty, it asks for the number.
        validators=[
            InputRequired(message="Enter how many users and groups are in scope."),
            whole_number_between(1, 10_000_000),
        ],
        description="Count assigned users, assigned groups and the members of those groups.",
        render_kw={"inputmode": "numeric"},
    )


class ApiKeyForm(Form):
    label = StringField(
        "Label",
        validators=[Optional(), Length(max=200)],
        filters=[strip],
        description="A note to tell keys apart, e.g. “Training platform”.",
    )
    submit = SubmitField("Create API key")


class WebhookForm(Form):
    url = URLField(
        "Endpoint URL",
        validators=[DataRequired(message="Enter the URL that receives the events."), Length(max=2000)],
        filters=[strip],
        description="https://… on the consuming product: each event is POSTed there, signed.",
        render_kw={"autocomplete": "off", "spellcheck": "false", "placeholder": "https://"},
    )
    events = SelectMultipleField(
        "Events",
        choices=[
            SelectChoice("user.*", "User events: created, updated, deactivated, reactivated, deleted"),
            SelectChoice("group.*", "Group events: created, updated, deleted, and each member added or removed"),
        ],
        default=["user.*", "group.*"],
        validators=[DataRequired(message="Choose the events to send.")],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    submit = SubmitField("Add endpoint")
