"""Chart forms."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from ...forms import Form
from ...services.astrology import birth_chart


def _choices(options):
    return [SelectChoice(value, label) for value, label in options.items()]


class ChartSettingsForm(Form):
    """How the person reads charts (their own and, for an astrologer, their clients'), and whether
    astrologers they consult see their chart."""

    chart_style = SelectField(_l("Chart style"), choices=_choices(birth_chart.STYLES), validate_choice=True)
    chart_ayanamsa = SelectField(_l("Ayanamsa"), choices=_choices(birth_chart.AYANAMSAS), validate_choice=True)
    chart_node = SelectField(_l("Rahu and Ketu"), choices=_choices(birth_chart.NODES), validate_choice=True)
    shared = BooleanField(_l("Show my birth chart to the astrologers I consult"))
