"""Video consultations in two Chromium browsers' contexts with a fake camera and microphone (a moving test
picture and a beeping tone), against the real server: the user on a 390x844 phone in portrait, the
astrologer on a desktop. Connected, frames decoded on both sides, the camera off and on again, the
chat drawer, the fall back to audio only with the session and its billing going on, the hang-up, and
the end when the balance runs out. axe-core checks both pages.
"""

import re
from decimal import Decimal  # ₹40, as the site writes a whole amount

from playwright.sync_api import expect

from .conftest import MINUTE_SECONDS, PHONE, audit, composer_ready, in_viewport, log_in
from .test_journeys import accept_first, go_available, money

FRAMES = "() => Number(document.querySelector('[data-call]').dataset.framesDecoded || 0)"


def frames(page):
    return page.evaluate(FRAMES)


def frames_grow(page, by=10, timeout=20_000):
    """The video this page receives keeps decoding: inbound-rtp framesDecoded rises by `by` more."""
    start = frames(page)
    page.wait_for_function(f"() => ({FRAMES})() >= {start + by}", timeout=timeout)


def in_a_video_call(caller, people, name, balance, video_rate="40.00", astro_script=None, user_script=None):
    """The astrologer (desktop) available for video, the user (phone) in a video call with them; each
    browser's `*_script` runs before the pages' own scripts."""
    astro_email = people.astrologer(name=name, rate="10.00", call_rate="20.00", video_rate=video_rate)
    user_email = people.user(balance=balance)
    astro, user = caller(), caller(**PHONE, timezone_id="Asia/Kolkata", locale="en-IN")
    for page, script in ((astro, astro_script), (user, user_script)):
        if script:
            page.add_init_script(script)
    log_in(astro, astro_email)
    go_available(astro, "video")
    log_in(user, user_email)
    user.goto("/astrologers?q=" + name.split()[0])
    expect(user.locator(".astrologer-card").first).to_contain_text(
        f"Video call ₹{Decimal(video_rate).normalize():f}/min"
    )
    user.click(f"text={name}")
    user.locator(".start-option:has(#start-video) form button").click()
    expect(user.locator("body")).to_contain_text(f"Waiting for {name}")
    accept_first(astro)
    for page in (user, astro):
        expect(page.locator("[data-call-state]")).to_have_attribute("data-call-state", "connected", timeout=30_000)
    return astro, user


def test_a_video_call_shows_both_cameras_survives_camera_changes_falls_back_to_audio_and_hangs_up(caller, people):
    astro, user = in_a_video_call(caller, people, "Chitra Videodrishti", balance="1000.00")
    expect(user.locator(".room-head")).to_contain_text("Video call · ₹40/min")
    for page in (user, astro):  # each side decodes the other's moving picture
        expect(page.locator("[data-call]")).to_have_attribute("data-remote-video", "on", timeout=15_000)
        frames_grow(page)
        expect(page.locator("[data-call-quality]")).to_have_attribute("data-quality", re.compile("good|fair|poor"))
    # The phone in portrait: the other side's picture, the controls and the chat button all on screen.
    for part in ("[data-video-stage]", "[data-call-camera]", "[data-chat-toggle]", ".button-end"):
        assert in_viewport(user.locator(part)), f"{part} is off the phone's screen"
    stage = user.locator("[data-video-stage]").bounding_box()
    assert stage["height"] >= 300, f"the picture is only {stage['height']} px tall on the phone"
    audit(user)
    audit(astro)

    # The user drags their own preview to the top left corner of the picture.
    preview = user.locator("[data-self-view]").bounding_box()
    user.mouse.move(preview["x"] + 10, preview["y"] + 10)
    user.mouse.down()
    user.mouse.move(stage["x"] + 20, stage["y"] + 20, steps=5)
    user.mouse.up()
    moved = user.locator("[data-self-view]").bounding_box()
    assert moved["x"] < preview["x"] and moved["y"] < preview["y"]

    # Camera off: the astrologer is told why and stops receiving frames; on again: the picture returns.
    user.click("[data-call-camera]")
    expect(user.locator("[data-call]")).to_have_attribute("data-local-video", "off")
    expect(user.locator("[data-call-camera]")).to_have_text("Camera on")
    expect(astro.locator("[data-call]")).to_have_attribute("data-remote-video", "off")
    expect(astro.locator("[data-remote-camera-note]")).to_have_text("Uma turned the camera off.")
    user.click("[data-call-camera]")
    expect(user.locator("[data-call]")).to_have_attribute("data-local-video", "on")
    expect(astro.locator("[data-call]")).to_have_attribute("data-remote-video", "on")
    frames_grow(astro)

    # The chat is a drawer on the phone, over the call.
    expect(user.locator("#composer-input")).to_be_hidden()
    composer_ready(astro)
    astro.fill("#composer-input", "Show me your right palm, please.")
    astro.press("#composer-input", "Enter")
    expect(user.locator("[data-chat-unread]")).to_have_text(re.compile(r"1 new"))
    user.click("[data-chat-toggle]")
    expect(user.locator("#messages")).to_contain_text("Show me your right palm, please.")
    composer_ready(user)
    user.fill("#composer-input", "Here it is.")
    user.click(".composer button[type=submit]")
    expect(astro.locator("#messages")).to_contain_text("Here it is.")
    user.click("[data-chat-close]")
    expect(user.locator("#composer-input")).to_be_hidden()

    # Audio only, from the astrologer: both cameras stop, the call and its billing go on at the video rate.
    cost_before = money(user.locator('[data-bar="total_cost"]').inner_text())
    astro.click("[data-call-audio-only]")
    for page in (user, astro):
        expect(page.locator("[data-call]")).to_have_attribute("data-local-video", "off")
        expect(page.locator("[data-call]")).to_have_attribute("data-remote-video", "off")
        expect(page.locator("[data-call-state]")).to_have_attribute("data-call-state", "connected")
    expect(user.locator("[data-remote-camera-note]")).to_contain_text("switched to audio only")
    expect(user.locator("[data-camera-note]")).to_contain_text("Audio only")
    audible = re.compile(r"^(0\.[1-9]\d\d|1\.000)$")  # the voices still arrive
    for page in (astro, user):
        expect(page.locator("[data-call]")).to_have_attribute("data-level", audible, timeout=20_000)
    user.wait_for_function(
        "(before) => Number(document.querySelector('[data-bar=\"total_cost\"]').textContent.replace(/[^0-9.]/g, '')) >= before + 40",
        arg=cost_before,
        timeout=MINUTE_SECONDS * 3000,
    )

    user.on("dialog", lambda dialog: dialog.accept())
    user.get_by_role("button", name="End call").click()
    expect(user.locator("h1")).to_have_text("Consultation ended")  # the user's page goes to the summary
    expect(astro.locator("[data-call-state]")).to_have_attribute("data-call-state", "ended")
    expect(astro.locator("[data-call]")).to_have_attribute("data-local-video", "off")  # the camera released
    expect(astro.locator(".ended-banner")).to_be_visible()


