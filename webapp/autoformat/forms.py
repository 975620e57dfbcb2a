"""The auto-format upload form, and the near-duplicate choice."""

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from webapp.imaging.presets import DEFAULT_FORMATS, MAX_FORMATS
from webapp.services.actions import AutoformatSettings

FILL_CHOICES = [
    SelectChoice("blur", "Blurred backdrop"),
    SelectChoice("solid", "Solid colour from the edges"),
    SelectChoice("crop", "Crop to fill (only when little is lost)"),
]
OUTPUT_CHOICES = [
    SelectChoice("jpeg", "JPEG (smallest)"),
    SelectChoice("png", "PNG (lossless)"),
    SelectChoice("webp", "WebP (small, modern)"),
]
BATCH_MAX_FILES = 20


class AutoformatOptionsForm(FlaskForm):
    """How to render: shared by the upload form and the near-duplicate choice."""

    output = SelectField("File type", choices=OUTPUT_CHOICES, default="jpeg")
    fill_poster = SelectField("Poster 1200×1800", choices=FILL_CHOICES, default="blur")
    fill_square = SelectField("Square 1200×1200", choices=FILL_CHOICES, default="blur")
    fill_banner = SelectField("Banner 2160×1089", choices=FILL_CHOICES, default="blur")
    darken = IntegerField(
        "Darken backdrop (%)",
        default=15,
        validators=[
            InputRequired("Enter how much to darken the backdrop, 0 to 60."),
            NumberRange(0, 60, "Darkening must be between 0 and 60 percent."),
        ],
    )
    shadow = BooleanField("Drop shadow under the artwork", default=True)
    # The format checkboxes (`formats`, one per preset) and their fills (`fill_<name>`) depend on the
    # presets admins added, so they are read from the posted form in `format_choice()`, not declared here.
    custom_sizes = StringField(
        "Custom sizes",
        validators=[Optional(), Length(max=200, message="List at most 200 characters of custom sizes.")],
    )
    fill_custom = SelectField("Fill for custom sizes", choices=FILL_CHOICES, default="blur")
    formats_shown = HiddenField()  # "1": the form had the checkboxes, so none ticked means none chosen

    def format_choice(self) -> dict[str, Any]:
        """What was posted: {'formats': ticked preset names, 'custom': the typed sizes, 'fills': …}.

        A client that never had the checkboxes (an older form or script) gets today's three formats."""
        src = request.form if self.is_submitted() else None
        picked = [v for v in (src.getlist("formats") if src is not None else []) if v][: MAX_FORMATS * 2]
        custom = (self.custom_sizes.data or "").strip()
        if not picked and not custom and not self.formats_shown.data:
            picked = list(DEFAULT_FORMATS)
        fills: dict[str, str] = {}
        if src is not None:
            for name in picked:
                value = src.get(f"fill_{name}")
                if value is not None:
                    fills[name] = value
        for spec in self.custom_specs():
            fills[spec] = self.fill_custom.data or "blur"
        return {"formats": picked, "custom": custom, "fills": fills, "fill_custom": self.fill_custom.data}

    def custom_specs(self) -> list[str]:
        return [c.strip() for c in (self.custom_sizes.data or "").replace(";", ",").split(",") if c.strip()]

    def settings(self) -> AutoformatSettings:
        """The form's fields as the action's typed input (the action validates them again)."""
        chosen = self.format_choice()
        return AutoformatSettings(
            formats=tuple(chosen["formats"] + self.custom_specs()),
            fills=chosen["fills"],
            darken=int(self.darken.data or 0),
            shadow=bool(self.shadow.data),
            output=self.output.data,
        )


class AutoformatForm(AutoformatOptionsForm):
    # Presence is checked in the route (it knows how many files came and can say which failed).
    image = MultipleFileField("Artwork")


class DuplicateChoiceForm(AutoformatOptionsForm):
    new_asset_id = HiddenField(validators=[InputRequired()])
    existing_asset_id = HiddenField(validators=[InputRequired()])
    choice = HiddenField(
        validators=[
            AnyOf(
                ["keep", "existing"],
                message="Choose: keep both, or use your earlier image and discard this upload.",
            )
        ]
    )
