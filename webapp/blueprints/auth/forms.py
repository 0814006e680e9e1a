"""Registration and login forms; every field bounded, every error said in words."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ...services.astrologers import marketplace
from ...services.errors import ValidationFailed
from ...services.users import accounts, time_zones
from ...services.users.passwords import MAX_LENGTH, password_problem


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RegisterForm(FlaskForm):
    name = StringField(
        "Full name",
        filters=[_strip],
        validators=[DataRequired("Enter your name."), Length(2, 120, "Use 2 to 120 characters.")],
    )
    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254, message="Use at most 254 characters."),
            Email("Enter a valid email address, like name@example.com.", check_deliverability=False),
        ],
    )
    phone = TelField(
        "Mobile number",
        filters=[_strip],
        validators=[DataRequired("Enter your mobile number."), Length(max=20, message="Use at most 20 characters.")],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Choose a password."),
            Length(max=MAX_LENGTH, message=f"Use at most {MAX_LENGTH} characters."),
        ],
    )

    # The browser's zone (static/js/app.js fills it): where this person reads times; a hint, never an error.
    time_zone = HiddenField(validators=[Optional(), Length(max=64)])
    share_chart = BooleanField("Let the astrologers I consult see my birth chart")

    def validate_phone(self, field):
        try:
            accounts.normalize_phone(field.data)
        except ValidationFailed as error:
            raise ValidationError(error.message) from None

    def validate_password(self, field):
        problem = password_problem(field.data or "", email=self.email.data, name=self.name.data)
        if problem:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    identifier = StringField(
        "Email or mobile number",
        filters=[_strip],
        validators=[
            DataRequired("Enter your email or mobile number."),
            Length(max=254, message="Use at most 254 characters."),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Enter your password."),
            Length(max=MAX_LENGTH, message=f"Use at most {MAX_LENGTH} characters."),
        ],
    )
    next = HiddenField()
    time_zone = HiddenField(validators=[Optional(), Length(max=64)])  # as on RegisterForm


class BirthDetailsForm(FlaskForm):
    """Optional birth details, posted as the first message of each new consultation; a short bio and
    the language the person prefers, shown to the astrologer beside them."""

    birth_date = DateField("Date of birth", validators=[Optional()])
    birth_time = TimeField("Time of birth", validators=[Optional()])
    birth_place = StringField(
        "Place of birth",
        filters=[_strip],
        validators=[Optional(), Length(max=200, message="Use at most 200 characters.")],
    )

    bio = TextAreaField(
        "About you",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=accounts.BIO_MAX, message=f"Use at most {accounts.BIO_MAX} characters."),
        ],
    )
    language = SelectField(
        "Preferred language",
        choices=[SelectChoice("", "No preference")] + [SelectChoice(language) for language in marketplace.LANGUAGES],
        validate_choice=True,
    )

    time_zone = SelectField("Time zone", validate_choice=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = [SelectChoice(name, name.replace("_", " ")) for name in time_zones.names()]

    def validate_birth_date(self, field):
        if field.data and not date(1900, 1, 1) <= field.data <= date.today():
            raise ValidationError("Enter a date between 1900 and today.")


class TimeZoneForm(FlaskForm):
    """The browser's own zone, sent once by static/js/app.js when the account has none stored."""

    time_zone = StringField("Time zone", validators=[DataRequired("Send a time zone."), Length(max=64)])
