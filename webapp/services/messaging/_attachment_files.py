"""What the chat accepts as an attachment, decided from the bytes, and what is stored instead.

No database, no storage: bytes in, a `Prepared` file (or a refusal) out.

- The type comes from the content (puremagic's signatures), never from the name or the browser's
  word, and the decoder must agree: Pillow must open a photo as the format its signature says,
  pypdf must read a PDF's structure.
- Photos (JPEG, PNG, WebP, HEIC/HEIF through pi-heif, the decode-only build of libheif) are decoded
  and encoded anew in a child process bounded in CPU time, memory and wall-clock time
  (services/messaging/_photo_decoder.py), a few at a time per web process: the orientation applied, every
  metadata block dropped (EXIF with its GPS position, XMP, comments and text chunks), at most 4096
  pixels on the long side; photos with transparency become PNG, the rest JPEG. A photo whose header
  declares more than `max_pixels` is refused before any pixel is decoded, and a JPEG with more than
  MAX_JPEG_SCANS scans before the child starts. A thumbnail (JPEG) is made once, there.
- PDFs are stored as sent, after pypdf has read their cross-reference table and page tree; they
  are only ever served as downloads. A password-protected PDF is refused (nobody here could open
  it).
"""

import hashlib
import io
import logging
import re
import unicodedata
from dataclasses import dataclass

import puremagic
from flask_babel import gettext
from pypdf import PdfReader

from ..errors import DecodersBusy, UnsupportedFile
from . import _photo_decoder
from .message_text import DISPLAY_CONTROLS, masked

logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged PDF is refused, not logged line by line

HEAD_BYTES = 8192  # what the signatures are read from

#: Signature mime type -> (the Pillow format that must agree, what a person calls it).
PHOTO_TYPES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
PDF = "application/pdf"
ACCEPTED = "a photo (JPEG, PNG, WebP or HEIC) or a PDF"


@dataclass(frozen=True)
class Prepared:
    """A file as it will be stored."""

    content_type: str  # image/jpeg, image/png or application/pdf
    extension: str
    data: bytes
    thumbnail: bytes | None
    width: int | None = None
    height: int | None = None
    pages: int | None = None

    @property
    def is_image(self):
        return self.content_type.startswith("image/")

    @property
    def sha256(self):
        return hashlib.sha256(self.data).hexdigest()


def sniff(data):
    """The accepted type the bytes' signature says (a mime type of PHOTO_TYPES or PDF), or None."""
    try:
        found = {match.mime_type for match in puremagic.magic_string(bytes(data[:HEAD_BYTES]))}
    except puremagic.PureError:
        return None
    if PDF in found:
        return PDF
    return next((mime for mime in PHOTO_TYPES if mime in found), None)


@dataclass(frozen=True)
class PhotoLimits:
    """What decoding one photo may take (the ATTACHMENT_* settings)."""

    max_pixels: int
    seconds: int
    memory_bytes: int
    concurrency: int
    wait_seconds: int = 20  # for a free decoder, before the upload is answered 503 busy

    @classmethod
    def of(cls, config):
        return cls(
            config["ATTACHMENT_MAX_PIXELS"],
            config["ATTACHMENT_DECODE_SECONDS"],
            config["ATTACHMENT_DECODE_MEMORY_MB"] * 1024 * 1024,
            config["ATTACHMENT_DECODERS"],
        )


def prepare(data, limits):
    """The Prepared file for `data` (bytes), or UnsupportedFile saying what is accepted. `limits`: a
    PhotoLimits. A photo is decoded in a child process (services/messaging/_photo_decoder.py), so this may take a
    few seconds of waiting but never the web process's CPU."""
    kind = sniff(data)
    if kind is None:
        raise UnsupportedFile(gettext("This kind of file cannot be sent. Send %(accepted)s.", accepted=ACCEPTED))
    if kind == PDF:
        return _pdf(data)
    return _photo(data, PHOTO_TYPES[kind], limits)


