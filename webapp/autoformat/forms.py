"""The auto-format upload form."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

FILL_CHOICES = [
    SelectChoice("blur", "Blurred backdrop"),
    SelectChoice("solid", "Solid colour from the edges"),
    SelectChoice("crop", "Crop to fill (only when little is lost)"),
]
OUTPUT_CHOICES = [
    SelectChoice("jpeg", "JPEG (smallest, for web and print)"),
    SelectChoice("png", "PNG (lossless)"),
    SelectChoice("webp", "WebP"),
]


class AutoformatForm(FlaskForm):
    image = FileField(
        "Artwork",
        validators=[FileRequired("Choose an image to upload: JPEG, PNG or WebP, up to 10 MB.")],
    )
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

    def job_payload(self, asset_id: int) -> dict:
        return {
            "asset_id": asset_id,
            "formats": ["poster", "square", "banner"],
            "options": {
                "poster": {"fill": self.fill_poster.data},
                "square": {"fill": self.fill_square.data},
                "banner": {"fill": self.fill_banner.data},
            },
            "darken": (self.darken.data or 0) / 100,
            "shadow": bool(self.shadow.data),
            "output": self.output.data,
        }
