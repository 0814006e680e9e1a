"""The admin console: overview, ledgers, sessions and refunds, people, approvals, payouts."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.context_processor
def audit_words():
    """The audit trail's actions and fields in words, for every admin page that shows entries."""
    from ...services.admin import audit_trail

    return {"audit_actions": audit_trail.ACTIONS, "audit_changes": audit_trail.changes}


from . import routes  # noqa: E402,F401
