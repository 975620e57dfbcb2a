"""Sign-up and log-in forms. Every field validated; CSRF on (Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from webapp.services.accounts import MAX_PASSWORD, MIN_PASSWORD


class RegisterForm(FlaskForm):
    display_name = StringField("Your name", validators=[Length(max=80)])
    email = EmailField(
        "E-mail",
        validators=[
            DataRequired("Enter your e-mail address."),
            Email("Enter a valid e-mail address, like name@example.com.", check_deliverability=False),
            Length(max=254),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Choose a password."),
            Length(
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
                message=f"Use between {MIN_PASSWORD} and {MAX_PASSWORD} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The passwords differ.")],
    )


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Enter your e-mail address."), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD)]
    )
    remember = BooleanField("Keep me logged in")


def _new_password_field(label: str = "New password") -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired("Choose a password."),
            Length(
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
                message=f"Use between {MIN_PASSWORD} and {MAX_PASSWORD} characters.",
            ),
        ],
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Enter your e-mail address."), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = _new_password_field()
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The passwords differ.")],
    )


class ChangePasswordForm(FlaskForm):
    """Settings: the current password proves it is the owner at the keyboard, not a borrowed session."""

    current = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=MAX_PASSWORD)],
    )
    password = _new_password_field()
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The passwords differ.")],
    )
