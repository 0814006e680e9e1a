"""A photo decoded and encoded anew in a child process of its own, bounded in time and memory.

A photo from the chat is hostile input that costs CPU and memory to decode: a 237 KB progressive
JPEG whose last scan is repeated 600 times took 26 s of CPU, a 194 KB PNG of 50 megapixels with
transparency took 570 MB. Decoding it in the web process (even on a thread) delayed other people's
logins and held a database connection. Here the decode is a child process (`python -I` this file:
no import of the web app), which sets its own limits before reading a byte: RLIMIT_CPU seconds of
CPU, RLIMIT_AS bytes of address space, and an alarm a little later on the wall clock (SIGALRM ends
it; the kernel keeps that deadline, where a timeout in the parent would depend on the green
library's subprocess module, whose TimeoutExpired is not the standard library's). What the
child writes back is plain bytes framed by a JSON header, never pickle (the child parsed hostile
input; the parent must not trust it further than bytes).

The child's work, `transcode`, is the decode and encode services/messaging/_attachment_files.py describes:
orientation applied, every metadata block dropped (EXIF, XMP, comments, text chunks), at most
MAX_SIDE pixels on the long side, PNG where there is transparency, else JPEG, and a JPEG thumbnail.

This module imports only the standard library until it runs as the child (Pillow and pi-heif then).
"""

import io
import json
import os
import resource
import signal
import struct
import subprocess
import sys
import threading

MAX_SIDE = 4096  # the stored photo's long side: full detail on any phone, a bounded download
THUMBNAIL_SIDE = 480  # the chat bubble's picture (240 CSS pixels at 2x)
JPEG_QUALITY = 85

WALL_CLOCK_GRACE = 2  # seconds of waiting a child may have beyond its CPU seconds

#: Exit codes of the child: what it refused, so the parent can say why.
REFUSED_PIXELS, REFUSED_FORMAT, REFUSED_DAMAGED = 3, 4, 5
_HEADER = struct.Struct(">I")


