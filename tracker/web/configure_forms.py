"""Forms of the configuring pages: import, participant and action editing (Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length


class UploadForm(FlaskForm):
    file = FileField(_l("Programme file or spreadsheet"), validators=[FileRequired()])


class ConfirmImportForm(FlaskForm):
    """The file previewed travels back with the confirmation (nothing is kept on the server)."""

    filename = HiddenField(validators=[DataRequired(), Length(max=255)])
    content = HiddenField(validators=[DataRequired()])
    sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    changes = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
