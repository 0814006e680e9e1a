"""What the chat accepts as an attachment, decided from the bytes, and what is stored instead.

No database, no storage: bytes in, a `Prepared` file (or a refusal) out.

- The type comes from the content (puremagic's signatures), never from the name or the browser's
  word, and the decoder must agree: Pillow must open a photo as the format its signature says,
  pypdf must read a PDF's structure.
- Photos (JPEG, PNG, WebP, HEIC/HEIF through pi-heif, the decode-only build of libheif) are decoded
  and encoded anew: the orientation applied, every metadata block dropped (EXIF with its GPS
  position, XMP, comments), at most MAX_SIDE pixels on the long side; photos with transparency
  become PNG, the rest JPEG. A photo whose header declares more than `max_pixels` is refused before
  any pixel is decoded (a decompression bomb costs nothing). A thumbnail (JPEG) is made once, here.
- PDFs are stored as sent, after pypdf has read their cross-reference table and page tree; they
  are only ever served as downloads. A password-protected PDF is refused (nobody here could open
  it).
"""

import hashlib
import io
import logging
import re
import unicodedata
import warnings
from dataclasses import dataclass

import pi_heif
import puremagic
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader

from .errors import UnsupportedFile
from .message_text import masked

pi_heif.register_heif_opener()
logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged PDF is refused, not logged line by line

MAX_SIDE = 4096  # the stored photo's long side: full detail on any phone, a bounded download
THUMBNAIL_SIDE = 480  # the chat bubble's picture (240 CSS pixels at 2x)
JPEG_QUALITY = 85
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


def prepare(data, max_pixels):
    """The Prepared file for `data` (bytes), or UnsupportedFile saying what is accepted."""
    kind = sniff(data)
    if kind is None:
        raise UnsupportedFile(f"This kind of file cannot be sent. Send {ACCEPTED}.")
    if kind == PDF:
        return _pdf(data)
    return _photo(data, PHOTO_TYPES[kind], max_pixels)


def _photo(data, expected_format, max_pixels):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format != expected_format:
                raise UnsupportedFile(f"This file is not the photo it looks like. Send {ACCEPTED}.")
            if image.width * image.height > max_pixels:
                raise UnsupportedFile(_too_many_pixels(max_pixels))
            image.seek(0)  # an animated picture: its first frame
            image = ImageOps.exif_transpose(image)  # the orientation applied; the orientation tag dropped
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            stored, content_type, extension = _encode(image)
            thumbnail = _thumbnail(image)
    except UnsupportedFile:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:  # Pillow's own bound, met first
        raise UnsupportedFile(_too_many_pixels(max_pixels)) from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as error:
        raise UnsupportedFile("This photo could not be read; it may be damaged. Try another one.") from error
    return Prepared(content_type, extension, stored, thumbnail, image.width, image.height)


def _too_many_pixels(max_pixels):
    return f"This photo has too many pixels (at most {max_pixels / 1_000_000:g} megapixels). Send a smaller one."


def _has_alpha(image):
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _encode(image):
    """(bytes, content type, extension): PNG where the photo has transparency, JPEG otherwise; no
    metadata is passed on (Pillow writes EXIF, XMP or text chunks only when asked) but the colour
    profile, so a wide-gamut phone photo keeps its colours."""
    out = io.BytesIO()
    colours = {"icc_profile": image.info["icc_profile"]} if image.info.get("icc_profile") else {}
    if _has_alpha(image):
        image.convert("RGBA").save(out, "PNG", optimize=True, **colours)
        return out.getvalue(), "image/png", "png"
    image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, **colours)
    return out.getvalue(), "image/jpeg", "jpg"


def _thumbnail(image):
    small = image.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    if _has_alpha(small):  # on white, as the chat bubble shows it
        background = Image.new("RGB", small.size, (255, 255, 255))
        background.paste(small.convert("RGBA"), mask=small.convert("RGBA").getchannel("A"))
        small = background
    out = io.BytesIO()
    small.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _pdf(data):
    if not bytes(data[:1024]).lstrip().startswith(b"%PDF-"):
        raise UnsupportedFile(f"This file is not a PDF. Send {ACCEPTED}.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UnsupportedFile("This PDF is protected by a password. Send it without the password.")
        pages = len(reader.pages)
        reader.trailer["/Root"]  # the catalogue the page tree hangs from
    except UnsupportedFile:
        raise
    except Exception as error:  # pypdf reports a damaged file in many ways; any of them is a refusal
        raise UnsupportedFile("This PDF could not be read; it may be damaged. Try another one.") from error
    if pages < 1:
        raise UnsupportedFile("This PDF has no pages.")
    return Prepared(PDF, "pdf", bytes(data), None, pages=pages)


NAME_LENGTH = 100
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"<>:|?*\\/]+")


def display_name(original, prepared):
    """(the name people see, what the masking hid): the sender's file name without its folder,
    control characters or extension, masked like text, with the stored type's extension."""
    name = unicodedata.normalize("NFC", str(original or "")).replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = " ".join(_UNSAFE.sub(" ", stem).split())[:NAME_LENGTH].strip(" .")
    stem, hidden = masked(stem)
    return f"{stem or ('photo' if prepared.is_image else 'document')}.{prepared.extension}", hidden
