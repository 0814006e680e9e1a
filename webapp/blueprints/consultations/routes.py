"""Consultation routes. A session that is not yours answers 404."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_htmx import make_response
from flask_login import current_user, login_required

from ...boundary import flash_back, refusal
from ...error_pages import wants_json
from ...extensions import limiter
from ...models import MessageType, SessionStatus, UserType, utcnow
from ...ratelimits import chat_sender, configured, user_or_address
from ...security import body_limit
from ...services.ai import language_model as ai
from ...services.ai import summaries
from ...services.astrologers import marketplace
from ...services.astrology import birth_chart
from ...services.billing import session_bar
from ...services.consultations import caps, lifecycle, lookup, queue, ratings
from ...services.errors import (
    AlreadyInSession,
    InsufficientBalance,
    SessionNotFound,
    ValidationFailed,
)
from ...services.messaging import attachments, chat, transcripts
from ...services.money import earnings, refunds
from ...templating import page_or_partial, viewer_zone_name, wants_partial
from ..wallet.forms import PRESETS, topup_form
from . import bp
from .forms import CapForm, RatingForm, RequestForm, UserRatingForm


def _session_or_404(session_id):
    try:
        return lookup.get_for_participant(session_id, current_user.id)
    except SessionNotFound:
        abort(404)


def _request_refused(error):
    """The refusal of a consultation request (rolled back by the boundary): what happened and what to do next."""
    try:
        astrologer_id = uuid.UUID(request.form.get("astrologer_id", ""))
    except ValueError:
        astrologer_id = None
    open_session = None
    if isinstance(error, AlreadyInSession):
        open_session = error.details.get("session_id")
        if not open_session:  # a lost race: the winner, read in the fresh transaction
            found = lookup.open_session_of(current_user.id)
            open_session = str(found.id) if found else None
    return render_template(
        "consultations/refused.html",
        error=error,
        astrologer_id=astrologer_id,
        recharge=isinstance(error, InsufficientBalance),
        open_session=open_session,
    ), error.status


@bp.post("")
@login_required
@limiter.limit(
    configured("RATELIMIT_CONSULTATION_REQUEST"),
    key_func=user_or_address,
    error_message=lambda: gettext("Too many consultation requests."),
)
@refusal(_request_refused)
def create():
    if current_user.type != UserType.USER:  # before anything else is looked at
        abort(403, gettext("Consultations are started from a user account."))
    form = RequestForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        astrologer_id = uuid.UUID(form.astrologer_id.data)
    except ValueError:
        abort(404)
    if form.share_chart.data:
        birth_chart.share(current_user.id)
    session = lifecycle.request(
        current_user.id,
        astrologer_id,
        form.session_type.data or "chat",
        cap=(form.cap_kind.data or "none", form.cap_value.data),
    )
    return redirect(url_for("consultations.show", session_id=session.id), code=303)


def _cap_refused(error, session_id=None):
    return render_template("consultations/_cap_status.html", message=error.message, refused=True), error.status


@bp.post("/<uuid:session_id>/cap")
@login_required
@refusal(_cap_refused)
def cap(session_id):
    """The user sets, changes or lifts the spending cap from the room (htmx: the status line)."""
    form = CapForm()
    if not form.validate_on_submit():
        return _cap_refused(ValidationFailed("cap", gettext("Choose no limit, a number of minutes or an amount.")))
    session = caps.change(session_id, current_user.id, form.cap_kind.data or "none", form.cap_value.data)
    message = (
        gettext("Limit: %(limit)s.", limit=caps.describe(session))
        if session.cap_minutes
        else gettext("No limit: the consultation runs until it is ended.")
    )
    if wants_partial():
        return render_template("consultations/_cap_status.html", message=message, refused=False)
    flash(message, "success")
    return redirect(url_for("consultations.show", session_id=session_id), code=303)


@bp.get("/<uuid:session_id>")
@login_required
def show(session_id):
    session = _session_or_404(session_id)
    is_user = session.user_id == current_user.id
    if session.status == SessionStatus.WAITING:
        if not is_user:
            return redirect(url_for("dashboard.index"))
        position = queue.queue_position(session)
        return render_template(
            "consultations/waiting.html",
            session=session,
            position=position,
            eta=queue.estimated_wait_seconds(session, position),
            quote=caps.quote(session.rate_per_minute, session.cap_minutes),
        )
    conversation = _conversation(session)
    if session.status == SessionStatus.ACTIVE:
        return render_template(
            "consultations/room.html",
            session=session,
            is_user=is_user,
            client_chart=None if is_user else birth_chart.for_astrologer(session.user.profile, current_user.profile),
            state_now=utcnow(),
            state=session_bar.session_state(session, current_user.id),
            form=topup_form(formdata=None),
            presets=PRESETS,
            specimens=_message_specimens(session),
            **conversation,
        )
    return _summary(session, is_user, conversation)


SPECIMEN_SENT_AT = datetime(2000, 1, 1, tzinfo=UTC)
NO_ATTACHMENT = uuid.UUID(int=0)


def _message_specimens(session):
    """One blank message of each shape (own, other's, system; text, photo, document, removed file),
    rendered by the same templates as the stored ones into the room's <template>: static/js/chat.js
    clones the matching one for a live message and fills in its text, time and state, so a message's
    markup is written once, in consultations/_message.html."""
    other = session.astrologer_id if current_user.id == session.user_id else session.user_id
    shapes = {
        "text": (MessageType.TEXT, None),
        "image": (MessageType.IMAGE, {"attachment_id": NO_ATTACHMENT, "width": 1, "height": 1}),
        "file": (MessageType.FILE, {"attachment_id": NO_ATTACHMENT, "size": 0}),
        "removed": (MessageType.FILE, {"removed": True}),
    }
    blank = {"seq": 0, "client_message_id": None, "content": "", "sent_at": SPECIMEN_SENT_AT}
    specimens = [
        SimpleNamespace(
            **blank, specimen=f"{kind}-{shape}", message_type=type_, message_metadata=metadata, sender_id=sender
        )
        for kind, sender in (("own", current_user.id), ("other", other))
        for shape, (type_, metadata) in shapes.items()
    ]
    specimens.append(
        SimpleNamespace(
            **blank, specimen="system-text", message_type=MessageType.SYSTEM, message_metadata=None, sender_id=None
        )
    )
    return specimens


def _summary(session, is_user, conversation, form=None, user_form=None, error=None, status=200):
    """The summary page: the user may rate the astrologer, the astrologer may rate the user (privately)."""
    completed = session.status == SessionStatus.COMPLETED
    return render_template(
        "consultations/summary.html",
        session=session,
        is_user=is_user,
        **conversation,
        form=form or RatingForm(),
        user_form=user_form or UserRatingForm(),
        can_rate=is_user
        and error is None
        and session.astrologer_rating is None
        and session.billed_minutes >= 1
        and session.total_cost > 0,
        can_rate_user=not is_user and completed and session.user_rating is None,
        suggestions=marketplace.similar_available(session.astrologer_id)
        if is_user and session.status == SessionStatus.CANCELLED and form is None
        else [],
        error=error,
        ai_summary=_ai_summary_panel(session.id) if is_user and completed and ai.enabled() else None,
    ), status


# ---------------------------------------------------------------- the user's AI summary (services/ai/summaries.py)


def _ai_summary_panel(session_id, message=None):
    """What the summary panel shows: the user's summary (or none), whether consent is still to be asked."""
    return dict(
        session_id=session_id,
        summary=summaries.of(session_id, current_user.id),
        needs_consent=not ai.consented_at(current_user.profile),
        language=summaries.language_of(current_user.profile),
        message=message,
    )


def _ai_summary_refused(error, session_id):
    """No summary here (AI off, not yours, not ended): 404. Otherwise the panel again with the refusal
    (htmx; 422 swaps in place), or the summary page with it flashed."""
    if isinstance(error, summaries.SummaryNotAvailable):
        abort(404)
    if wants_partial():
        return render_template(
            "consultations/_ai_summary.html", panel=_ai_summary_panel(session_id, error.message)
        ), 422
    flash(error.message, "error")
    return redirect(url_for("consultations.show", session_id=session_id, _anchor="ai-summary"), code=303)


@bp.get("/<uuid:session_id>/summary")
@login_required
@refusal(_ai_summary_refused)
def ai_summary(session_id):
    """The user's summary panel (htmx polls it while the summary is being written)."""
    if not wants_partial():
        summaries.of(session_id, current_user.id)  # 404 unless there can be one
        return redirect(url_for("consultations.show", session_id=session_id, _anchor="ai-summary"))
    return render_template("consultations/_ai_summary.html", panel=_ai_summary_panel(session_id))


@bp.post("/<uuid:session_id>/summary")
@login_required
@refusal(_ai_summary_refused)
def request_summary(session_id):
    """The user asks for a summary (consent: "y" the first time); written by a job."""
    summaries.request(session_id, current_user.id, consent=request.form.get("consent") == "y")
    if wants_partial():
        return render_template("consultations/_ai_summary.html", panel=_ai_summary_panel(session_id))
    return redirect(url_for("consultations.show", session_id=session_id, _anchor="ai-summary"), code=303)


@bp.post("/<uuid:session_id>/summary/delete")
@login_required
@refusal(_ai_summary_refused)
def delete_summary(session_id):
    """The user deletes their summary."""
    summaries.delete(session_id, current_user.id)
    if wants_partial():
        return render_template("consultations/_ai_summary.html", panel=_ai_summary_panel(session_id))
    flash(gettext("Your summary was deleted."), "info")
    return redirect(url_for("consultations.show", session_id=session_id, _anchor="ai-summary"), code=303)


@bp.post("/<uuid:session_id>/cancel")
@login_required
@refusal(flash_back("consultations.show"))
def cancel(session_id):
    session = _session_or_404(session_id)
    if session.user_id != current_user.id:
        abort(404)
    lifecycle.cancel(session_id, current_user.id)
    flash(gettext("Your request was cancelled and the held amount released."), "info")
    return redirect(url_for("consultations.show", session_id=session_id), code=303)


def _to_summary(session_id):
    summary = url_for("consultations.show", session_id=session_id)
    if wants_partial():
        return make_response("", redirect=summary)  # a whole-page navigation to the summary
    return redirect(summary, code=303)


def _end_refused(error, session_id):
    flash(error.message, "error")
    return _to_summary(session_id)


@bp.post("/<uuid:session_id>/end")
@login_required
@refusal(_end_refused)
def end(session_id):
    _session_or_404(session_id)
    lifecycle.end(session_id, by_user_id=current_user.id)
    return _to_summary(session_id)


def _rating_refused(error, session_id):
    """The summary again with the refusal (422); its form keeps what was sent."""
    session = _session_or_404(session_id)
    is_user = session.user_id == current_user.id
    forms = {"form": RatingForm()} if is_user else {"user_form": UserRatingForm()}
    return _summary(session, is_user, _conversation(session), error=error.message, status=422, **forms)


@bp.post("/<uuid:session_id>/rating")
@login_required
@refusal(_rating_refused)
def rating(session_id):
    session = _session_or_404(session_id)
    if session.user_id != current_user.id:
        abort(403, gettext("Only the user who consulted rates a consultation."))
    form = RatingForm()
    return _rated(
        session,
        form,
        lambda stars: ratings.rate(session_id, current_user.id, stars, form.review.data),
        gettext("Thank you for your rating."),
    )


@bp.post("/<uuid:session_id>/user-rating")
@login_required
@refusal(_rating_refused)
def user_rating(session_id):
    """The astrologer's private rating of the user of a completed consultation."""
    session = _session_or_404(session_id)
    if session.astrologer_id != current_user.id:
        abort(403, gettext("Only the astrologer of a consultation rates its user."))
    return _rated(
        session,
        UserRatingForm(),
        lambda stars: ratings.rate_user(session_id, current_user.id, stars),
        "Saved. Only the support team sees your rating of users.",
    )


def _rated(session, form, rate, thanks):
    """Apply a summary page's rating form with `rate(stars)`: back to the summary when it went through,
    the summary with the form's errors (422) when not (a refusal: _rating_refused)."""
    if form.validate_on_submit():
        rate(int(form.rating.data))
        flash(thanks, "success")
        return redirect(url_for("consultations.show", session_id=session.id), code=303)
    is_user = session.user_id == current_user.id
    forms = {"form": form} if is_user else {"user_form": form}
    return _summary(session, is_user, _conversation(session), status=422, **forms)


def _conversation(session):
    """The stored messages, and how far the other participant has received and read them (for the ticks)."""
    other = str(session.astrologer_id if session.user_id == current_user.id else session.user_id)
    return {
        "messages": chat.history(session.id, limit=None, viewer_id=current_user.id),
        "other_read_seq": chat.read_state(session.id).get(other, 0),
        "other_delivered_seq": chat.delivery_state(session.id).get(other, 0),
    }


@bp.post("/<uuid:session_id>/attachments")
@body_limit(lambda session_id: attachments.body_allowance(session_id, current_user, utcnow()))
@login_required
@limiter.limit(configured("RATELIMIT_CHAT_MESSAGES"), key_func=chat_sender, scope="chat-messages")
@limiter.limit(
    configured("RATELIMIT_ATTACHMENTS"), key_func=user_or_address, error_message=lambda: gettext("Too many files.")
)
def upload(session_id):
    """A participant sends a photo or a PDF (multipart: file, client_id): 201 with the stored message,
    200 for a resend of the same client_id; JSON when asked for, else the message's list item. A
    refusal is the boundary's (JSON {error, message} or the error page, with its status)."""
    message, created = attachments.send(
        session_id, current_user.id, request.form.get("client_id") or None, request.files.get("file"), utcnow()
    )
    status = 201 if created else 200
    if wants_json():
        return jsonify(chat.serialize(message)), status
    return render_template(
        "consultations/_message.html", message=message, other_read_seq=0, other_delivered_seq=0
    ), status


@bp.get("/<uuid:session_id>/messages")
@login_required
def messages(session_id):
    """Messages after `after_seq`, in order: JSON for clients that ask for it, the list items otherwise."""
    session = _session_or_404(session_id)
    after_seq = max(request.args.get("after_seq", 0, type=int) or 0, 0)
    found = chat.history(session.id, after_seq=after_seq, viewer_id=current_user.id)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(
            session_id=str(session.id),
            messages=[chat.serialize(m) for m in found],
            has_more=len(found) == chat.HISTORY_LIMIT,
        )
    conversation = _conversation(session)
    return render_template(
        "consultations/_messages.html",
        messages=found,
        other_read_seq=conversation["other_read_seq"],
        other_delivered_seq=conversation["other_delivered_seq"],
    )


@bp.get("/<uuid:session_id>/transcript.txt")
@login_required
def transcript(session_id):
    session = _session_or_404(session_id)
    names = {session.user_id: session.user.name, session.astrologer_id: session.astrologer.name}
    return Response(
        transcripts.plain_text(session, names, current_user.id, viewer_zone_name()),
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="consultation-{session.id}.txt"'},
    )


@bp.get("")
@login_required
def history():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    as_astrologer = current_user.type == UserType.ASTROLOGER
    sessions = lookup.history(current_user.id, as_astrologer=as_astrologer, page=page)
    return page_or_partial(
        "consultations/history.html",
        "consultations/_history.html",
        history=sessions,
        earned=earnings.by_session(current_user.id, sessions.items) if as_astrologer else {},
        refunded={} if as_astrologer else refunds.refunded_by_session(sessions.items),
        as_astrologer=as_astrologer,
        endpoint="consultations.history",
    )
