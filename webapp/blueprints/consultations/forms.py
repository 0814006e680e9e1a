"""Consultation forms."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...forms import Form
from ...services.consultations.ratings import REVIEW_MAX


class RequestForm(Form):
    astrologer_id = StringField(validators=[DataRequired(), Length(max=64)])
    session_type = StringField(validators=[Optional(), Length(max=16)])
    # The spending cap (services/consultations/caps.py checks what they mean).
    cap_kind = StringField(validators=[Optional(), Length(max=16)])
    cap_value = StringField(validators=[Optional(), Length(max=20)])
    share_chart = BooleanField()  # asked once: the astrologer may see the user's birth chart


class CapForm(Form):
    """A new spending cap, from the room."""

    cap_kind = StringField(validators=[Optional(), Length(max=16)])
    cap_value = StringField(validators=[Optional(), Length(max=20)])


class RatingForm(Form):
    rating = RadioField(
        _l("Your rating"),
        choices=[str(n) for n in range(5, 0, -1)],
        validators=[DataRequired(_l("Choose 1 to 5 stars."))],
    )
    review = TextAreaField(
        _l("Review (optional)"),
        validators=[
            Length(max=REVIEW_MAX, message=_l("Use at most %(review_max)s characters.", review_max=REVIEW_MAX))
        ],
    )


class UserRatingForm(Form):
    """The astrologer's private rating of the user (admins see it; the user and others never do)."""

    rating = RadioField(
        _l("Rate this user (private)"),
        choices=[str(n) for n in range(5, 0, -1)],
        validators=[DataRequired(_l("Choose 1 to 5 stars."))],
    )
