"""The auto-format upload form, and the near-duplicate choice."""

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, HiddenField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, NumberRange

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

    def settings(self) -> AutoformatSettings:
        """The form's fields as the action's typed input (the action validates them again)."""
        return AutoformatSettings(
            fills={
                "poster": self.fill_poster.data,
                "square": self.fill_square.data,
                "banner": self.fill_banner.data,
            },
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
