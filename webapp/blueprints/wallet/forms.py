"""The top-up form: an `amount` (typed, or a quick amount), the buyer's `state` for the tax invoice,
and the gateway (`provider`) when several are on."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from ...forms import Form
from ...services.errors import InvalidAmount
from ...services.money import amounts, taxes
from ...services.users import accounts

PRESETS = (100, 200, 500, 1000, 2000)
#: How each gateway is offered when the payer chooses.
PROVIDER_LABELS = {
    "demo": _l("Demo payment (no real money)"),
    "razorpay": _l("UPI, cards, net banking and wallets (Razorpay)"),
    "stripe": _l("International cards (Stripe)"),
}


class TopupForm(Form):
    amount = StringField(
        _l("Amount (₹)"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],  # grouping: amounts.parse_amount
        validators=[Length(max=16, message=_l("That amount is too long."))],
    )
    #: A quick amount's button: it stands for the amount when pressed.
    preset = StringField()
    state = SelectField(_l("Your state (place of supply on the GST invoice)"), validate_choice=False)
    provider = RadioField(_l("Pay with"), validate_choice=False)

    def __init__(self, *args, default_state=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.state.choices = [SelectChoice("", _l("Choose your state"))] + [
            SelectChoice(code, name) for code, name in sorted(taxes.STATES.items(), key=lambda item: str(item[1]))
        ]
        if not self.state.data and default_state:
            self.state.data = default_state
        enabled = current_app.config["PAYMENT_PROVIDERS"]
        self.provider.choices = [SelectChoice(name, PROVIDER_LABELS[name]) for name in enabled]
        if not self.provider.data:
            self.provider.data = enabled[0]

    @property
    def asks_state(self):
        return current_app.config["TOPUP_TAX_PERCENT"] > 0

    def validate_amount(self, field):
        typed = self.preset.data or field.data
        if not typed:
            raise ValidationError(_l("Enter an amount."))
        try:
            field.parsed = amounts.parse_topup_amount(typed)
        except InvalidAmount as error:
            raise ValidationError(error.message) from None

    def validate_state(self, field):
        if not self.asks_state:
            field.data = None
        elif field.data not in taxes.STATES:
            raise ValidationError(_l("Choose your state: it decides the tax on your invoice."))

    def validate_provider(self, field):
        if field.data not in current_app.config["PAYMENT_PROVIDERS"]:
            raise ValidationError(_l("Choose how to pay."))


def topup_form(**kwargs):
    """The top-up form, its state defaulting to the one the person named last time."""
    return TopupForm(default_state=accounts.billing_state_of(current_user.id), **kwargs)
