"""Route guards: who may call a view. Anonymous users go to the login page;
logged-in users of another role get 403."""

from functools import wraps

from flask import abort
from flask_login import current_user

from ...extensions import login_manager


def role_required(*roles):
    """Allow only logged-in users whose type is one of `roles` (UserType values)."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.type not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorator
