"""Admin routes: admins only (anonymous -> login, other roles -> 403). Actions go through
services/admin/actions.py, which writes the audit trail; reads through services/admin/reports.py."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from ...boundary import flash_back, refusal
from ...csv_export import csv_response
from ...extensions import db
from ...models import (
    BillingKind,
    BillingTransaction,
    BillingTransactionType,
    ConsultationSession,
    Payout,
    PayoutStatus,
    SafetyFlag,
    User,
    UserStatus,
    UserType,
    WalletDirection,
    WalletTransactionType,
    utcnow,
)
from ...models.enums import label_of
from ...services import jobs, wallet
from ...services.admin import actions as admin
from ...services.admin import audit_trail, reports
from ...services.ai import safety
from ...services.errors import ValidationFailed
from ...services.messaging import attachments
from ...services.money import (
    earnings,
    invoices,
    ledger_checker,
    refunds,
    tax_report,
    taxes,
    topup_refunds,
    topups,
)
from ...services.money.amounts import format_money
from ...templating import local_time, page_or_partial, wants_partial
from ..auth.guards import role_required
from . import bp
from .asking import ask_first
from .forms import FlagForm, MinuteRefundForm, ReasonForm, RefundForm, audit_filter, ledger_filter

ADMIN = UserType.ADMIN
BILLING_SEED = {t.value for t in BillingTransactionType}


@bp.get("")
@role_required(ADMIN)
def index():
    now = utcnow()
    today = now.date()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    return render_template(
        "admin/index.html",
        today=reports.figures(day_start),
        month=reports.figures(month_start),
        today_date=today,
        month_date=month_start.date(),
        active=reports.active_sessions(),
        connected=reports.connected_people(),
        revenue=reports.daily_revenue(today),
        payouts=reports.open_payout_count(),
        last_check=ledger_checker.last_check(),
        undelivered=jobs.dead(),
        open_flags=safety.open_count(),
    )


def _ledger(kind, page_of, totals_of, csv_rows):
    f = ledger_filter(request.args)
    if request.args.get("format") == "csv":
        return csv_response(csv_rows(f), f"{kind}-ledger-{utcnow():%Y%m%d-%H%M%S}.csv")
    context = dict(kind=kind, f=f, page=page_of(f), totals=totals_of(f), types=_types(kind))
    return page_or_partial("admin/ledger.html", f"admin/_{kind}_rows.html", **context)


def _types(kind):
    """The type filter's choices: the seed's transaction types, then the product's kinds (and directions)."""
    if kind == "billing":
        return [t.value for t in BillingTransactionType] + [t.value for t in BillingKind if t.value not in BILLING_SEED]
    seed = [t.value for t in WalletTransactionType]
    return seed + [t.value for t in WalletDirection] + [t.value for t in BillingKind if t.value not in seed]


@bp.get("/ledger/billing")
@role_required(ADMIN)
def billing_ledger():
    return _ledger("billing", reports.billing_page, reports.billing_totals, reports.billing_csv_rows)


@bp.get("/ledger/wallet")
@role_required(ADMIN)
def wallet_ledger():
    return _ledger("wallet", reports.wallet_page, reports.wallet_totals, reports.wallet_csv_rows)


@bp.get("/ledger/verify")
@role_required(ADMIN)
def verify():
    """Verify the whole ledger now (on demand; the overview shows the last result)."""
    report = ledger_checker.record("admin")
    return render_template("admin/verify.html", report=report), 200 if report.ok else 409


def _topup_or_404(topup_id):
    topup = db.session.get(BillingTransaction, topup_id)
    if topup is None or topup.kind != BillingKind.TOPUP:
        abort(404)
    return topup


def _topup_refund_page(topup, form=None, status=200):
    total, tax = topups.price_of(topup)
    return render_template(
        "admin/topup_refund.html",
        topup=topup,
        person=db.session.get(User, topup.user_id),
        total=total,
        tax=tax,
        invoice=invoices.invoice_of(topup.id),
        refundable=topup_refunds.refundable(topup),
        form=form or ReasonForm(formdata=None),
    ), status


