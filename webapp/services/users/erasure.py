"""Leaving: a deletion asked for, cancelled by signing in, and carried out after DELETION_GRACE_DAYS."""

from ...extensions import db
from ...models import User


def cancel(user_id):
    """Signing in keeps the account: a deletion asked for is called off. True when there was one."""
    user = db.session.get(User, user_id)
    if user is None or user.deletion_due_at is None:
        return False
    user.deletion_due_at = None
    db.session.flush()
    return True
