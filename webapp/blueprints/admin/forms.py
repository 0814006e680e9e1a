"""Admin forms and the ledger filter parser (bad values fall back to no filter, never a 500)."""

import uuid
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ...forms import Form
from ...models import BillingStatus
from ...services import paging
from ...services.admin.audit_trail import ACTIONS, AuditFilter
from ...services.admin.reports import BILLING_FILTER_TYPES, WALLET_FILTER_TYPES, LedgerFilter
from ...services.errors import InvalidAmount
from ...services.money import amounts


def _date(raw):
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _uuid(raw):
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def _page(raw):
    try:
        return paging.clamp_page(int(raw or 1))
    except ValueError:
        return 1


def ledger_filter(args):
    kinds = BILLING_FILTER_TYPES | WALLET_FILTER_TYPES  # each ledger ignores the other's words
    session, page = _uuid(args.get("session")), _page(args.get("page"))
    return LedgerFilter(
        user=(args.get("user") or "").strip()[:100],
        type=args.get("type") if args.get("type") in kinds else None,
        status=args.get("status") if args.get("status") in {s.value for s in BillingStatus} else None,
        session=session,
        date_from=_date(args.get("date_from")),
        date_to=_date(args.get("date_to")),
        page=page,
        oldest_first=args.get("sort") == "oldest",
    )


def audit_filter(args):
    return AuditFilter(
        actor=(args.get("actor") or "").strip()[:100],
        target=_uuid(args.get("target")),
        action=args.get("action") if args.get("action") in ACTIONS else None,
        since=_date(args.get("since")),
        until=_date(args.get("until")),
        page=_page(args.get("page")),
    )


class RefundForm(Form):
    """A full refund is a choice spelled out; a part needs its amount (never a blank that means "all")."""

    scope = RadioField(
        _l("How much"),
        choices=[SelectChoice("full", _l("Everything left")), SelectChoice("part", _l("An amount"))],
        validators=[DataRequired(_l("Choose a full refund or an amount."))],
    )
    amount = StringField(_l("Amount"), validators=[Length(max=16)])
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Say why.")), Length(max=200)])

    def validate_amount(self, field):
        if self.scope.data == "part":
            if not (field.data or "").strip():
                raise ValidationError(_l("Enter the amount to refund, or choose everything left."))
            try:
                amounts.parse_amount(field.data)
            except InvalidAmount as error:
                raise ValidationError(error.message) from None

    number = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,6}$", message=_l("Reload the page and try again."))])


class ReasonForm(Form):
    reason = StringField(_l("Reason"), validators=[Length(max=200)])
    reference = StringField(_l("Bank reference (UTR)"), validators=[Optional(), Length(max=100)])


class FlagForm(Form):
    """An admin's decision on a safety flag: the service checks the action and the note again."""

    action = StringField(validators=[DataRequired(_l("Choose confirm or dismiss.")), Length(max=16)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500, message=_l("Use at most 500 characters."))])


class MinuteRefundForm(Form):
    """Refund from minute N: one click (the reason is optional and says which minutes by default)."""

    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])
    number = HiddenField(
        validators=[DataRequired(), Regexp(r"^[0-9]{1,6}$", message=_l("Reload the page and try again."))]
    )
