"""Photos and documents in a consultation: what is accepted, what is stored, who sees it, and when it goes."""

import io
import struct
import uuid
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter

from webapp.extensions import db
from webapp.models import (
    Attachment,
    AuditEntry,
    Availability,
    Message,
    MessageType,
    SessionStatus,
    UserStatus,
    UserType,
    utcnow,
)
from webapp.services import periodic
from webapp.services.consultations import lifecycle
from webapp.services.messaging import _attachment_files as attachment_files
from webapp.services.messaging import attachment_storage, attachments, chat
from webapp.services.users import account_status

from ..conftest import AuthActions

FIXTURES = Path(__file__).parent.parent / "fixtures"
JSON = {"Accept": "application/json"}


# ---------------------------------------------------------------- files of every kind


def photo(format="JPEG", size=(40, 20), orientation=None, gps=False, mode="RGB"):
    """A picture in `format`; with an EXIF orientation and a GPS position when asked."""
    image = Image.new(mode, size, (200, 40, 40, 128) if mode == "RGBA" else (200, 40, 40))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (28.0, 36.0, 50.0), 3: "E", 4: (77.0, 12.0, 32.0)}
    exif[0x010F] = "PhoneCam"
    out = io.BytesIO()
    image.save(out, format, exif=exif.tobytes())
    return out.getvalue()