class DecodeRefused(Exception):
    """The photo was refused; `reason` is one of "pixels", "format", "damaged", "limits"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- the parent's side

#: How many children a web process runs at once; another upload waits for a slot (a bounded time).
_slots = {}
_slots_lock = threading.Lock()


def _slot(count):
    with _slots_lock:
        return _slots.setdefault(count, threading.BoundedSemaphore(count))


def decode(data, expected_format, *, max_pixels, seconds, memory_bytes, concurrency, wait_seconds):
    """(content_type, extension, stored bytes, thumbnail bytes, width, height) of the photo `data`,
    made by a child process; DecodeRefused when it is refused or passes its limits, DecodeBusy when
    no slot frees within `wait_seconds`."""
    slot = _slot(concurrency)
    if not slot.acquire(timeout=wait_seconds):
        raise DecodeBusy()
    try:
        return _run_child(data, expected_format, max_pixels, seconds, memory_bytes)
    finally:
        slot.release()


class DecodeBusy(Exception):
    """Every decoding slot of this process stayed busy for the whole wait."""


def _run_child(data, expected_format, max_pixels, seconds, memory_bytes):
    limits = json.dumps(
        {"format": expected_format, "max_pixels": max_pixels, "seconds": seconds, "memory": memory_bytes}
    )
    done = subprocess.run(
        [sys.executable, "-I", os.path.abspath(__file__), limits],  # -I: nothing of the environment's
        input=data,
        capture_output=True,
        check=False,
    )
    refusals = {REFUSED_PIXELS: "pixels", REFUSED_FORMAT: "format", REFUSED_DAMAGED: "damaged"}
    if done.returncode in refusals:
        raise DecodeRefused(refusals[done.returncode])
    if done.returncode != 0:  # killed by RLIMIT_CPU (SIGXCPU) or the alarm, out of memory, or worse
        raise DecodeRefused("limits")
    return _unframe(done.stdout)


def _unframe(out):
    try:
        (length,) = _HEADER.unpack_from(out)
        header = json.loads(out[_HEADER.size : _HEADER.size + length])
        body = out[_HEADER.size + length :]
        stored, thumbnail = body[: header["stored"]], body[header["stored"] :]
        if len(thumbnail) != header["thumbnail"]:
            raise ValueError("the child's output is cut short")
        return header["content_type"], header["extension"], stored, thumbnail, header["width"], header["height"]
    except (ValueError, KeyError, TypeError, struct.error):
        raise DecodeRefused("damaged") from None


# ---------------------------------------------------------------- the child's side


def transcode(data, expected_format, max_pixels):
    """The decode and encode itself (in the child; tests may call it directly)."""
    import warnings

    import pi_heif
    from PIL import Image, ImageOps

    pi_heif.register_heif_opener()
    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow's own bound agrees with ours
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise DecodeRefused("pixels") from None
        if image.format != expected_format:
            raise DecodeRefused("format")
        if image.width * image.height > max_pixels:
            raise DecodeRefused("pixels")
        image.seek(0)  # an animated picture: its first frame
        if image.format == "JPEG":
            # Decoded at 1/2, 1/4 or 1/8 scale when that still covers MAX_SIDE: a fraction of the memory.
            image.draft(image.mode, (MAX_SIDE, MAX_SIDE))
        image = ImageOps.exif_transpose(image)  # the orientation applied; the orientation tag dropped
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        stored, content_type, extension = _encode(image)
        thumbnail = _thumbnail(image)
    return content_type, extension, stored, thumbnail, image.width, image.height


def _has_alpha(image):
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _encode(image):
    """(bytes, content type, extension): PNG where the photo has transparency, JPEG otherwise. Only the
    colour profile is passed on, so a wide-gamut phone photo keeps its colours; Pillow copies a JPEG's
    comment (and a PNG's "comment" text) into a JPEG it saves unless told otherwise, so it is told."""
    out = io.BytesIO()
    colours = {"icc_profile": image.info["icc_profile"]} if image.info.get("icc_profile") else {}
    if _has_alpha(image):
        image.convert("RGBA").save(out, "PNG", optimize=True, **colours)
        return out.getvalue(), "image/png", "png"
    image.convert("RGB").save(
        out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, comment=b"", **colours
    )
    return out.getvalue(), "image/jpeg", "jpg"


def _thumbnail(image):
    from PIL import Image

    small = image.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    if _has_alpha(small):  # on white, as the chat bubble shows it
        background = Image.new("RGB", small.size, (255, 255, 255))
        background.paste(small.convert("RGBA"), mask=small.convert("RGBA").getchannel("A"))
        small = background
    out = io.BytesIO()
    small.convert("RGB").save(out, "JPEG", quality=80, optimize=True, comment=b"")
    return out.getvalue()


def _child(argv):
    settings = json.loads(argv[1])
    resource.setrlimit(resource.RLIMIT_CPU, (settings["seconds"], settings["seconds"]))
    resource.setrlimit(resource.RLIMIT_AS, (settings["memory"], settings["memory"]))
    signal.alarm(settings["seconds"] + WALL_CLOCK_GRACE)  # waiting without spending CPU ends too
    data = sys.stdin.buffer.read()
    try:
        content_type, extension, stored, thumbnail, width, height = transcode(
            data, settings["format"], settings["max_pixels"]
        )
    except DecodeRefused as refused:
        return {"pixels": REFUSED_PIXELS, "format": REFUSED_FORMAT}.get(refused.reason, REFUSED_DAMAGED)
    except MemoryError:
        return 1
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error):
        return REFUSED_DAMAGED  # Pillow reports a damaged file in many ways
    header = json.dumps(
        {
            "content_type": content_type,
            "extension": extension,
            "width": width,
            "height": height,
            "stored": len(stored),
            "thumbnail": len(thumbnail),
        }
    ).encode()
    sys.stdout.buffer.write(_HEADER.pack(len(header)) + header + stored + thumbnail)
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv))
