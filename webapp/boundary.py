"""Where a request's or a socket event's transaction ends: here, once, for every route and handler.

HTTP: a request is one transaction. When the view has answered, the boundary commits if the
status is below 400 and rolls back otherwise (a form sent back with its errors, a refusal, a 404:
nothing is half-written). A DomainError a view lets through is rolled back and answered in one
place: JSON {error, message} for machine clients, the error page with the refusal's own words for
people, with the error's status. A view that answers a refusal its own way names that answer with
`@refusal(respond)`: the boundary rolls back and returns respond(error, **view_args); `flash_back`
is the common one (the refusal flashed, then a 303 back to a page).

Socket.IO: `@socket_transaction` wraps a handler the same way: it commits when the handler
returns, rolls back on any exception, and a DomainError becomes the error ack
{ok: false, error, message}; anything else is logged and acknowledged as `internal`, without detail.

Services never commit. The few places that end a transaction themselves (the periodic loop and its
pass, the job runner, the chat writer, the sync API, CLI commands, demo data) are named, each with
its reason, in one list: tests/unit/test_boundary.py, TRANSACTION_OWNERS; any other fails the suite.
"""

from functools import wraps

from flask import current_app, flash, redirect, url_for

from .error_pages import abandon_transaction, error_response
from .extensions import db
from .services.errors import DomainError, Unexpected


def error_ack(code, message):
    """A refused socket event's acknowledgement."""
    return {"ok": False, "error": code, "message": message}


# ---------------------------------------------------------------- HTTP


def init_app(app):
    @app.after_request
    def end_transaction(response):
        if response.status_code < 400:
            db.session.commit()  # a failure here is a 500: its handler rolls back
        else:
            abandon_transaction()  # never fails: a lost connection must not turn a 503 into a 500
        return response

    @app.errorhandler(DomainError)
    def refused(error):
        abandon_transaction()
        return error_response(error.status, error.message, code=error.code)


def refusal(respond):
    """Answer a DomainError of the decorated view with respond(error, **view_args), after rolling
    its transaction back (the response's own status then decides nothing more)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except DomainError as error:
                db.session.rollback()
                return respond(error, **kwargs)

        return wrapped

    return decorate


def flash_back(endpoint, **arguments):
    """A `respond` for @refusal: the refusal's message flashed, then a 303 back to `endpoint`.
    `arguments` map the endpoint's URL arguments to the view's; by default the endpoint gets the
    view's arguments it takes, by name."""

    def respond(error, **view_args):
        flash(error.message, "error")
        if arguments:
            values = {name: view_args[source] for name, source in arguments.items()}
        else:
            takes = set().union(*(rule.arguments for rule in current_app.url_map.iter_rules(endpoint)))
            values = {name: value for name, value in view_args.items() if name in takes}
        return redirect(url_for(endpoint, **values), code=303)

    return respond


# ---------------------------------------------------------------- Socket.IO


def socket_transaction(handler):
    """Commit after the handler returns, roll back on any exception; a DomainError becomes its error
    ack, anything else the `internal` ack (logged)."""

    @wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            ack = handler(*args, **kwargs)
            db.session.commit()
            return ack
        except DomainError as error:
            db.session.rollback()
            return error_ack(error.code, error.message)
        except Exception:
            db.session.rollback()
            current_app.logger.exception("socket event %s failed", handler.__name__)
            return error_ack(Unexpected.code, Unexpected.message)

    return wrapped


def form_again(make_form, render, status=None):
    """A `respond` for @refusal: the form rebuilt from what was sent, the refusal shown under its
    field (ValidationFailed.field) or above the form, and render(form) answered with `status`
    (default: the refusal's)."""

    def respond(error, **view_args):
        form = make_form()
        field = getattr(form, getattr(error, "field", None) or "", None)
        if field is not None:
            field.errors = [*field.errors, error.message]
        else:
            form.form_errors.append(error.message)
        return render(form), status or error.status

    return respond