def pdf(pages=3):
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bomb(side=20000):
    """A PNG whose header declares side×side pixels, a few kilobytes on the wire."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\x00" * ((side // 8 + 1) * 64), 9)  # a few rows; the header is what counts
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


# ---------------------------------------------------------------- a consultation to send them in


@pytest.fixture
def room(app, consult, client):
    """An active chat; `room.send(data, name)` uploads as the user (the client is logged in as them)."""
    astrologer = consult.astrologer(email="astro@example.com")
    user = consult.user(email="user@example.com")
    session = consult.accept(consult.request(user, astrologer))
    auth = AuthActions(client)
    auth.login("user@example.com")
    token = auth.csrf_token()

    class Room:
        def send(self, data, name="photo.jpg", client_id=None, as_json=True, content_type="image/jpeg", http=client):
            return http.post(
                f"/consultations/{session.id}/attachments",
                data={
                    "csrf_token": token if http is client else AuthActions(http).csrf_token(),
                    "client_id": client_id or uuid.uuid4().hex,
                    "file": (io.BytesIO(data), name, content_type),
                },
                headers=JSON if as_json else {},
                content_type="multipart/form-data",
            )

    found = Room()
    found.session, found.user, found.astrologer, found.token = session, user, astrologer, token
    return found


def stored_objects(room):
    """The keys stored for the room's session (the folder is shared by the run's tests)."""
    folder = Path(attachment_storage.storage().root) / str(room.session.id)
    return sorted(f"{room.session.id}/{path.name}" for path in folder.glob("*")) if folder.exists() else []


def attachment_rows():
    return db.session.execute(db.select(Attachment)).scalars().all()


def downloaded(client, message, thumbnail=False):
    url = f"/attachments/{message['metadata']['attachment_id']}" + ("/thumbnail" if thumbnail else "")
    return client.get(url)


# ---------------------------------------------------------------- photos


def test_a_photo_is_stored_without_its_exif_and_gps_upright_and_shown_to_both(app, room, client, events):
    response = room.send(photo(orientation=6, gps=True), name="my palm.jpg")
    assert response.status_code == 201
    message = response.get_json()
    assert message["message_type"] == "image" and message["content"] == "my palm.jpg"
    meta = message["metadata"]
    assert meta["content_type"] == "image/jpeg" and meta["name"] == "my palm.jpg"
    assert (meta["width"], meta["height"]) == (20, 40)  # the orientation applied: 40×20 turned upright
    assert meta["pages"] is None and meta["size"] > 0
    stored = Image.open(io.BytesIO(downloaded(client, message).data))
    assert stored.size == (20, 40)
    assert dict(stored.getexif()) == {}  # no camera, no orientation, no GPS
    assert "exif" not in stored.info
    thumbnail = downloaded(client, message, thumbnail=True)
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    announced = [e for e in events if e.name == "message" and e.payload["message_type"] == "image"]
    assert [e.room for e in announced] == [f"session:{room.session.id}"]  # both participants' room
    assert announced[0].payload["metadata"] == meta


def test_the_other_participant_sees_the_photo_in_the_room_and_the_history(app, room):
    message = room.send(photo()).get_json()
    other = app.test_client()
    AuthActions(other).login("astro@example.com")
    page = other.get(f"/consultations/{room.session.id}").get_data(as_text=True)
    attachment_id = message["metadata"]["attachment_id"]
    assert f'src="/attachments/{attachment_id}/thumbnail"' in page
    assert 'alt="Photo: photo.jpg"' in page
    assert downloaded(other, message).status_code == 200
    history = other.get(f"/consultations/{room.session.id}/messages?after_seq=0", headers=JSON).get_json()
    assert [m["message_type"] for m in history["messages"]][-1] == "image"


@pytest.mark.parametrize(
    "data, name, stored_type",
    [
        (photo("PNG", mode="RGBA"), "sky.png", "image/png"),  # transparency kept: PNG
        (photo("PNG"), "chart.png", "image/jpeg"),
        (photo("WEBP"), "face.webp", "image/jpeg"),
        ((FIXTURES / "palm.heic").read_bytes(), "IMG_0042.HEIC", "image/jpeg"),
    ],
    ids=["png-alpha", "png", "webp", "heic"],
)
def test_every_accepted_photo_format_is_decoded_and_encoded_anew(app, room, client, data, name, stored_type):
    response = room.send(data, name=name, content_type="application/octet-stream")  # the browser's word is ignored
    assert response.status_code == 201, response.get_json()
    meta = response.get_json()["metadata"]
    assert meta["content_type"] == stored_type
    assert meta["name"] == name.rsplit(".", 1)[0] + (".png" if stored_type == "image/png" else ".jpg")
    stored = Image.open(io.BytesIO(downloaded(client, response.get_json()).data))
    assert stored.format == ("PNG" if stored_type == "image/png" else "JPEG")
    assert 0x8825 not in stored.getexif()  # the HEIC's GPS position is not passed on


def test_a_photo_declaring_too_many_pixels_is_refused_before_it_is_decoded(app, room):
    response = room.send(png_bomb(), name="bomb.png")
    assert response.status_code == 415
    assert response.get_json() == {"error": "unsupported_file", "message": response.get_json()["message"]}
    assert "pixels" in response.get_json()["message"]
    assert attachment_rows() == [] and stored_objects(room) == []


# ---------------------------------------------------------------- documents


def test_a_pdf_is_a_file_card_with_its_pages_and_is_only_ever_a_download(app, room, client):
    response = room.send(pdf(pages=3), name="Kundli (from Pandit ji).pdf", content_type="application/pdf")
    assert response.status_code == 201
    message = response.get_json()
    assert message["message_type"] == "file"
    meta = message["metadata"]
    assert (meta["content_type"], meta["pages"], meta["width"]) == ("application/pdf", 3, None)
    download = downloaded(client, message)
    assert download.status_code == 200 and download.data == pdf(pages=3)
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.mimetype == "application/pdf"
    assert downloaded(client, message, thumbnail=True).status_code == 404
    page = client.get(f"/consultations/{room.session.id}").get_data(as_text=True)
    assert "PDF · 3 pages ·" in page and 'class="file-card"' in page


@pytest.mark.parametrize(
    "data, name, content_type, words",
    [
        (b"<html><script>alert(1)</script></html>", "photo.jpg", "image/jpeg", "cannot be sent"),
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n", "broken.pdf", "application/pdf", "damaged"),
        (b"GIF89a" + b"\x00" * 64, "anim.gif", "image/gif", "cannot be sent"),
        (b"MZ\x90\x00" + b"\x00" * 200, "remedy.pdf", "application/pdf", "cannot be sent"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "cut.jpg", "image/jpeg", "damaged"),  # a JPEG's start, nothing more
    ],
    ids=["html-named-jpg", "broken-pdf", "gif", "executable-named-pdf", "truncated-jpeg"],
)
def test_anything_else_is_refused_with_415_and_nothing_is_stored(app, room, data, name, content_type, words):
    response = room.send(data, name=name, content_type=content_type)
    assert response.status_code == 415
    assert response.get_json()["error"] == "unsupported_file"
    assert words in response.get_json()["message"]
    assert attachment_rows() == [] and stored_objects(room) == []
    assert db.session.execute(db.select(Message).filter_by(message_type=MessageType.FILE)).first() is None


def test_a_password_protected_pdf_is_refused(app, room):
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    response = room.send(out.getvalue(), name="locked.pdf", content_type="application/pdf")
    assert response.status_code == 415 and "password" in response.get_json()["message"]


# ---------------------------------------------------------------- limits


def test_a_file_over_the_limit_is_refused_while_the_body_streams_in(app, room, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 4096)
    response = room.send(b"\xff\xd8\xff" + b"\x00" * 200_000, name="huge.jpg")
    assert response.status_code == 413
    assert response.get_json() == {"error": "file_too_large", "message": "A file can have at most 4 KB."}
    assert attachment_rows() == [] and stored_objects(room) == []


def test_a_file_just_over_the_limit_but_inside_the_form_overhead_is_refused_exactly(app, room, monkeypatch):
    data = pdf(pages=1)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", len(data) - 1)
    response = room.send(data, name="a.pdf", content_type="application/pdf")
    assert response.status_code == 413 and response.get_json()["error"] == "file_too_large"
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", len(data))
    assert room.send(data, name="a.pdf", content_type="application/pdf").status_code == 201


def test_the_session_limit_counts_every_file_sent(app, room, monkeypatch):
    data = pdf(pages=1)
    monkeypatch.setitem(app.config, "ATTACHMENT_SESSION_MAX_BYTES", len(data) * 2 + 10)
    assert room.send(data, name="one.pdf").status_code == 201
    assert room.send(data, name="two.pdf").status_code == 201
    refused = room.send(data, name="three.pdf")
    assert refused.status_code == 413
    assert refused.get_json()["message"].startswith("This consultation has 1 KB left for files")
    assert len(attachment_rows()) == 2


def test_an_empty_or_missing_file_is_a_422(app, room, client):
    assert room.send(b"", name="empty.jpg").status_code == 422
    response = client.post(
        f"/consultations/{room.session.id}/attachments", data={"csrf_token": room.token}, headers=JSON
    )
    assert response.status_code == 422 and "Choose a photo or a PDF" in response.get_json()["message"]


def test_uploads_count_against_the_rate_limits(app, room, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ATTACHMENTS", "2 per hour")
    assert [room.send(pdf(1), name=f"{n}.pdf").status_code for n in range(3)] == [201, 201, 429]


def test_an_upload_spends_from_the_chat_message_limit(app, room, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_CHAT_MESSAGES", "1/minute")
    assert [room.send(pdf(1), name=f"{n}.pdf").status_code for n in range(2)] == [201, 429]


def test_without_the_csrf_token_nothing_is_stored(app, room, client):
    response = client.post(
        f"/consultations/{room.session.id}/attachments",
        data={"file": (io.BytesIO(pdf(1)), "a.pdf")},
        headers=JSON,
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and attachment_rows() == []


# ---------------------------------------------------------------- the client_id rule, the session's state


def test_a_resend_with_the_same_client_id_stores_it_once(app, room):
    first = room.send(photo(), client_id="upload-1")
    again = room.send(photo(), client_id="upload-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(attachment_rows()) == 1
    assert len(stored_objects(room)) == 2  # the photo and its thumbnail, once


def test_an_ended_session_accepts_no_file(app, room):
    lifecycle.end(room.session.id, by_user_id=room.user.id)
    db.session.commit()
    response = room.send(photo())
    assert response.status_code == 409
    assert response.get_json()["message"] == "This consultation has ended; files can no longer be sent."
    assert attachment_rows() == [] and stored_objects(room) == []


def test_the_astrologers_file_counts_as_a_reply(app, room):
    astrologer = app.test_client()
    AuthActions(astrologer).login("astro@example.com")
    assert room.send(pdf(1), name="remedies.pdf", http=astrologer).status_code == 201
    db.session.expire_all()
    assert db.session.get(type(room.session), room.session.id).astrologer_replied_at is not None


def test_a_file_name_is_masked_like_text_and_the_sender_is_told_once(app, room, events):
    message = room.send(photo(), name="../../home/me/call 98765 43210 or www.example.com.jpg").get_json()
    assert message["content"] == "call [number hidden] or [link hidden].jpg"
    assert message["metadata"]["masked"] == ["link", "phone"]
    notices = [
        e.payload for e in events if e.name == "message" and (e.payload["metadata"] or {}).get("kind") == "masked"
    ]
    assert len(notices) == 1 and notices[0]["content"].startswith("We hid a link and a phone number")


def test_the_html_answer_is_the_message_partial(app, room):
    response = room.send(photo(), as_json=False)
    assert response.status_code == 201
    assert response.mimetype == "text/html" and 'class="msg-photo"' in response.get_data(as_text=True)


def test_the_transcript_names_files(app, room, client):
    room.send(photo(), name="palm.jpg")
    room.send(pdf(2), name="chart.pdf")
    text = client.get(f"/consultations/{room.session.id}/transcript.txt").get_data(as_text=True)
    assert ": [photo] palm.jpg\n" in text and ": [document] chart.pdf (2 pages)\n" in text


# ---------------------------------------------------------------- who may download, and how it is served


def test_downloads_carry_headers_that_let_the_file_run_nothing(app, room, client):
    message = room.send(photo(), name="palm.jpg").get_json()
    response = downloaded(client, message)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert response.headers["Content-Disposition"] == "inline; filename=palm.jpg"  # a photo opens in place
    assert "private" in response.headers["Cache-Control"] and "public" not in response.headers["Cache-Control"]
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    again = client.get(
        f"/attachments/{message['metadata']['attachment_id']}", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_only_participants_and_admins_download(app, room, make_user):
    message = room.send(photo()).get_json()
    attachment_id = message["metadata"]["attachment_id"]
    make_user(email="stranger@example.com")
    make_user(email="admin@example.com", type=UserType.ADMIN)
    stranger, admin, anonymous = app.test_client(), app.test_client(), app.test_client()
    AuthActions(stranger).login("stranger@example.com")
    AuthActions(admin).login("admin@example.com")
    for suffix in ("", "/thumbnail"):
        assert stranger.get(f"/attachments/{attachment_id}{suffix}").status_code == 404
        assert stranger.get(f"/attachments/{uuid.uuid4()}{suffix}").status_code == 404
        assert "/auth/login" in anonymous.get(f"/attachments/{attachment_id}{suffix}").headers["Location"]
        assert admin.get(f"/attachments/{attachment_id}{suffix}").status_code == 200
    reads = db.session.execute(db.select(AuditEntry).filter_by(action="attachment.read")).scalars().all()
    assert len(reads) == 1  # once in the window for the file and its thumbnail
    page = admin.get(f"/admin/sessions/{room.session.id}").get_data(as_text=True)
    assert 'id="files"' in page and f"/attachments/{attachment_id}" in page


def test_an_admin_who_opens_only_the_thumbnail_is_in_the_audit_trail(app, room, make_user):
    attachment_id = room.send(photo()).get_json()["metadata"]["attachment_id"]
    make_user(email="admin@example.com", type=UserType.ADMIN)
    admin = app.test_client()
    AuthActions(admin).login("admin@example.com")
    assert admin.get(f"/attachments/{attachment_id}/thumbnail").status_code == 200
    (read,) = db.session.execute(db.select(AuditEntry).filter_by(action="attachment.read")).scalars().all()
    assert str(read.object_id) == attachment_id and read.after["thumbnail"] is True


def test_a_stranger_cannot_upload_into_someone_elses_session(app, room, make_user):
    make_user(email="stranger@example.com")
    stranger = app.test_client()
    AuthActions(stranger).login("stranger@example.com")
    assert room.send(photo(), http=stranger).status_code == 404
    assert attachment_rows() == []


# ---------------------------------------------------------------- removal


def test_deleting_an_account_removes_the_files_it_sent(app, room, client):
    mine = room.send(photo(), name="palm.jpg").get_json()
    astrologer = app.test_client()
    AuthActions(astrologer).login("astro@example.com")
    theirs = room.send(pdf(1), name="remedies.pdf", http=astrologer).get_json()
    account_status.change(room.user, UserStatus.DELETED)
    db.session.commit()
    assert stored_objects(room) == [f"{room.session.id}/{theirs['metadata']['attachment_id']}"]
    assert downloaded(astrologer, mine).status_code == 410
    assert downloaded(astrologer, theirs).status_code == 200
    removed = db.session.get(Message, uuid.UUID(mine["id"]))
    assert removed.content == "Photo removed" and removed.message_metadata["removed"] == "account_deleted"
    assert "palm" not in str(removed.message_metadata)


def test_the_periodic_loop_removes_files_past_the_retention_period(app, room, monkeypatch):
    message = room.send(pdf(1), name="chart.pdf").get_json()
    lifecycle.end(room.session.id, by_user_id=room.user.id)
    db.session.commit()
    ended = db.session.get(type(room.session), room.session.id).ended_at
    assert periodic.run_due(ended + timedelta(days=400))["attachments_removed"] == 0  # 0 days: kept
    monkeypatch.setitem(app.config, "ATTACHMENT_RETENTION_DAYS", 30)
    assert periodic.run_due(ended + timedelta(days=29))["attachments_removed"] == 0
    assert periodic.run_due(ended + timedelta(days=30, seconds=1))["attachments_removed"] == 1
    assert stored_objects(room) == []
    row = db.session.get(Attachment, uuid.UUID(message["metadata"]["attachment_id"]))
    assert row.removed_reason == "retention"
    assert periodic.run_due(ended + timedelta(days=31))["attachments_removed"] == 0


def test_an_upload_that_rolls_back_leaves_no_object(app, room, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(chat, "send_many", broken)
    response = room.send(photo())
    assert response.status_code == 500
    assert stored_objects(room) == [] and attachment_rows() == []


# ---------------------------------------------------------------- the storage backends


@pytest.fixture(params=["local", "s3"])
def backend_store(request, tmp_path):
    if request.param == "local":
        yield attachment_storage.LocalStorage(tmp_path)
        return
    moto = pytest.importorskip("moto")
    import boto3

    with moto.mock_aws():
        client = boto3.client("s3", region_name="ap-south-1")
        client.create_bucket(Bucket="astro", CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
        yield attachment_storage.S3Storage("astro", "attachments", client=client)


def test_a_backend_puts_opens_and_deletes(backend_store):
    backend_store.put("s/1", b"bytes", "image/jpeg")
    assert backend_store.exists("s/1")
    with backend_store.open("s/1") as stream:
        assert stream.read() == b"bytes"
    backend_store.delete("s/1")
    backend_store.delete("s/1")  # deleting what is gone is fine
    assert not backend_store.exists("s/1")
    with pytest.raises(attachment_storage.MissingObject):
        backend_store.open("s/1")


def test_local_keys_never_leave_the_folder(tmp_path):
    with pytest.raises(attachment_storage.MissingObject):
        attachment_storage.LocalStorage(tmp_path / "store").open("../outside")


def test_uploads_and_downloads_work_on_s3(app, room, client, monkeypatch):
    moto = pytest.importorskip("moto")
    import boto3

    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="astro")
        monkeypatch.setitem(
            app.extensions, "attachment_storage", attachment_storage.S3Storage("astro", "chat", client=s3)
        )
        message = room.send(photo(), name="palm.jpg").get_json()
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="astro")["Contents"])
        attachment_id = message["metadata"]["attachment_id"]
        assert keys == [f"chat/{room.session.id}/{attachment_id}", f"chat/{room.session.id}/{attachment_id}.thumbnail"]
        assert s3.get_object_acl(Bucket="astro", Key=keys[0])["Grants"][0]["Permission"] == "FULL_CONTROL"  # owner only
        assert Image.open(io.BytesIO(downloaded(client, message).data)).format == "JPEG"


def test_the_storage_is_chosen_by_configuration(app, tmp_path):
    config = {"ATTACHMENT_STORAGE": "local", "ATTACHMENT_LOCAL_PATH": None}
    assert attachment_storage.from_config(config, str(tmp_path)).root == str(tmp_path / "attachments")


# ---------------------------------------------------------------- the size words


@pytest.mark.parametrize(
    "size, words", [(1, "1 KB"), (1024, "1 KB"), (1025, "2 KB"), (10 * 1024 * 1024, "10 MB"), (1_300_000, "1.2 MB")]
)
def test_sizes_read_as_people_write_them(size, words):
    assert attachments.size_words(size) == words


def test_the_service_refuses_when_the_session_is_waiting(app, consult):
    astrologer = consult.astrologer()
    user = consult.user()
    session = consult.request(user, astrologer)
    assert session.status == SessionStatus.WAITING
    with pytest.raises(Exception) as refused:
        attachments.send(session.id, user.id, None, None, utcnow())
    assert refused.value.status == 409


def test_the_call_page_has_the_same_attach_controls(app, consult, client):
    astrologer = consult.astrologer(
        email="caller-astro@example.com",
        call_availability=Availability.AVAILABLE,
    )
    user = consult.user(email="caller@example.com")
    session = consult.accept(consult.request(user, astrologer, session_type="call"))
    AuthActions(client).login("caller@example.com")
    page = client.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert "data-call" in page and page.count("data-attach-input") == 2
    assert 'capture="environment"' in page and f'data-upload-url="/consultations/{session.id}/attachments"' in page


# ---------------------------------------------------------------- hostile photos (attack round three)


def progressive_bomb(scans, side=1200):
    """A progressive JPEG whose last scan is repeated `scans` times: a few bytes each, a pass over every
    pixel each to decode."""
    out = io.BytesIO()
    Image.new("RGB", (side, side), (120, 130, 140)).save(out, "JPEG", progressive=True, quality=50)
    data = out.getvalue()
    last, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    return data[:end] + data[last:end] * scans + b"\xff\xd9"


def test_scans_are_counted_without_decoding():
    assert attachment_files.jpeg_scans(photo()) == 1
    assert attachment_files.jpeg_scans(progressive_bomb(0)) == 10
    assert attachment_files.jpeg_scans(progressive_bomb(600)) == attachment_files.MAX_JPEG_SCANS + 1  # stops there
    tiny_segments = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 2_000_000 + b"\xff\xd9"  # 8 MB of empty comments
    assert attachment_files.jpeg_scans(tiny_segments) > attachment_files.MAX_JPEG_SCANS  # the walk is bounded too


def test_a_jpeg_with_hundreds_of_scans_is_refused_before_it_is_decoded(app, room):
    response = room.send(progressive_bomb(600, side=7000), name="scans.jpg")
    assert response.status_code == 415 and "unusual" in response.get_json()["message"]
    assert attachment_rows() == [] and stored_objects(room) == []


def test_a_photo_that_takes_too_long_to_decode_is_refused_and_the_next_one_goes_through(app, room, monkeypatch):
    """The child process has ATTACHMENT_DECODE_SECONDS of CPU: a 49-megapixel progressive JPEG with 90
    scans (under the scan limit) needs more than one second, and is refused in about that."""
    import time

    monkeypatch.setitem(app.config, "ATTACHMENT_DECODE_SECONDS", 1)
    started = time.monotonic()
    response = room.send(progressive_bomb(80, side=7000), name="slow.jpg")
    assert response.status_code == 415 and "too long" in response.get_json()["message"]
    assert time.monotonic() - started < 6
    assert room.send(photo(), name="fine.jpg").status_code == 201


def test_a_photo_that_needs_more_memory_than_allowed_is_refused(app, room, monkeypatch):
    """50 megapixels with transparency take over 200 MB to decode; with 256 MB of address space for
    the child (the default is 1.5 GB) it is refused, and the web process never held those pixels."""
    big = io.BytesIO()
    Image.new("RGBA", (7071, 7071), (1, 2, 3, 4)).save(big, "PNG")
    monkeypatch.setitem(app.config, "ATTACHMENT_DECODE_MEMORY_MB", 256)
    response = room.send(big.getvalue(), name="wide.png", content_type="image/png")
    assert response.status_code == 415 and "too long" in response.get_json()["message"]
    assert attachment_rows() == []


@pytest.mark.parametrize("format", ["JPEG", "PNG"])
def test_comments_and_text_chunks_never_reach_the_stored_photo_or_its_thumbnail(app, room, client, format):
    from PIL import PngImagePlugin

    out = io.BytesIO()
    image = Image.new("RGB", (60, 40), (10, 200, 10))
    if format == "JPEG":
        image.save(out, "JPEG", comment=b"<script>alert(1)</script>")
    else:
        text = PngImagePlugin.PngInfo()
        text.add_text("comment", "<script>alert(1)</script>")
        image.save(out, "PNG", pnginfo=text)
    message = room.send(out.getvalue(), name="note." + format.lower()).get_json()
    for thumbnail in (False, True):
        stored = downloaded(client, message, thumbnail=thumbnail).data
        assert b"script" not in stored and b"\xff\xfe" not in stored[: stored.find(b"\xff\xda")]
        assert "comment" not in Image.open(io.BytesIO(stored)).info


def test_a_file_name_cannot_turn_its_extension_around(app, room):
    message = room.send(pdf(), name="invoice\u202egpj.pdf", content_type="application/pdf").get_json()
    assert message["metadata"]["name"] == "invoice gpj.pdf"
    hindi = room.send(pdf(), name="कुंडली.pdf", content_type="application/pdf").get_json()
    assert hindi["metadata"]["name"] == "कुंडली.pdf"  # joiners and conjuncts kept


def test_a_person_has_a_daily_upload_quota_across_sessions(app, room, consult, monkeypatch):
    data = pdf(pages=1)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", len(data) + 10)
    monkeypatch.setitem(app.config, "ATTACHMENT_USER_DAILY_BYTES", len(data) * 2 + 10)
    assert room.send(data, name="one.pdf", content_type="application/pdf").status_code == 201
    assert room.send(data, name="two.pdf", content_type="application/pdf").status_code == 201
    refused = room.send(data, name="three.pdf", content_type="application/pdf")
    assert refused.status_code == 413 and "in the last 24 hours" in refused.get_json()["message"]
    assert len(attachment_rows()) == 2
    tomorrow = utcnow() + timedelta(days=1, minutes=1)
    assert attachments.body_allowance(room.session.id, room.user, tomorrow)[0] > len(data)


def test_a_decoding_child_that_waits_without_spending_cpu_is_ended_by_its_own_alarm():
    """RLIMIT_CPU ends a child that computes; one that waits (here: for input that never comes) is
    ended on the wall clock by the kernel, ATTACHMENT_DECODE_SECONDS plus a grace after it started."""
    import json
    import subprocess
    import sys
    import time

    from webapp.services.messaging import _photo_decoder as photo_decoder

    limits = json.dumps({"format": "JPEG", "max_pixels": 1000, "seconds": 1, "memory": 512 * 1024 * 1024})
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-I", photo_decoder.__file__, limits], stdin=subprocess.PIPE)
    try:
        assert child.wait(timeout=1 + photo_decoder.WALL_CLOCK_GRACE + 5) != 0
    finally:
        child.kill()
        child.stdin.close()
    assert time.monotonic() - started < 1 + photo_decoder.WALL_CLOCK_GRACE + 5
