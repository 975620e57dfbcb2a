"""Palette forms: start an extraction, edit roles (custom palette), apply to a show, staff review."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from webapp.imaging.palette_limits import DEFAULT_COLORS, MAX_COLORS, MIN_COLORS, ROLES
from webapp.params import parse_id

COLOR_CHOICES = [SelectChoice(n, f"{n} colours") for n in range(MIN_COLORS, MAX_COLORS + 1)]
HEX_MESSAGE = "Enter a colour as #rrggbb, for example #1a2b3c."


class ExtractForm(FlaskForm):
    """From the library picker (asset_id) or a new upload (image); the route checks exactly one came."""

    asset_id = HiddenField()
    image = FileField("Or upload a new image")
    n_colors = SelectField("Colours", choices=COLOR_CHOICES, coerce=int, default=DEFAULT_COLORS)
    ignore_background = BooleanField("Ignore a plain white, black or transparent background")
    show_id = SelectField("For show", coerce=str, default="", validators=[Optional()])

    def chosen_asset_id(self) -> int | None:
        """The picked library image id from the radio list (name "asset_id"), if it is a number."""
        return parse_id((self.asset_id.data or "").strip())


class RolesForm(FlaskForm):
    """One colour picker and one hex text box per role.

    Both arrive with every submission; without JavaScript they cannot be kept in step in the browser, so
    the route takes the one that differs from ``<role>_was`` (the value the page was rendered with), text
    first. The HTMX preview re-renders the editor, so both show the resolved colour.
    """

    name = StringField("Name", validators=[Optional(), Length(max=120)])

    def values(self, data) -> dict[str, str]:
        """Resolve picker vs. text box for every role (see the class docstring)."""
        out = {}
        for role in ROLES:
            was = (data.get(f"{role}_was") or "").strip().lower()
            text = (data.get(f"{role}_hex") or "").strip().lower()
            picker = (data.get(f"{role}_color") or "").strip().lower()
            if text and text.lstrip("#") != was.lstrip("#"):
                out[role] = text
            elif picker and picker != was:
                out[role] = picker
            else:
                out[role] = text or picker or was
        return out


class ApplyForm(FlaskForm):
    show_id = SelectField("Show", coerce=str, validators=[DataRequired("Choose a show.")])


class ReviewForm(FlaskForm):
    decision = HiddenField(validators=[Regexp(r"^(approve|reject)$", message="Approve or reject.")])
    reason = TextAreaField("Reason (required to reject)", validators=[Optional(), Length(max=2000)])
