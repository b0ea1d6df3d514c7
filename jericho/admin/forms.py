"""The admin pages' forms. Flask-WTF adds a CSRF token to every form that posts."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField, IntegerField, PasswordField, RadioField, SelectMultipleField, StringField, SubmitField, URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..storage.accounts import EMAIL_PATTERN, MIN_PASSWORD_LENGTH

EMAIL_MESSAGE = "Enter an email address, like it@contoso.com."


def strip(value):
    return value.strip() if isinstance(value, str) else value


class SetupForm(FlaskForm):
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


class SignInForm(FlaskForm):
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


class TokenForm(FlaskForm):
    label = StringField(
        "Label",
        validators=[Optional(), Length(max=200)],
        filters=[strip],
        description="A note to tell tokens apart, e.g. “Entra production”.",
        default="Entra",
    )
    submit = SubmitField("Generate token")


class TokenReplaceForm(TokenForm):
    """A new token while others are active: the admin says what happens to them."""

    old_tokens = RadioField(
        "What happens to the current token",
        choices=[
            SelectChoice(
                "revoke",
                "Revoke it now: Entra does not use it yet, or I will paste the new one at once.",
            ),
            SelectChoice(
                "keep",
                "Keep it working until I revoke it on the Tokens page (rotation without downtime).",
            ),
        ],
        validators=[Optional()],
    )


class EstimateForm(FlaskForm):
    """A GET form: how many objects are in scope, for an estimate of the first cycle."""

    class Meta:
        csrf = False

    assigned = IntegerField(
        "Users and groups in scope",
        validators=[Optional(), NumberRange(min=1, max=10_000_000)],
        description="Count assigned users, assigned groups and the members of those groups.",
        render_kw={"inputmode": "numeric"},
    )


class ApiKeyForm(FlaskForm):
    label = StringField(
        "Label",
        validators=[Optional(), Length(max=200)],
        filters=[strip],
        description="A note to tell keys apart, e.g. “Training platform”.",
    )
    submit = SubmitField("Create API key")


class WebhookForm(FlaskForm):
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
