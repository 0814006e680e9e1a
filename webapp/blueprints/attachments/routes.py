"""A stored photo or document, sent by the app itself after checking who asks (participants and
admins; 404 for anyone else, as for an unknown id). Photos open in place (inline), documents are
downloads; both with nosniff and a CSP that lets the file run nothing (security.uploaded_file), and
cached by the browser only (private)."""

from flask import send_file
from flask_login import current_user, login_required

from ...models import UserType
from ...security import uploaded_file
from ...services.admin import actions as admin
from ...services.messaging import attachments
from . import bp

PRIVATE_CACHE_SECONDS = 3600  # a stored file never changes; only this browser may keep it


def _send(attachment_id, thumbnail):
    attachment = attachments.for_viewer(attachment_id, current_user)
    if current_user.type == UserType.ADMIN:  # the thumbnail shows the photo too: a read like any other
        admin.record_attachment_read(attachment, admin_id=current_user.id, thumbnail=thumbnail)
    stream, content_type = attachments.open_object(attachment, thumbnail=thumbnail)
    response = send_file(
        stream,
        mimetype=content_type,
        as_attachment=not attachment.is_image,  # a PDF is never shown inline by this site
        download_name=f"thumbnail-{attachment.name.rsplit('.', 1)[0]}.jpg" if thumbnail else attachment.name,
        etag=attachment.sha256 + ("-thumbnail" if thumbnail else ""),
        conditional=True,
    )
    response.cache_control.public = False
    response.cache_control.no_cache = None
    response.cache_control.private = True
    response.cache_control.max_age = PRIVATE_CACHE_SECONDS
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.get("/<uuid:attachment_id>")
@uploaded_file
@login_required
def download(attachment_id):
    return _send(attachment_id, thumbnail=False)


@bp.get("/<uuid:attachment_id>/thumbnail")
@uploaded_file
@login_required
def thumbnail(attachment_id):
    return _send(attachment_id, thumbnail=True)
