"""Domain errors: what a use case refuses, by name.

Routes turn them into a form error or a page with `status`; socket handlers
into an ack `{ok: false, error: code, message}`. `code` is stable for clients.
"""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """Base class: a refusal a user can be told about."""

    code = "error"
    status = 400
    message = _l("The request could not be completed.")

    def __init__(self, message=None, **details):
        # Written in the language of the request (or job) that refuses: a class's default is lazy.
        message = str(message or self.message)
        super().__init__(message)
        self.message = message
        self.details = details


class Unexpected(DomainError):
    """Something failed on our side (logged where it happened); nothing was stored."""

    code = "internal"
    status = 500
    message = _l("Something went wrong; please try again.")


class ValidationFailed(DomainError):
    code = "invalid"
    status = 422
    message = _l("Some of what you entered is not valid.")

    def __init__(self, field, message):
        super().__init__(message, field=field)
        self.field = field


class EmailTaken(ValidationFailed):
    code = "email_taken"
    status = 409

    def __init__(self):
        super().__init__("email", gettext("An account with this email already exists. Log in instead?"))


class PhoneTaken(ValidationFailed):
    code = "phone_taken"
    status = 409

    def __init__(self):
        super().__init__("phone", gettext("An account with this phone number already exists. Log in instead?"))


class NotAuthenticated(DomainError):
    code = "unauthorized"
    status = 401
    message = _l("Log in again to continue.")


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    message = _l("That email or phone and password do not match an account.")


class AccountSuspended(DomainError):
    code = "account_suspended"
    status = 403
    message = _l("This account is suspended. Contact support if you think this is a mistake.")


class AccountInactive(DomainError):
    code = "account_inactive"
    status = 403
    message = _l("This account is inactive. Contact support to use it again.")


class AccountDeleted(DomainError):
    code = "account_deleted"
    status = 403
    message = _l("This account has been closed.")


class InvalidAmount(DomainError):
    code = "invalid_amount"
    status = 422
    message = _l("The amount is not valid.")


class WalletFrozen(DomainError):
    code = "wallet_frozen"
    status = 409
    message = _l("This wallet is frozen; no money can move out of it. Contact support.")


class WalletSuspended(DomainError):
    code = "wallet_suspended"
    status = 409
    message = _l("This wallet is suspended with its account; no money can move out of it. Contact support.")


class InsufficientBalance(DomainError):
    code = "insufficient_balance"
    status = 402
    message = _l("Your balance is too low for this.")


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    status = 409
    message = _l("This operation was already done with different details.")


class UnknownOrder(DomainError):
    code = "unknown_order"
    status = 404
    message = _l("There is no such payment order.")


class PaymentMismatch(DomainError):
    code = "payment_mismatch"
    status = 409
    message = _l("The payment does not match its order.")


class OrderClosed(DomainError):
    code = "order_closed"
    status = 409
    message = _l("This payment order is already closed.")


class InvalidSignature(DomainError):
    code = "invalid_signature"
    status = 400
    message = _l("The request signature is missing, invalid or too old.")


class RefundTooLarge(DomainError):
    code = "refund_too_large"
    status = 422
    message = _l("A refund cannot exceed what is left of the session's charges.")


class NothingToRefund(DomainError):
    code = "nothing_to_refund"
    status = 409
    message = _l("Everything charged for this session has already been refunded.")


class PayoutClosed(DomainError):
    code = "payout_closed"
    status = 409
    message = _l("This payout has already been decided.")


class NotWithdrawable(DomainError):
    """A payout larger than the astrologer's withdrawable earnings (money topped up never is)."""

    code = "not_withdrawable"
    status = 422
    message = _l("This is more than you can withdraw now.")


class PayoutTooSoon(DomainError):
    code = "payout_too_soon"
    status = 422
    message = _l("You have asked for a payout recently; the payout schedule allows the next one later.")


class NotAllowed(DomainError):
    code = "not_allowed"
    status = 403
    message = _l("This account cannot do that.")


class AstrologerNotFound(DomainError):
    code = "astrologer_not_found"
    status = 404
    message = _l("There is no such astrologer.")


class AstrologerUnavailable(DomainError):
    code = "astrologer_unavailable"
    status = 409
    message = _l("This astrologer is not taking requests on this channel right now.")


class AstrologerFull(DomainError):
    code = "astrologer_full"
    status = 409
    message = _l("All your consultation slots are taken; end a session before accepting another.")


class AlreadyInSession(DomainError):
    code = "already_in_session"
    status = 409
    message = _l("You already have an open consultation. Finish or cancel it first.")


class SessionNotFound(DomainError):
    code = "session_not_found"
    status = 404
    message = _l("There is no such consultation.")


class IllegalTransition(DomainError):
    code = "illegal_transition"
    status = 409
    message = _l("This consultation cannot do that in its current state.")


class SessionNotActive(IllegalTransition):
    code = "session_not_active"
    message = _l("This consultation is not active.")


class RatingNotAllowed(DomainError):
    code = "rating_not_allowed"
    status = 409
    message = _l("This consultation cannot be rated.")


class FileTooLarge(DomainError):
    code = "file_too_large"
    status = 413
    message = _l("This file is too large to send.")


class UnsupportedFile(DomainError):
    code = "unsupported_file"
    status = 415
    message = _l("This kind of file cannot be sent. Send a photo (JPEG, PNG, WebP or HEIC) or a PDF.")


class DecodersBusy(DomainError):
    code = "busy"
    status = 503
    message = _l("Many photos are being prepared right now; send yours again in a minute.")


class AttachmentNotFound(DomainError):
    code = "attachment_not_found"
    status = 404
    message = _l("There is no such file.")


class AttachmentRemoved(DomainError):
    code = "attachment_removed"
    status = 410
    message = _l("This file was removed.")


class AccountLocked(DomainError):
    code = "account_locked"
    status = 403
    message = _l("This account is locked. Choose a new password with “Forgot password?” to open it again.")


class LinkInvalid(DomainError):
    code = "link_invalid"
    status = 410
    message = _l("This link has expired or has already been used. Ask for a new one.")


class CodeInvalid(ValidationFailed):
    code = "code_invalid"
    status = 422

    def __init__(self, message=None):
        super().__init__("code", message or gettext("That code is not right, or it has expired. Ask for a new one."))


class CodeTooSoon(ValidationFailed):
    code = "code_too_soon"
    status = 429

    def __init__(self, seconds):
        super().__init__(
            "phone", gettext("A code was just sent. You can ask for another in %(seconds)s seconds.", seconds=seconds)
        )
        self.seconds = seconds


class CodeLimit(ValidationFailed):
    code = "code_limit"
    status = 429

    def __init__(self):
        super().__init__("phone", gettext("Too many codes for this number today. Try again tomorrow."))


class SmsUnavailable(DomainError):
    code = "sms_unavailable"
    status = 503
    message = _l("We could not send a text message just now. Please try again in a minute.")


class DeletionBlocked(DomainError):
    code = "deletion_blocked"
    status = 409
    message = _l("Your account cannot be deleted yet.")
