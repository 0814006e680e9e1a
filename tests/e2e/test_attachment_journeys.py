"""Photos and documents in a consultation, in Chromium: a user on a phone sends a palm photo, the
astrologer opens it full size and sends a PDF back; a file that is neither is refused in the room.
Every page is checked with axe-core and for CSP violations (the fixtures)."""

import io

from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfWriter

from .conftest import audit
from .test_journeys import chatting


def palm_photo():
    image = Image.new("RGB", (900, 600), (214, 170, 140))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (28.0, 36.0, 50.0), 3: "E", 4: (77.0, 12.0, 32.0)}  # a GPS position
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def remedies_pdf():
    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def attach(page, name, mime, data):
    page.locator("[data-attach-input]").first.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_a_palm_photo_and_a_remedies_pdf_cross_the_room(phone, person, people):
    astro_email = people.astrologer(name="Kavya Palmreader", rate="10.00")
    user_email = people.user(balance="200.00")
    astro, user = person(), phone()
    chatting(astro, astro_email, user, user_email, "Kavya Palmreader")
    expect(user.locator(".attach-camera")).to_be_visible()  # a phone can take the photo there and then
    expect(user.locator(".attach-camera input")).to_have_attribute("capture", "environment")
    expect(astro.locator(".attach-camera")).to_be_hidden()  # a desktop picks files
    audit(user)

    attach(user, "left palm.jpg", "image/jpeg", palm_photo())
    own = user.locator(".msg-own .msg-photo img")
    expect(own).to_have_attribute("alt", "Photo: left palm.jpg")
    expect(user.locator(".msg-own:has(.msg-photo) .ticks")).to_have_attribute("data-state", "read")
    theirs = astro.locator(".msg-other .msg-photo img")
    expect(theirs).to_be_visible()
    astro.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=theirs.element_handle())
    audit(astro)

    theirs.click()  # opens full size in place
    viewer = astro.locator("[data-photo-viewer]")
    expect(viewer).to_be_visible()
    astro.wait_for_function(
        "img => img.complete && img.naturalWidth === 900", arg=viewer.locator("img").element_handle()
    )
    audit(astro)
    viewer.locator("button:has-text('Close')").click()
    expect(viewer).to_be_hidden()

    attach(astro, "Remedies for Uma.pdf", "application/pdf", remedies_pdf())
    card = user.locator(".msg-other .file-card")
    expect(card).to_contain_text("Remedies for Uma.pdf")
    expect(card).to_contain_text("PDF · 2 pages")
    audit(user)
    with user.expect_download() as download:
        card.click()
    assert open(download.value.path(), "rb").read().startswith(b"%PDF-")

    attach(user, "notes.jpg", "image/jpeg", b"these are my notes, not a photo")
    expect(user.locator(".composer-error")).to_contain_text("This kind of file cannot be sent")
    expect(user.locator(".msg-failed")).to_have_count(1)
    expect(astro.locator(".msg-other")).to_have_count(1)  # only the photo reached the astrologer
    audit(user)

    user.reload()  # the history draws the same photo and card
    expect(user.locator(".msg-own .msg-photo img")).to_have_attribute("alt", "Photo: left palm.jpg")
    expect(user.locator(".msg-other .file-card")).to_contain_text("PDF · 2 pages")
    audit(user)