def _photo(data, expected_format, limits):
    if expected_format == "JPEG" and jpeg_scans(data) > MAX_JPEG_SCANS:
        raise UnsupportedFile(
            gettext(
                "This photo is built in an unusual way and cannot be sent. Send it as a screenshot or another photo."
            )
        )
    try:
        content_type, extension, stored, thumbnail, width, height = _photo_decoder.decode(
            data,
            expected_format,
            max_pixels=limits.max_pixels,
            seconds=limits.seconds,
            memory_bytes=limits.memory_bytes,
            concurrency=limits.concurrency,
            wait_seconds=limits.wait_seconds,
        )
    except _photo_decoder.DecodeBusy:
        raise DecodersBusy() from None
    except _photo_decoder.DecodeRefused as refused:
        raise UnsupportedFile(_REFUSALS[refused.reason](limits.max_pixels)) from None
    return Prepared(content_type, extension, stored, thumbnail, width, height)


_REFUSALS = {
    "pixels": lambda most: gettext(
        "This photo has too many pixels (at most %(megapixels)s megapixels). Send a smaller one.",
        megapixels=format(most / 1_000_000, "g"),
    ),
    "format": lambda most: gettext("This file is not the photo it looks like. Send %(accepted)s.", accepted=ACCEPTED),
    "damaged": lambda most: gettext("This photo could not be read; it may be damaged. Try another one."),
    "limits": lambda most: gettext("This photo takes too long to open. Send a smaller one or a screenshot of it."),
}

#: A progressive JPEG from any camera or encoder has about ten scans; each scan costs a pass over every
#: pixel, so a file that repeats one (hundreds of 75-byte scans) burns minutes of CPU. Refused unread.
MAX_JPEG_SCANS = 100
#: Segments (headers and scans) a JPEG may have; cameras write a few dozen. Bounds the walk itself.
MAX_JPEG_SEGMENTS = 2000
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # past stuffed bytes and restart markers


def jpeg_scans(data):
    """How many scans (SOS markers) a JPEG has, counted by walking its segments without decoding;
    MAX_JPEG_SCANS + 1 as soon as there are more, or more than MAX_JPEG_SEGMENTS segments."""
    data, scans, at = bytes(data), 0, 2
    for _ in range(MAX_JPEG_SEGMENTS):
        if at + 4 > len(data):
            return scans
        if data[at] != 0xFF or data[at + 1] in (0x00, 0xFF) or 0xD0 <= data[at + 1] <= 0xD7:
            found = _NEXT_MARKER.search(data, at)  # entropy-coded data: one search to the next marker
            if found is None:
                return scans
            at = found.start()
            continue
        marker = data[at + 1]
        if marker == 0xD9:  # end of image
            return scans
        if marker == 0x01:  # TEM: no length
            at += 2
            continue
        if marker == 0xDA:
            scans += 1
            if scans > MAX_JPEG_SCANS:
                return scans
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return MAX_JPEG_SCANS + 1


def _pdf(data):
    if not bytes(data[:1024]).lstrip().startswith(b"%PDF-"):
        raise UnsupportedFile(gettext("This file is not a PDF. Send %(accepted)s.", accepted=ACCEPTED))
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UnsupportedFile(gettext("This PDF is protected by a password. Send it without the password."))
        pages = len(reader.pages)
        reader.trailer["/Root"]  # the catalogue the page tree hangs from
    except UnsupportedFile:
        raise
    except Exception as error:  # pypdf reports a damaged file in many ways; any of them is a refusal
        raise UnsupportedFile(gettext("This PDF could not be read; it may be damaged. Try another one.")) from error
    if pages < 1:
        raise UnsupportedFile(gettext("This PDF has no pages."))
    return Prepared(PDF, "pdf", bytes(data), None, pages=pages)


NAME_LENGTH = 100
# Control characters, characters file systems refuse, and those that display text as something else.
_UNSAFE = re.compile(f'[\x00-\x1f{DISPLAY_CONTROLS}"<>:|?*\\\\/]+')


def display_name(original, prepared):
    """(the name people see, what the masking hid): the sender's file name without its folder,
    control characters or extension, masked like text, with the stored type's extension."""
    name = unicodedata.normalize("NFC", str(original or "")).replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = " ".join(_UNSAFE.sub(" ", stem).split())[:NAME_LENGTH].strip(" .")
    stem, hidden = masked(stem)
    return f"{stem or ('photo' if prepared.is_image else 'document')}.{prepared.extension}", hidden
