"""GET /notifications (the page; htmx: the list's next page), POST /notifications/read (ids, or all)."""

import uuid

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ...services.notifications import inbox as notifications
from ...templating import page_or_partial, wants_partial
from . import bp


@bp.get("")
@login_required
def index():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    return page_or_partial(
        "notifications/index.html",
        "notifications/_list.html",
        found=notifications.page_for(current_user.id, page),
        unread=notifications.unread_count(current_user.id),
    )


def _ids(values):
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue  # not one of yours, whatever it is: nothing to mark
    return ids


@bp.post("/read")
@login_required
def read():
    """Mark read: the `id` fields given (at most 100), or every one with all=1. htmx with one id:
    that notification again, read (the unread count follows over Socket.IO); otherwise back to the list."""
    ids = None if request.form.get("all") else _ids(request.form.getlist("id")[:100])
    notifications.mark_read(current_user.id, ids)
    if wants_partial() and ids and len(ids) == 1:
        item = notifications.one_of(current_user.id, ids[0])
        if item is not None:
            return render_template("notifications/_item.html", item=item)
    return redirect(url_for("notifications.index"), code=303)
