"""Forms for the bulk generator: the start form (prompts + settings), its review step, and the
small POST-only forms behind each control (CSRF on every one)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileSize
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from webapp.services.bulk import MAX_PROMPT_CHARS, MAX_PROMPTS, BatchSettings
from webapp.services.generation import IMAGE_TYPES, QUALITIES, STYLES

TYPE_CHOICES = [
    SelectChoice("poster", "Poster 1200×1800"),
    SelectChoice("square", "Square 1200×1200"),
    SelectChoice("banner", "Banner 2160×1089"),
]
QUALITY_CHOICES = [SelectChoice("low", "Low (cheapest)"), SelectChoice("medium"), SelectChoice("high")]
QUALITY_CHOICES = [SelectChoice(c.value, c.label or c.value.capitalize()) for c in QUALITY_CHOICES]
STYLE_CHOICES = [SelectChoice("", "No preset")] + [
    SelectChoice(s, s.replace("-", " ").capitalize()) for s in STYLES
]
UPLOAD_MAX_BYTES = 512 * 1024
# Generous: MAX_PROMPTS lines of MAX_PROMPT_CHARS, so the parser (not the form) names the bad line.
TEXT_MAX = MAX_PROMPTS * (MAX_PROMPT_CHARS + 2)


class BatchSettingsForm(FlaskForm):
    """The settings shared by the start form and the hidden copy carried through the review."""

    name = StringField("Batch name", validators=[Optional(), Length(max=120)])
    engine = SelectField("Provider and model", validators=[InputRequired("Choose a provider.")])
    image_type = SelectField("Image type", choices=TYPE_CHOICES, default="poster")
    quality = SelectField("Quality", choices=QUALITY_CHOICES, default="medium")
    variations = IntegerField(
        "Variations per prompt",
        default=1,
        validators=[
            InputRequired("Enter how many variations to draw, 1 to 4."),
            NumberRange(1, 4, "Ask for 1 to 4 variations per prompt."),
        ],
    )
    style = SelectField("Style preset", choices=STYLE_CHOICES, default="")
    show = SelectField("Show (optional)", default="")
    autoformat = BooleanField("Auto-format each image when I publish it (poster, square, banner)")

    def settings(self) -> BatchSettings:
        provider, _, model = (self.engine.data or "").partition(":")
        return BatchSettings(
            provider=provider or None,
            model=model or None,
            image_type=self.image_type.data if self.image_type.data in IMAGE_TYPES else "poster",
            quality=self.quality.data if self.quality.data in QUALITIES else "medium",
            variations=int(self.variations.data or 1),
            style=self.style.data or None,
            show_id=int(self.show.data) if self.show.data else None,
            autoformat_on_publish=bool(self.autoformat.data),
            name=(self.name.data or "").strip(),
        )


class StartForm(BatchSettingsForm):
    """Step 1: paste prompts or upload a .txt / .csv file."""

    prompts = TextAreaField("Prompts, one per line", validators=[Optional(), Length(max=TEXT_MAX)])
    upload = FileField(
        "…or upload a .txt or .csv file",
        validators=[
            FileAllowed(["txt", "csv"], "Upload a .txt or .csv file."),
            FileSize(UPLOAD_MAX_BYTES, message="The file is larger than 512 KB: split it into batches."),
        ],
    )


class ConfirmForm(BatchSettingsForm):
    """Step 2: the reviewed batch, carried as CSV so per-row columns survive and are re-checked."""

    prompts_csv = HiddenField(validators=[InputRequired(), Length(max=TEXT_MAX * 2)])


class PromptForm(FlaskForm):
    """Edit a failed prompt and retry it."""

    prompt = TextAreaField(
        "Prompt",
        validators=[
            InputRequired("Write a prompt."),
            Length(max=MAX_PROMPT_CHARS, message=f"At most {MAX_PROMPT_CHARS} characters."),
        ],
    )


class ActionForm(FlaskForm):
    """Every control (pause, publish, select…) is a POST with only the CSRF token."""
