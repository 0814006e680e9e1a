"""Dashboard forms. The service checks every value again; these give the field errors."""

from decimal import Decimal, InvalidOperation

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import UUID, DataRequired, InputRequired, Length, NumberRange, ValidationError

from ...forms import Form
from ...i18n import language_name
from ...models import Availability, Channel
from ...services.astrologers.astrologer_profile import ABOUT_MAX, CAPACITY_MAX, CAPACITY_MIN, RATE_MAX, RATE_MIN
from ...services.astrologers.marketplace import LANGUAGES, SPECIALIZATIONS, specialization_name


class AvailabilityForm(Form):
    channel = SelectField(_l("Channel"), choices=[c.value for c in Channel])
    status = SelectField(_l("Status"), choices=[a.value for a in Availability])


class RateField(StringField):
    """INR per minute: RATE_MIN..RATE_MAX with at most 2 decimals; `.data` is a Decimal when valid."""

    def __init__(self, label=None, optional=False, **kwargs):
        super().__init__(label, **kwargs)
        self.optional = optional

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        try:
            self.data = Decimal(self.raw)
        except InvalidOperation:
            self.data = None

    def _value(self):
        return self.raw if hasattr(self, "raw") else ("" if self.data is None else str(self.data))

    def pre_validate(self, form):
        message = gettext(
            "Enter an amount from %(rate_min)s to %(rate_max)s, with at most 2 decimals.",
            rate_min=format(RATE_MIN, ".0f"),
            rate_max=format(RATE_MAX, ".0f"),
        )
        if self.optional and not getattr(self, "raw", ""):
            self.data = None  # not sent: the service keeps the current rate
            return
        if self.data is None or not self.data.is_finite():
            raise ValidationError(message)
        if not RATE_MIN <= self.data <= RATE_MAX or self.data != self.data.quantize(Decimal("0.01")):
            raise ValidationError(message)


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ProfileForm(Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages.choices = [SelectChoice(name, language_name(name)) for name in LANGUAGES]  # the reader's names

    chat_rate_per_minute = RateField(_l("Chat rate (₹ per minute)"))
    call_rate_per_minute = RateField(_l("Call rate (₹ per minute)"))
    #: Optional for clients that predate video: left out, the current video rate stays.
    video_rate_per_minute = RateField(_l("Video rate (₹ per minute)"), optional=True)
    max_concurrent_sessions = IntegerField(
        _l("Chats at the same time"),
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(
                CAPACITY_MIN,
                CAPACITY_MAX,
                _l(
                    "Use a number from %(capacity_min)s to %(capacity_max)s.",
                    capacity_min=CAPACITY_MIN,
                    capacity_max=CAPACITY_MAX,
                ),
            ),
        ],
    )
    languages = CheckboxesField(
        _l("Languages"), choices=list(LANGUAGES), validators=[DataRequired(_l("Choose at least one language."))]
    )
    specializations = CheckboxesField(
        _l("Specializations"),
        choices=[SelectChoice(name, specialization_name(name)) for name in SPECIALIZATIONS],
        validators=[DataRequired(_l("Choose at least one specialization."))],
    )
    about = TextAreaField(
        _l("About you"),
        validators=[Length(max=ABOUT_MAX, message=_l("Use at most %(about_max)s characters.", about_max=ABOUT_MAX))],
    )


class PayoutForm(Form):
    """A payout request; payout_id (a fresh uuid per page view) makes a double submit one request."""

    amount = StringField(_l("Amount"), validators=[DataRequired(_l("Enter an amount such as 500.")), Length(max=16)])
    payout_id = HiddenField(
        validators=[DataRequired(_l("Reload the page and try again.")), UUID(_l("Reload the page and try again."))]
    )
