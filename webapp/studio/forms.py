"""Studio forms: the generation request and the show-details overlay editor.

Choices that depend on the database (models, shows, recent images) are filled in by the route before
validation, so a posted value that is not offered to this producer fails validation like any other.
"""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from webapp.imaging.fonts import FAMILIES
from webapp.imaging.overlay_layout import ITEM_LABELS, POSITION_LABELS, POSITIONS
from webapp.imaging.overlay_spec import ITEMS
from webapp.imaging.overlay_text import MAX_CHARS
from webapp.params import parse_id
from webapp.services.generation import IMAGE_TYPES, STYLES, GenerationRequest

TYPE_LABELS = {"poster": "Poster 2:3", "square": "Square 1:1", "banner": "Banner 2:1"}
QUALITY_CHOICES = [
    SelectChoice("low", "Low (fast, cheapest)"),
    SelectChoice("medium", "Medium"),
    SelectChoice("high", "High"),
]
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _optional_int(value: Any) -> int | None:
    """A select's id, or None for "none" and for anything that is not an id (so a tampered value
    is refused by the choice check instead of reaching the database)."""
    return parse_id(value)


class StudioForm(FlaskForm):
    """What to draw. The provider's own prompt limit is checked by the service (it depends on the model)."""

    mode = RadioField(
        "Mode",
        choices=[SelectChoice("create", "Create from a prompt"), SelectChoice("edit", "Edit an image")],
        default="create",
    )
    image_type = RadioField(
        "Image type", choices=[SelectChoice(t, TYPE_LABELS[t]) for t in IMAGE_TYPES], default="poster"
    )
    model = SelectField("Provider and model", choices=[])
    use_own_key = BooleanField("Use my own key")
    prompt = TextAreaField(
        "Describe the artwork",
        validators=[
            InputRequired("Describe the image you want."),
            Length(max=32000, message="That prompt is far too long; shorten it."),
        ],
    )
    negative = StringField(
        "Avoid", validators=[Optional(), Length(max=500, message="Keep the list of things to avoid short.")]
    )
    style = SelectField(
        "Style",
        choices=[
            SelectChoice("", "No preset"),
            *(SelectChoice(s, s.replace("-", " ").capitalize()) for s in STYLES),
        ],
        default="",
    )
    quality = SelectField("Quality", choices=QUALITY_CHOICES, default="medium")
    variations = RadioField(
        "Variations", choices=[SelectChoice(str(n), str(n)) for n in range(1, 5)], default="2"
    )
    show = SelectField("Show", choices=[], coerce=_optional_int, validate_choice=True)
    use_palette = BooleanField("Use these colours")
    palette = HiddenField()
    source_asset = RadioField(
        "An image from your library", choices=[], coerce=_optional_int, validate_choice=False
    )
    source_upload = FileField(
        "…or upload one",
        validators=[FileAllowed(["jpg", "jpeg", "png", "webp"], "Upload a JPEG, PNG or WebP image.")],
    )

    def validate_source_asset(self, field: RadioField) -> None:
        if self.mode.data != "edit":
            return
        offered = {c.value if isinstance(c, SelectChoice) else c[0] for c in field.choices}  # type: ignore[union-attr]
        if field.data is not None and field.data not in offered:
            raise ValidationError("Choose one of the images shown.")
        upload = self.source_upload.data
        if field.data is None and not (upload and getattr(upload, "filename", "")):
            raise ValidationError("Choose an image to edit, or upload one.")

    def provider_model(self) -> tuple[str | None, str | None]:
        provider, _, model = (self.model.data or "").partition(":")
        return (provider or None), (model or None)

    def to_request(self, palette: list[str], use_own: bool | None) -> GenerationRequest:
        provider, model = self.provider_model()
        tier = None
        if provider == "tier":  # "tier:auto", "tier:budget", …: services.tiers picks the provider
            provider, model, tier = None, None, model
        return GenerationRequest(
            tier=tier,
            prompt=self.prompt.data or "",
            image_type=self.image_type.data or "poster",
            provider=provider,
            model=model,
            quality=self.quality.data or "medium",
            variations=int(self.variations.data or 1),
            style=self.style.data or None,
            negative=self.negative.data or "",
            palette=palette if self.use_palette.data else [],
            use_own_key=use_own,
            show_id=self.show.data,
            operation="edit" if self.mode.data == "edit" else "generate",
            source_asset_id=self.source_asset.data if self.mode.data == "edit" else None,
        )


