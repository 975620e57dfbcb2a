"""Library filters (GET) and selection (POST) forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from webapp.services.library import KINDS, MEDIA, SORTS, SOURCES


class LibraryFilterForm(FlaskForm):
    """Read from the query string; invalid values are reported and ignored, never a 500."""

    class Meta:
        csrf = False  # a GET form: nothing changes

    q = StringField(
        "Search", validators=[Optional(), Length(max=100, message="Search for at most 100 characters.")]
    )
    kind = SelectField(
        "Kind or format",
        choices=[SelectChoice("", "All kinds")] + [SelectChoice(k, k.capitalize()) for k in KINDS],
        default="",
    )
    media = SelectField(
        "Type",
        choices=[SelectChoice("", "Images, videos, audio")] + [SelectChoice(k, v) for k, v in MEDIA.items()],
        default="",
    )
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Any status"),
            SelectChoice("draft", "Draft"),
            SelectChoice("held", "Held for review"),
            SelectChoice("published", "Published"),
            SelectChoice("rejected", "Rejected"),
        ],
        default="",
    )
    source = SelectField(
        "Source",
        choices=[SelectChoice("", "Any source")] + [SelectChoice(k, v) for k, v in SOURCES.items()],
        default="",
    )
    show = SelectField("Show", choices=[SelectChoice("", "Any show")], default="", validate_choice=True)
    sort = SelectField("Sort", choices=[SelectChoice(k, v) for k, v in SORTS.items()], default="newest")
    color = StringField(
        "Colour",
        validators=[Optional(), Regexp(r"^#[0-9a-fA-F]{6}$", message="Pick a colour like #1a2b3c.")],
    )
    cursor = HiddenField(validators=[Optional(), Length(max=200)])
    favorites = BooleanField("Favourites only", false_values=("", "0", "false", "no"))


class SelectionForm(FlaskForm):
    """Multi-select actions post the chosen ids; the service keeps only the producer's own."""

    confirm = HiddenField()


class DescribeForm(FlaskForm):
    """A producer's alt text, title, description and tags. The limits are checked by
    services.describe (shared with the API), so both answer with the same words."""

    alt_text = TextAreaField("Alt text", render_kw={"rows": 2, "maxlength": 250})
    title = StringField("Title", render_kw={"maxlength": 120})
    description = TextAreaField("Description", render_kw={"rows": 3, "maxlength": 500})
    tags = StringField("Tags (comma-separated, up to 12)")
