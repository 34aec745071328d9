"""The dashboard's forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from tracker.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class LanguageForm(FlaskForm):
    language = HiddenField(validators=[InputRequired()])


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class RecordForm(FlaskForm):
    text = TextAreaField(
        _l("What you heard"),
        validators=[DataRequired(), Length(max=10_000)],
        render_kw={"rows": 3, "placeholder": _l("2: in progress 60%, waiting for the budget")},
    )


class PauseForm(FlaskForm):
    until = DateField(_l("Resume on (optional)"), validators=[Optional()])


class RemindForm(FlaskForm):
    # One key per rendered form: sending the form twice plans one reminder.
    nonce = HiddenField(validators=[DataRequired(), Length(min=8, max=64)])

    @classmethod
    def fresh(cls) -> RemindForm:
        return cls(nonce=secrets.token_urlsafe(12))


class AssignForm(FlaskForm):
    # Whether the participant is one of the programme's is the authorising loader's to say.
    participant = SelectField(
        _l("Participant"), coerce=int, validate_choice=False, validators=[InputRequired()]
    )


class ChangeEmailForm(FlaskForm):
    email = EmailField(_l("New address"), validators=[DataRequired(), Length(max=320)])


class PreviewForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    participant = SelectField(_l("Participant"), coerce=int, validators=[Optional()])
    kind = SelectField(_l("Message"), validators=[Optional()])
    ref = StringField(_l("Action"), validators=[Optional(), Length(max=32)])