class EstimateForm(StudioForm):
    """The same fields, minus what the estimate does not need to be valid."""

    prompt = TextAreaField("Describe the artwork", validators=[Optional()])


def _color_field(label: str) -> StringField:
    return StringField(label, default="#ffffff", render_kw={"type": "color"}, validators=[Optional()])


class OverlayForm(FlaskForm):
    """The show's details to set on an image. Submitted by GET to preview (no side effect, so no CSRF)
    and by POST to save (CSRF on)."""

    spec = HiddenField(default="1")
    show = SelectField("Fill in from show", choices=[], coerce=_optional_int, validate_choice=True)
    font = SelectField(
        "Typeface", choices=[SelectChoice(f.key, f.label) for f in FAMILIES.values()], default="bebas"
    )
    position = RadioField(
        "Layout", choices=[SelectChoice(p, POSITION_LABELS[p]) for p in POSITIONS], default="bottom"
    )
    # Nudges re-render the same clean image (no provider call): move the type, or scale it.
    offset = RadioField(
        "Move",
        choices=[
            SelectChoice("-2", "Up 2"),
            SelectChoice("-1", "Up 1"),
            SelectChoice("0", "As laid out"),
            SelectChoice("1", "Down 1"),
            SelectChoice("2", "Down 2"),
        ],
        default="0",
    )
    size_step = RadioField(
        "Text size",
        choices=[
            SelectChoice("-2", "Smaller 2"),
            SelectChoice("-1", "Smaller 1"),
            SelectChoice("0", "As laid out"),
            SelectChoice("1", "Larger 1"),
            SelectChoice("2", "Larger 2"),
        ],
        default="0",
    )
    color_mode = RadioField(
        "Text colour",
        choices=[SelectChoice("auto", "Automatic (always legible)"), SelectChoice("custom", "Pick")],
        default="auto",
    )
    color = _color_field("Text colour")
    accent_mode = RadioField(
        "Button colour",
        choices=[SelectChoice("auto", "Same as text"), SelectChoice("custom", "Pick")],
        default="auto",
    )
    accent = _color_field("Button colour")

    def validate_color(self, field: StringField) -> None:
        if self.color_mode.data == "custom" and not _HEX.fullmatch(field.data or ""):
            raise ValidationError("Pick a colour like #ffcc00.")

    def validate_accent(self, field: StringField) -> None:
        if self.accent_mode.data == "custom" and not _HEX.fullmatch(field.data or ""):
            raise ValidationError("Pick a colour like #ffcc00.")

    def items(self) -> list[tuple[str, str, Any, Any]]:
        """(item, label, checkbox, text field) in reading order, for the template."""
        return [(i, ITEM_LABELS[i], self[f"on_{i}"], self[f"text_{i}"]) for i in ITEMS]

    def values(self) -> dict[str, Any]:
        return {name: f.data for name, f in self._fields.items()}


for _item in ITEMS:
    setattr(OverlayForm, f"on_{_item}", BooleanField(f"Show {ITEM_LABELS[_item].lower()}"))
    setattr(
        OverlayForm,
        f"text_{_item}",
        StringField(
            ITEM_LABELS[_item],
            validators=[
                Optional(),
                Length(
                    max=MAX_CHARS.get(_item, 200),
                    message=f"That text is too long: at most {MAX_CHARS.get(_item, 200)} characters.",
                ),
            ],
        ),
    )


class TemplateForm(FlaskForm):
    """An admin's prompt template."""

    image_type = SelectField(
        "Image type", choices=[SelectChoice(t, TYPE_LABELS[t]) for t in IMAGE_TYPES], default="poster"
    )
    name = StringField("Name", validators=[InputRequired("Name the template."), Length(max=80)])
    text = TextAreaField(
        "Prompt",
        validators=[InputRequired("Write the prompt."), Length(max=4000, message="At most 4000 characters.")],
    )


class ActionForm(FlaskForm):
    """CSRF-only forms (buttons), with an optional show for "use for show"."""

    show = SelectField("Show", choices=[], coerce=_optional_int, validate_choice=False)
