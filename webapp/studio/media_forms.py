"""Studio forms for the Video and Voice modes. The action checks ownership and ranges again; these forms
only turn posted text into typed values (an id that is not the producer's is refused by the action with
the same "not found" every door gives)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from webapp.params import parse_id
from webapp.providers.media import MAX_SCRIPT_CHARS, MAX_SECONDS, MIN_SECONDS, MOTIONS, VIDEO_FORMATS

FORMAT_LABELS = {
    "story": "Story 9:16 (1080×1920)",
    "square": "Square 1:1 (1080×1080)",
    "landscape": "Landscape 16:9 (1920×1080)",
}
MOTION_LABELS = {
    "push-in": "Slow push in",
    "pull-out": "Slow pull out",
    "pan-left": "Pan left",
    "pan-right": "Pan right",
    "pan-up": "Pan up",
    "pan-down": "Pan down",
}


STILL_SOURCES = [("library", "An image from my library"), ("new", "A new image drawn from a prompt")]
STILL_PROVIDERS = [
    ("free", "Free tier (offline, instant)"),
    ("budget", "Budget tier (Stable Diffusion)"),
    ("premium", "Premium tier"),
    ("auto", "Auto (the best my allowance and budget allow)"),
]


class VideoForm(FlaskForm):
    source = SelectField("Start from", choices=STILL_SOURCES, default="library")
    asset_id = SelectField("Image", coerce=parse_id, validate_choice=False)
    image_prompt = TextAreaField(
        "Describe the image to draw first", validators=[Optional(), Length(max=4000)]
    )
    image_provider = SelectField("Image provider or tier", default="free", validate_choice=False)
    format = SelectField("Format", choices=[(k, FORMAT_LABELS[k]) for k in VIDEO_FORMATS], default="story")
    seconds = IntegerField(
        "Length (seconds)",
        default=6,
        validators=[
            InputRequired("Give the clip's length."),
            NumberRange(MIN_SECONDS, MAX_SECONDS, f"{MIN_SECONDS} to {MAX_SECONDS} seconds."),
        ],
    )
    motion = SelectField("Motion", choices=[(m, MOTION_LABELS[m]) for m in MOTIONS], default="push-in")
    title_reveal = BooleanField("Reveal the show's title and dates", default=False)
    show = SelectField("Show", coerce=parse_id, validate_choice=False)
    provider = SelectField("Provider", default="local", validate_choice=False)
    prompt = StringField(
        "What should move (premium providers)", validators=[Optional(), Length(max=MAX_SCRIPT_CHARS)]
    )


class VoiceForm(FlaskForm):
    text = TextAreaField(
        "Script",
        validators=[InputRequired("Write the script to read aloud."), Length(max=MAX_SCRIPT_CHARS)],
    )
    voice = StringField("Voice", validators=[Optional(), Length(max=80)])
    show = SelectField("Show", coerce=parse_id, validate_choice=False)
    provider = SelectField("Provider", validate_choice=False)
