"""Settings forms. CSRF on every POST; the key input is a PasswordField, never rendered back."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

PROVIDER_CHOICES = [
    SelectChoice("openai", "OpenAI"),
    SelectChoice("gemini", "Google Gemini"),
    SelectChoice("runway", "Runway"),
    SelectChoice("huggingface", "Hugging Face"),
]


class AddKeyForm(FlaskForm):
    """Add (or replace) the producer's own key for one provider; validated by the provider first."""

    provider = SelectField("Provider", choices=PROVIDER_CHOICES)
    api_key = PasswordField(
        "API key",
        validators=[
            InputRequired("Paste your key."),
            Length(min=8, max=512, message="That is not a whole key: paste all of it."),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class PreferenceForm(FlaskForm):
    """How the producer's own key is used. Unchecked boxes are simply absent from the POST."""

    use_own = BooleanField("Use my own key for this provider")
    allow_fallback = BooleanField("Allow fallback to the platform's providers if my key is rate-limited")


class RegionForm(FlaskForm):
    """How dates and prices read (posters, price boxes); empty means "from my browser"."""

    locale = SelectField("Language and region", choices=[], validate_choice=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        from webapp.services.show_locale import LOCALES

        super().__init__(*args, **kwargs)
        self.locale.choices = [("", "Automatic (from my browser)"), *LOCALES.items()]