def test_a_video_call_warns_offers_a_top_up_and_ends_when_the_balance_runs_out(caller, people):
    astro, user = in_a_video_call(caller, people, "Rekha Shortvideo", balance="200.00")  # 5 minutes at 40
    expect(user.locator(".low-balance")).to_be_visible(timeout=MINUTE_SECONDS * 5000)
    expect(user.locator("[data-room-topup] h2").first).to_have_text("Add money without leaving the video call")
    expect(user.locator("[data-room-topup]")).to_be_visible()
    for part in ("[data-room-topup]", ".low-balance", ".button-end", "[data-call-state]"):  # nothing pushed off
        assert in_viewport(user.locator(part)), f"{part} is off the phone's screen with the top-up open"
    audit(user)
    for page in (user, astro):
        expect(page.locator("[data-call-state]")).to_have_attribute(
            "data-call-state", "ended", timeout=MINUTE_SECONDS * 5000
        )
    expect(user.locator('[data-bar="balance"]')).to_have_text("₹0")
    expect(user.locator('[data-bar="total_cost"]')).to_have_text("₹200")


# The browser's answer when the person refuses the camera: getUserMedia with video rejects with a
# NotAllowedError (the fake-UI flag grants everything, so the refusal is made here, before any page script).
REFUSE_CAMERA = """(() => {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (wanted) => wanted && wanted.video
    ? Promise.reject(new DOMException("Permission denied", "NotAllowedError"))
    : real(wanted);
})();"""

# What getStats reports on a congested path: the selected candidate pair's round trip at 900 ms once the
# test sets window.slowNetwork (the media itself still flows over the loopback).
SLOW_NETWORK = """(() => {
  const real = RTCPeerConnection.prototype.getStats;
  RTCPeerConnection.prototype.getStats = function (...args) {
    return real.apply(this, args).then((report) => {
      if (!window.slowNetwork || args.length) return report;
      const slowed = new Map();
      report.forEach((stat, id) => slowed.set(id, stat.type === "candidate-pair" ? { ...stat, currentRoundTripTime: 0.9 } : stat));
      return slowed;
    });
  };
})();"""


def test_a_refused_camera_leaves_an_audio_call_and_both_sides_see_why(caller, people):
    astro, user = in_a_video_call(caller, people, "Nila Nocamera", balance="500.00", astro_script=REFUSE_CAMERA)
    expect(astro.locator("[data-camera-note]")).to_contain_text("The camera is not allowed in this browser")
    expect(astro.locator("[data-call]")).to_have_attribute("data-local-video", "off")
    expect(user.locator("[data-remote-camera-note]")).to_have_text(
        "Nila did not allow the camera: the call goes on as audio."
    )
    expect(astro.locator("[data-call]")).to_have_attribute("data-remote-video", "on", timeout=15_000)
    frames_grow(astro)  # the user's camera still reaches the astrologer
    audible = re.compile(r"^(0\.[1-9]\d\d|1\.000)$")
    expect(user.locator("[data-call]")).to_have_attribute("data-level", audible, timeout=20_000)  # her voice
    audit(user)


def test_a_connection_too_weak_for_video_offers_audio_only(caller, people):
    astro, user = in_a_video_call(caller, people, "Zoravar Slowlink", balance="500.00", user_script=SLOW_NETWORK)
    expect(user.locator("[data-call]")).to_have_attribute("data-remote-video", "on", timeout=15_000)
    expect(user.locator("[data-call-quality]")).to_have_attribute("data-quality", re.compile("good|fair"))
    expect(user.locator("[data-audio-offer]")).to_be_hidden()
    user.evaluate("() => { window.slowNetwork = true; }")
    expect(user.locator("[data-call-quality]")).to_have_attribute("data-quality", "poor")
    expect(user.locator("[data-quality-text]")).to_contain_text("Weak connection · 900 ms")
    expect(user.locator("[data-audio-offer]")).to_be_visible()
    audit(user)
    user.click("[data-call-audio-only-offer]")
    for page in (user, astro):
        expect(page.locator("[data-call]")).to_have_attribute("data-local-video", "off")
        expect(page.locator("[data-call-state]")).to_have_attribute("data-call-state", "connected")
    expect(user.locator("[data-audio-offer]")).to_be_hidden()
    expect(astro.locator("[data-remote-camera-note]")).to_contain_text("switched to audio only")
