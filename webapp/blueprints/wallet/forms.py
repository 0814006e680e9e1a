"""The top-up form: one `amount`, validated by the wallet's own rules (bounds, paise)."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ...services.errors import InvalidAmount
from ...services.money import amounts

PRESETS = (100, 200, 500, 1000, 2000)


class TopupForm(FlaskForm):
    amount = StringField(
        "Amount (₹)",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],  # grouping: amounts.parse_amount
        validators=[DataRequired("Enter an amount."), Length(max=16, message="That amount is too long.")],
    )

    def validate_amount(self, field):
        try:
            field.parsed = amounts.parse_topup_amount(field.data)
        except InvalidAmount as error:
            raise ValidationError(error.message) from None
