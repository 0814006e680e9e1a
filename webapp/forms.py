"""The base of every form: Flask-WTF's, with WTForms' own messages ("Not a valid choice.") in the
request's language from our catalog (WTForms ships no Hindi), the same catalog as every other
sentence. The messages WTForms can say on our forms are listed below so that `pybabel extract`
finds them."""

from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm


class _Translations:
    """What WTForms asks for (`gettext`, `ngettext`), answered from Flask-Babel's catalog of the
    request; WTForms fills in the values itself."""

    def gettext(self, string):
        return get_translations().gettext(str(string))

    def ngettext(self, singular, plural, n):
        return get_translations().ngettext(str(singular), str(plural), n)


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _Translations()


#: WTForms' messages that our fields and validators can produce (kept for extraction).
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Not a valid choice."),
    lazy_ngettext(
        "'%(value)s' is not a valid choice for this field.", "'%(value)s' are not valid choices for this field.", 1
    ),
    _l("Invalid Choice: could not coerce."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
)
