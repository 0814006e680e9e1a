"""Chart forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from ...services.astrology import birth_chart


def _choices(options):
    return [SelectChoice(value, label) for value, label in options.items()]


class ChartSettingsForm(FlaskForm):
    """How the person reads charts (their own and, for an astrologer, their clients'), and whether
    astrologers they consult see their chart."""

    chart_style = SelectField("Chart style", choices=_choices(birth_chart.STYLES), validate_choice=True)
    chart_ayanamsa = SelectField("Ayanamsa", choices=_choices(birth_chart.AYANAMSAS), validate_choice=True)
    chart_node = SelectField("Rahu and Ketu", choices=_choices(birth_chart.NODES), validate_choice=True)
    shared = BooleanField("Show my birth chart to the astrologers I consult")
