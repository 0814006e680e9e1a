"""Registration and login forms; every field bounded, every error said in words."""

from datetime import date

from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
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

from ...forms import Form
from ...i18n import language_name
from ...services.astrologers import marketplace
from ...services.errors import ValidationFailed
from ...services.users import accounts, languages, time_zones
from ...services.users.passwords import MAX_LENGTH, password_problem


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _password_field(label, required_message):
    return PasswordField(
        label,
        validators=[
            DataRequired(required_message),
            Length(max=MAX_LENGTH, message=_l("Use at most %(max_length)s characters.", max_length=MAX_LENGTH)),
        ],
    )


def _email_field(label):
    return EmailField(
        label,
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("Use at most 254 characters.")),
            Email(_l("Enter a valid email address, like name@example.com."), check_deliverability=False),
        ],
    )


def _phone_field(label):
    return TelField(
        label,
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter your mobile number.")),
            Length(max=20, message=_l("Use at most 20 characters.")),
        ],
    )


class RegisterForm(Form):
    name = StringField(
        _l("Full name"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter your name.")), Length(2, 120, _l("Use 2 to 120 characters."))],
    )
    email = _email_field(_l("Email"))
    phone = _phone_field(_l("Mobile number"))
    password = _password_field(_l("Password"), _l("Choose a password."))

    # The browser's zone (static/js/app.js fills it): where this person reads times; a hint, never an error.
    time_zone = HiddenField(validators=[Optional(), Length(max=64)])
    # The product's language for this account: the page's own (switcher, cookie or browser) unless changed.
    locale = SelectField(_l("Language of this site"), validate_choice=True)
    share_chart = BooleanField(_l("Let the astrologers I consult see my birth chart"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = language_choices()
        if not self.locale.data:
            self.locale.data = str(get_locale())

    def validate_phone(self, field):
        try:
            accounts.normalize_phone(field.data)
        except ValidationFailed as error:
            raise ValidationError(error.message) from None

    def validate_password(self, field):
        problem = password_problem(field.data or "", email=self.email.data, name=self.name.data)
        if problem:
            raise ValidationError(problem)


def language_choices():
    """The offered languages, each by its own name (हिन्दी, English)."""
    return [SelectChoice(code, languages.native_name(code)) for code in languages.offered()]


class LanguageForm(Form):
    """The header's switcher: one of LANGUAGES, and the page to come back to."""

    language = SelectField(validate_choice=True)
    next = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


class LoginForm(Form):
    identifier = StringField(
        _l("Email or mobile number"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter your email or mobile number.")),
            Length(max=254, message=_l("Use at most 254 characters.")),
        ],
    )
    password = _password_field(_l("Password"), _l("Enter your password."))
    next = HiddenField()
    time_zone = HiddenField(validators=[Optional(), Length(max=64)])  # as on RegisterForm


class BirthDetailsForm(Form):
    """Optional birth details, posted as the first message of each new consultation; a short bio and
    the language the person prefers, shown to the astrologer beside them."""

    birth_date = DateField(_l("Date of birth"), validators=[Optional()])
    birth_time = TimeField(_l("Time of birth"), validators=[Optional()])
    birth_place = StringField(
        _l("Place of birth"),
        filters=[_strip],
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters."))],
    )

    bio = TextAreaField(
        _l("About you"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=accounts.BIO_MAX, message=_l("Use at most %(bio_max)s characters.", bio_max=accounts.BIO_MAX)),
        ],
    )
    language = SelectField(
        _l("Preferred language"),
        choices=[SelectChoice("", _l("No preference"))]
        + [SelectChoice(language) for language in marketplace.LANGUAGES],
        validate_choice=True,
    )

    time_zone = SelectField(_l("Time zone"), validate_choice=True)

    def __init__(self, *args, current_zone=None, **kwargs):
        super().__init__(*args, **kwargs)
        groups = dict(time_zones.grouped_choices())  # optgroups: the reader's country first
        offered = {name for choices in groups.values() for name, _ in choices}
        if current_zone and current_zone not in offered:  # stored before the list was canonical (Etc/GMT+5)
            groups[gettext("Your current zone")] = [(current_zone, current_zone)]
        self.time_zone.choices = groups
        self.language.choices = [SelectChoice("", gettext("No preference"))] + [
            SelectChoice(language, language_name(language)) for language in marketplace.LANGUAGES
        ]

    def validate_birth_date(self, field):
        if field.data and not date(1900, 1, 1) <= field.data <= date.today():
            raise ValidationError(gettext("Enter a date between 1900 and today."))


class TimeZoneForm(Form):
    """The browser's own zone, sent once by static/js/app.js when the account has none stored."""

    time_zone = StringField(_l("Time zone"), validators=[DataRequired(_l("Send a time zone.")), Length(max=64)])


class _NewPassword:
    """A new password typed twice, checked by the policy (services/users/passwords.py)."""

    def validate_password(self, field):
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(gettext("The two passwords are not the same."))


class ForgotForm(Form):
    email = _email_field(_l("Email"))


class ResetForm(_NewPassword, Form):
    password = _password_field(_l("New password"), _l("Choose a password."))
    confirm = _password_field(_l("New password again"), _l("Type the password again."))


class PhoneForm(Form):
    phone = _phone_field(_l("Mobile number"))
    next = HiddenField()
    time_zone = HiddenField(validators=[Optional(), Length(max=64)])  # as on RegisterForm


class PhoneVerifyForm(PhoneForm):
    code = StringField(
        _l("Code"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=10, message=_l("Enter the 6-digit code."))],
    )
    claim = BooleanField(_l("This number is mine: make a new account with it"))
    name = StringField(
        _l("Your name, if you are new here"),
        filters=[_strip],
        validators=[Optional(), Length(2, 120, _l("Use 2 to 120 characters."))],
    )


class NameForm(Form):
    name = StringField(
        _l("Full name"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter your name.")), Length(2, 120, _l("Use 2 to 120 characters."))],
    )


class ChangePasswordForm(_NewPassword, Form):
    current = PasswordField(_l("Current password"), validators=[Length(max=MAX_LENGTH)])
    password = _password_field(_l("New password"), _l("Choose a password."))
    confirm = _password_field(_l("New password again"), _l("Type the password again."))


class EmailChangeForm(Form):
    email = _email_field(_l("New email address"))
    password = PasswordField(_l("Current password"), validators=[Length(max=MAX_LENGTH)])


class PhoneChangeVerifyForm(Form):
    phone = TelField(
        _l("New mobile number"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter your mobile number.")), Length(max=20)],
    )
    code = StringField(
        _l("Code"), filters=[_strip], validators=[Optional(), Length(max=10, message=_l("Enter the 6-digit code."))]
    )


class DeleteAccountForm(Form):
    """Leaving: the password again, or (an account without one) a code sent to its phone."""

    password = PasswordField(_l("Your password"), validators=[Length(max=MAX_LENGTH)])
    code = StringField(
        _l("Code"), filters=[_strip], validators=[Optional(), Length(max=10, message=_l("Enter the 6-digit code."))]
    )