@bp.get("/topups/<uuid:topup_id>/refund")
@role_required(ADMIN)
def topup_refund(topup_id):
    """Asks first: who gets what back, through which gateway, and what the credit note says."""
    return _topup_refund_page(_topup_or_404(topup_id))


def _topup_refund_refused(error, topup_id):
    form = ReasonForm()
    form.reason.errors = [error.message]
    return _topup_refund_page(_topup_or_404(topup_id), form, error.status)


@bp.post("/topups/<uuid:topup_id>/refund")
@role_required(ADMIN)
@refusal(_topup_refund_refused)
def topup_refund_confirm(topup_id):
    topup = _topup_or_404(topup_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _topup_refund_page(topup, form, 422)
    leg, note, _ = admin.refund_topup(topup_id, admin_id=current_user.id, reason=form.reason.data)
    total, _ = topups.price_of(topup)
    flash(gettext("%(amount)s is being paid back through %(gateway)s; credit note %(number)s issued.",
                  amount=format_money(total), gateway=topup.details.get("provider"),
                  number=note.number if note else "—"), "success")  # fmt: skip
    return redirect(url_for("admin.user", user_id=leg.user_id), code=303)


@bp.get("/tax")
@role_required(ADMIN)
def tax():
    """The month's tax invoices and credit notes (?month=YYYY-MM, India's calendar; ?format=csv for the
    accountant), and payments that did not match their order."""
    first = tax_report.month_of(request.args.get("month"), utcnow().astimezone(earnings.zone()).date())
    if request.args.get("format") == "csv":
        return csv_response(tax_report.csv_rows(first), f"tax-{first:%Y-%m}.csv")
    rows = tax_report.documents(first)
    return render_template(
        "admin/tax.html",
        month=first,
        rows=rows,
        totals=tax_report.totals(rows),
        problems=tax_report.mismatched_payments(),
        state_name=taxes.state_name,
    )


@bp.get("/sessions/<uuid:session_id>")
@role_required(ADMIN)
def session(session_id, form=None, status=200):
    """Everything a dispute needs: participants, the conversation as they saw it (reading it is
    audited), the minute-by-minute billing with refund-from-minute, the ledger rows, the audit trail."""
    found = db.session.get(ConsultationSession, session_id)
    if found is None:
        abort(404)
    form = form or RefundForm(number=refunds.next_refund_number(session_id), formdata=None)
    rows = reports.billing_page(ledger_filter({"session": str(session_id)}), per_page=1000)
    messages = reports.conversation(session_id)
    if status == 200:
        admin.record_conversation_read(session_id, admin_id=current_user.id, messages=len(messages))
    return render_template(
        "admin/session.html",
        session=found,
        timeline=reports.session_timeline(found),
        rows=rows,
        messages=messages,
        files=attachments.of_session(session_id),
        flags=safety.of_session(session_id),
        minutes=reports.minutes_of(session_id),
        form=form,
        audit=audit_trail.history_of("session", session_id),
    ), status


def _refund_refused(error, session_id, **_):
    """The session page again (422), the refusal under the reason or the amount."""
    form = RefundForm()
    field = form.reason if getattr(error, "field", None) == "reason" else form.amount
    field.errors = [error.message]
    return session(session_id, form=form, status=422)


@bp.post("/sessions/<uuid:session_id>/refund")
@role_required(ADMIN)
@refusal(_refund_refused)
def refund(session_id):
    form = RefundForm()
    if not form.validate_on_submit():
        return session(session_id, form=form, status=422)
    found = db.session.get(ConsultationSession, session_id)
    amount = refunds.refundable_amount(found, None if form.scope.data == "full" else form.amount.data)
    asked = ask_first(
        gettext("Refund %(amount)s to %(name)s?", amount=format_money(amount), name=found.user.name),
        [(gettext("Consultation"), gettext("%(channel)s with %(name)s", channel=found.channel.label,
                                            name=found.astrologer.name)),
         (gettext("Requested"), local_time(found.requested_at)),
         (gettext("Charged so far"), format_money(found.total_cost)),
         (gettext("Reason"), form.reason.data)],
        gettext("Refund %(amount)s", amount=format_money(amount)),
        url_for("admin.session", session_id=session_id),
    )  # fmt: skip
    if asked:
        return asked
    result = admin.refund_session(
        session_id,
        admin_id=current_user.id,
        reason=form.reason.data,
        number=int(form.number.data or 0) or refunds.next_refund_number(session_id),
        amount=None if form.scope.data == "full" else amount,
    )
    flash(gettext("Refunded %(amount)s to the user.", amount=format_money(result.refund.amount)), "success")
    return redirect(url_for("admin.session", session_id=session_id), code=303)


@bp.post("/sessions/<uuid:session_id>/refund-from/<int:minute>")
@role_required(ADMIN)
@refusal(_refund_refused)
def refund_from(session_id, minute):
    """One click: refund minutes `minute`.. in proportion (the form's number makes a double click one refund)."""
    form = MinuteRefundForm()
    if not form.validate_on_submit():
        return session(session_id, form=RefundForm(formdata=None), status=422)
    found = db.session.get(ConsultationSession, session_id)
    asked = ask_first(
        gettext("Refund %(name)s's minutes from minute %(minute)s on?", name=found.user.name, minute=minute),
        [(gettext("Consultation"), gettext("%(channel)s with %(name)s", channel=found.channel.label,
                                            name=found.astrologer.name)),
         (gettext("Charged so far"), format_money(found.total_cost))],
        gettext("Refund from minute %(minute)s", minute=minute),
        url_for("admin.session", session_id=session_id),
    )  # fmt: skip
    if asked:
        return asked
    result = admin.refund_from_minute(
        session_id, minute, admin_id=current_user.id, number=int(form.number.data), reason=form.reason.data
    )
    flash(
        gettext(
            "Refunded %(amount)s (minute %(minute)s on) to the user.",
            amount=format_money(result.refund.amount),
            minute=minute,
        ),
        "success",
    )
    return redirect(url_for("admin.session", session_id=session_id), code=303)


@bp.get("/users")
@role_required(ADMIN)
def users():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    q, type_, status = (request.args.get(k, "") for k in ("q", "type", "status"))
    found = reports.people_page(q.strip()[:100], type_ or None, status or None, page)
    context = dict(rows=found.items, has_more=found.has_more, page=found.page, q=q, type=type_, status=status)
    return page_or_partial("admin/users.html", "admin/_users_rows.html", **context)


@bp.get("/users/<uuid:user_id>")
@role_required(ADMIN)
def user(user_id):
    person = db.session.get(User, user_id)
    if person is None or person.type == UserType.SYSTEM:
        abort(404)
    as_astrologer = person.type == UserType.ASTROLOGER
    column = ConsultationSession.astrologer_id if as_astrologer else ConsultationSession.user_id
    sessions = (
        db.session.execute(
            db.select(ConsultationSession)
            .where(column == user_id)
            .order_by(ConsultationSession.requested_at.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    return render_template(
        "admin/user.html",
        person=person,
        wallet=wallet.wallet_of(user_id),
        rows=reports.billing_page(ledger_filter({"user": person.email or person.phone or ""}), per_page=50)
        if (person.email or person.phone)
        else None,
        sessions=sessions,
        paid_topups=reports.paid_topups(user_id),
        audit=audit_trail.history_of("user", user_id),
        payouts=reports.payouts_page("all", astrologer_id=user_id, per_page=20) if as_astrologer else None,
        position=earnings.position_of(user_id) if as_astrologer else None,
    )


@bp.post("/users/<uuid:user_id>/status")
@role_required(ADMIN)
@refusal(flash_back("admin.user"))
def user_status(user_id):
    try:
        status = UserStatus(request.form.get("status", ""))
    except ValueError:
        raise ValidationFailed("status", gettext("Choose active or suspended.")) from None
    person = db.session.get(User, user_id)
    if person is not None and status == UserStatus.SUSPENDED:
        open_sessions = reports.open_session_count(user_id)
        asked = ask_first(
            gettext("Suspend %(name)s?", name=person.name),
            [(gettext("Open consultations"), ngettext("%(num)d ends now and is billed to this minute",
                                                      "%(num)d end now and are billed to this minute",
                                                      open_sessions) if open_sessions else gettext("None")),
             (gettext("Wallet"), format_money(wallet.wallet_of(user_id).current_balance))],
            gettext("Suspend %(name)s", name=person.name),
            url_for("admin.user", user_id=user_id),
        )  # fmt: skip
        if asked:
            return asked
    admin.set_user_status(user_id, status, admin_id=current_user.id)
    flash(gettext("Account status saved."), "success")
    return redirect(url_for("admin.user", user_id=user_id), code=303)


@bp.post("/astrologers/<uuid:astrologer_id>/approve")
@role_required(ADMIN)
@refusal(flash_back("admin.user", user_id="astrologer_id"))
def approve_astrologer(astrologer_id):
    admin.approve_astrologer(astrologer_id, admin_id=current_user.id)
    flash(gettext("Approved: the astrologer is listed now."), "success")
    return redirect(url_for("admin.user", user_id=astrologer_id), code=303)


@bp.get("/payouts")
@role_required(ADMIN)
def payouts():
    """Payouts by status (open ones first: requested and approved), each with its next step."""
    view = request.args.get("status", "open")
    view = view if view in reports.PAYOUT_VIEWS else "open"
    found = reports.payouts_page(view, page=request.args.get("page", 1, type=int))
    return render_template("admin/payouts.html", page=found, view=view, views=list(reports.PAYOUT_VIEWS))


@bp.get("/payouts/<uuid:payout_id>")
@role_required(ADMIN)
def payout(payout_id):
    found = db.session.get(Payout, payout_id)
    if found is None:
        abort(404)
    return render_template(
        "admin/payout.html",
        payout=found,
        position=earnings.position_of(found.astrologer_id),
        audit=audit_trail.history_of("payout", payout_id),
    )


def _payout_or_404(payout_id):
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        abort(404)
    return payout


def _payout_facts(payout, form):
    facts = [(gettext("Requested"), local_time(payout.requested_at)), (gettext("Status"), label_of(payout.status))]
    if form.reference.data:
        facts.append((gettext("Bank reference (UTR)"), form.reference.data))
    if form.reason.data:
        facts.append((gettext("Reason"), form.reason.data))
    return facts


def _ask_about_payout(payout_id, form, question, confirm):
    """The question before a step of a payout (None once confirmed): `question(amount, name)` and
    `confirm(amount)` say it with the payout's amount and astrologer."""
    payout = _payout_or_404(payout_id)
    amount = format_money(payout.amount)
    return ask_first(
        question(amount, payout.astrologer.name), _payout_facts(payout, form), confirm(amount), url_for("admin.payouts")
    )


def _payout_form():
    form = ReasonForm()
    if not form.validate_on_submit():
        name, errors = next(iter(form.errors.items()))
        raise ValidationFailed(name, f"{getattr(form, name).label.text}: {errors[0]}")
    return form


@bp.post("/payouts/<uuid:payout_id>/approve")
@role_required(ADMIN)
@refusal(flash_back("admin.payouts"))
def approve_payout(payout_id):
    form = _payout_form()
    asked = _ask_about_payout(
        payout_id,
        form,
        lambda amount, name: gettext("Approve a payout of %(amount)s to %(name)s?", amount=amount, name=name),
        lambda amount: gettext("Approve %(amount)s", amount=amount),
    )
    if asked:
        return asked
    done = admin.approve_payout(payout_id, admin_id=current_user.id, reference=form.reference.data)
    flash(
        gettext("Payout approved and paid: the money has left the wallet.")
        if done.status == PayoutStatus.PAID
        else gettext("Payout approved; record the bank's reference once the transfer is made."),
        "success",
    )
    return redirect(url_for("admin.payouts"), code=303)


@bp.post("/payouts/<uuid:payout_id>/paid")
@role_required(ADMIN)
@refusal(flash_back("admin.payouts"))
def payout_paid(payout_id):
    form = _payout_form()
    asked = _ask_about_payout(
        payout_id,
        form,
        lambda amount, name: gettext("Record the payout of %(amount)s to %(name)s as paid?", amount=amount, name=name),
        lambda amount: gettext("Record %(amount)s as paid", amount=amount),
    )
    if asked:
        return asked
    admin.mark_payout_paid(payout_id, admin_id=current_user.id, reference=form.reference.data)
    flash(gettext("Payout recorded as paid: the money has left the wallet."), "success")
    return redirect(url_for("admin.payouts"), code=303)


@bp.post("/payouts/<uuid:payout_id>/reject")
@role_required(ADMIN)
@refusal(flash_back("admin.payouts"))
def reject_payout(payout_id):
    form = _payout_form()
    admin.checked_reason(form.reason.data)  # before asking: a rejection needs its reason
    asked = _ask_about_payout(
        payout_id,
        form,
        lambda amount, name: gettext("Reject the payout of %(amount)s to %(name)s?", amount=amount, name=name),
        lambda amount: gettext("Reject %(amount)s", amount=amount),
    )
    if asked:
        return asked
    admin.reject_payout(payout_id, admin_id=current_user.id, reason=form.reason.data)
    flash(gettext("Payout rejected; the amount can be withdrawn again."), "success")
    return redirect(url_for("admin.payouts"), code=303)


@bp.get("/audit")
@role_required(ADMIN)
def audit():
    """The audit trail, filtered by actor, target, action and date; ?format=csv: every matching entry."""
    f = audit_filter(request.args)
    if request.args.get("format") == "csv":
        return csv_response(audit_trail.csv_rows(f), f"audit-{utcnow():%Y%m%d-%H%M%S}.csv")
    context = dict(f=f, page=audit_trail.page(f), actions=audit_trail.ACTIONS, changes=audit_trail.changes)
    return page_or_partial("admin/audit.html", "admin/_audit_rows.html", **context)


@bp.get("/flags")
@role_required(ADMIN)
def flags():
    """The safety review's queue: flags by status, rule, source and astrologer, with their passages."""
    f = safety.FlagFilter.from_args(request.args)
    page = safety.queue(f, page=request.args.get("page", 1, type=int))
    context = dict(f=f, page=page, rules=safety.RULES, views=safety.VIEWS)
    return page_or_partial("admin/flags.html", "admin/_flag_rows.html", **context)


def _flag_refused(error, flag_id):
    """An unknown flag is a 404; otherwise htmx gets the flag again with the refusal (422), a form
    post the refusal flashed on the queue."""
    flag = db.session.get(SafetyFlag, flag_id)
    if flag is None:
        abort(404)
    if wants_partial():
        return render_template("admin/_flag_row.html", flag=flag, refusal=error.message), 422
    return flash_back("admin.flags")(error)


@bp.post("/flags/<uuid:flag_id>")
@role_required(ADMIN)
@refusal(_flag_refused)
def decide_flag(flag_id):
    """Confirm or dismiss a flag (action, note); htmx swaps the flag's row, a form post returns to the queue."""
    form = FlagForm()
    if not form.validate_on_submit():
        name, errors = next(iter(form.errors.items()))
        raise ValidationFailed(name, errors[0])
    flag = admin.decide_flag(flag_id, admin_id=current_user.id, action=form.action.data, note=form.note.data)
    if wants_partial():
        return render_template("admin/_flag_row.html", flag=flag)
    flash(gettext("Flag %(status)s.", status=label_of(flag.status)), "success")
    return redirect(url_for("admin.flags"), code=303)
