"""The top-up form: one `amount`, validated by the wallet's own rules (bounds, paise)."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ...forms import Form
from ...services.errors import InvalidAmount
from ...services.money import amounts

PRESETS = (100, 200, 500, 1000, 2000)


class TopupForm(Form):
    amount = StringField(
        _l("Amount (₹)"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],  # grouping: amounts.parse_amount
        validators=[DataRequired(_l("Enter an amount.")), Length(max=16, message=_l("That amount is too long."))],
    )

    def validate_amount(self, field):
        try:
            field.parsed = amounts.parse_topup_amount(field.data)
        except InvalidAmount as error:
            raise ValidationError(error.message) from None
