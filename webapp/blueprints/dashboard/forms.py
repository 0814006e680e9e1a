"""Dashboard forms. The service checks every value again; these give the field errors."""

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import UUID, DataRequired, InputRequired, Length, NumberRange, ValidationError

from ...models import Availability, Channel
from ...services.astrologers.astrologer_profile import ABOUT_MAX, CAPACITY_MAX, CAPACITY_MIN, RATE_MAX, RATE_MIN
from ...services.astrologers.marketplace import LANGUAGES, SPECIALIZATIONS


class AvailabilityForm(FlaskForm):
    channel = SelectField("Channel", choices=[c.value for c in Channel])
    status = SelectField("Status", choices=[a.value for a in Availability])


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
        message = f"Enter an amount from {RATE_MIN:.0f} to {RATE_MAX:.0f}, with at most 2 decimals."
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


class ProfileForm(FlaskForm):
    chat_rate_per_minute = RateField("Chat rate (₹ per minute)")
    call_rate_per_minute = RateField("Call rate (₹ per minute)")
    #: Optional for clients that predate video: left out, the current video rate stays.
    video_rate_per_minute = RateField("Video rate (₹ per minute)", optional=True)
    max_concurrent_sessions = IntegerField(
        "Chats at the same time",
        validators=[
            InputRequired("Enter a number."),
            NumberRange(CAPACITY_MIN, CAPACITY_MAX, f"Use a number from {CAPACITY_MIN} to {CAPACITY_MAX}."),
        ],
    )
    languages = CheckboxesField(
        "Languages", choices=list(LANGUAGES), validators=[DataRequired("Choose at least one language.")]
    )
    specializations = CheckboxesField(
        "Specializations",
        choices=list(SPECIALIZATIONS),
        validators=[DataRequired("Choose at least one specialization.")],
    )
    about = TextAreaField(
        "About you", validators=[Length(max=ABOUT_MAX, message=f"Use at most {ABOUT_MAX} characters.")]
    )


class PayoutForm(FlaskForm):
    """A payout request; payout_id (a fresh uuid per page view) makes a double submit one request."""

    amount = StringField("Amount", validators=[DataRequired("Enter an amount such as 500."), Length(max=16)])
    payout_id = HiddenField(
        validators=[DataRequired("Reload the page and try again."), UUID("Reload the page and try again.")]
    )
