"""The website chat end to end: headless Chromium (Debian's), the real servers, the demo page.

Screenshots go to results/screenshots/ (git-ignored) so a person can look at each step.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from bot.settings import PROJECT_ROOT, get_settings
from tests.support.profiles import query
from tests.support.waiting import wait_until

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect

pytestmark = [pytest.mark.e2e, pytest.mark.model]

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = PROJECT_ROOT / "results" / "screenshots"
ANSWER = 60_000  # ms to wait for the assistant's answer
EVIL = "http://evil.example"
CANARY = "zebra-canary-web-4417"


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):  # CI installs it: a missing browser there is a failure
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run should have installed it")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser) -> Iterator[Any]:
    """A fresh browser profile (empty sessionStorage) on a desktop-sized window."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context) -> Any:
    return context.new_page()


@pytest.fixture(scope="module")
def base(servers) -> str:
    return f"http://127.0.0.1:{servers.rasa_port}"


@pytest.fixture(scope="module")
def url(base) -> str:
    return f"{base}/webhooks/web/"


# ---------------------------------------------------------------------------- helpers


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def open_chat(page, url: str) -> None:
    """Open the demo page, start a chat, wait for the greeting and its topic buttons."""
    page.goto(url)
    page.get_by_role("button", name="Start a chat").click()
    expect(page.locator(".ccw-bot").first).to_contain_text("I am not a doctor", timeout=ANSWER)
    expect(page.locator(".ccw-reply")).to_have_count(4)


def ask(page, text: str) -> None:
    """Type a question and send it with Enter, as a patient would."""
    page.locator("#ccw-input").fill(text)
    page.locator("#ccw-input").press("Enter")


def wait_for_answer(page, before: int) -> None:
    """Wait until more assistant messages are shown than `before` and typing has stopped."""
    deadline = time.monotonic() + ANSWER / 1000
    while page.locator(".ccw-bot").count() <= before or page.locator(".ccw-typing").is_visible():
        assert time.monotonic() < deadline, "no answer in time"
        time.sleep(0.2)


def bot_texts(page) -> List[str]:
    return page.locator(".ccw-bot .ccw-text").all_text_contents()


def session_id(page) -> str:
    stored = page.evaluate(
        "() => Object.keys(sessionStorage).filter(k => k.startsWith('clinic-chat:'))"
        ".map(k => JSON.parse(sessionStorage.getItem(k)).session_id)[0] || null"
    )
    assert stored, "the widget stored no session id"
    return stored


def escalations(servers, conversation: str) -> List[Dict[str, Any]]:
    """The conversation's escalations, on the database the servers run on."""
    return query("select * from escalations where sender = ?", [conversation], env=servers.env)


def watch_typing(page) -> None:
    """Remember in the page whether the typing indicator was ever shown."""
    page.evaluate(
        """() => {
          const typing = document.querySelector('.ccw-typing');
          window.__typingSeen = false;
          new MutationObserver(() => { if (!typing.hidden) window.__typingSeen = true; })
            .observe(typing, {attributes: true});
        }"""
    )


def no_horizontal_scroll_page(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
        " && document.querySelector('.ccw-panel').scrollWidth"
        " <= document.querySelector('.ccw-panel').clientWidth"
    )


# ---------------------------------------------------------------------------- tests


def test_page_greets_and_answers_about_ice_packs_with_nothing_from_a_cdn(page, url, base):
    requested: List[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url)
    assert get_settings().clinic_name in page.title()
    shot(page, "01-demo-page")

    page.get_by_role("button", name="Start a chat").click()
    greeting = page.locator(".ccw-bot").first
    expect(greeting).to_contain_text("I am not a doctor", timeout=ANSWER)
    expect(greeting).to_contain_text("call 911")
    expect(page.locator(".ccw-reply")).to_have_text(
        ["Getting ready", "What happens", "Ice packs", "Warning signs"]
    )
    shot(page, "02-greeting-and-topics")

    watch_typing(page)
    ask(page, "how do I use ice packs?")
    expect(page.locator(".ccw-user")).to_have_text(["You said: how do I use ice packs?"])
    expect(page.locator(".ccw-bot").nth(1)).to_contain_text("15 minutes", timeout=ANSWER)
    assert page.evaluate("() => window.__typingSeen")
    expect(page.locator(".ccw-typing")).to_be_hidden()
    expect(page.locator(".ccw-reply")).to_have_count(0)  # topic buttons go once used
    # the answer was announced to screen readers
    expect(page.locator(".ccw-sr[aria-live='polite']")).to_contain_text("15 minutes")
    shot(page, "03-ice-pack-answer")

    outside = [u for u in requested if not u.startswith((base + "/", "data:"))]
    assert not outside, f"requests outside our server: {outside}"
    assert any(u.endswith("/static/vendor/socket.io.min.js") for u in requested)


def test_red_flag_is_urgent_with_call_links_and_escalated(page, url, servers):
    open_chat(page, url)
    ask(page, "my legs went numb this morning and its getting worse")
    urgent = page.locator(".ccw-urgent")
    expect(urgent).to_have_count(1, timeout=ANSWER)
    expect(urgent).to_contain_text("Urgent: call the clinic now")
    expect(urgent).to_contain_text(get_settings().clinic_phone)
    calls = urgent.locator("a.ccw-call")
    expect(calls.first).to_have_attribute("href", "tel:+15555550100")
    expect(urgent.locator("a.ccw-call-911")).to_have_attribute("href", "tel:911")
    expect(page.get_by_role("alert")).to_contain_text("Urgent.")
    # visibly distinct from an ordinary answer
    frame = urgent.evaluate("e => getComputedStyle(e).borderTopColor")
    plain = page.locator(".ccw-bot:not(.ccw-urgent)").first.evaluate(
        "e => getComputedStyle(e).borderTopColor"
    )
    assert frame != plain
    expect(page.locator(".ccw-bot").last).to_contain_text("phone number", timeout=ANSWER)
    shot(page, "04-urgent-answer")

    conversation = "web:" + session_id(page)
    [row] = wait_until(lambda: escalations(servers, conversation))
    assert row["tier"] == "urgent" and row["channel"] == "web" and row["status"] == "open"
    assert "numbness" in json.loads(row["symptoms"])

    ask(page, "555 555 0123")
    expect(page.locator(".ccw-bot").last).to_contain_text("+15555550123", timeout=ANSWER)
    assert escalations(servers, conversation)[0]["callback_number"] == "+15555550123"


def test_emergency_calls_out_911_first(page, url, servers):
    open_chat(page, url)
    ask(page, "my mom passed out in the bathroom")
    urgent = page.locator(".ccw-urgent-emergency")
    expect(urgent).to_have_count(1, timeout=ANSWER)
    expect(urgent).to_contain_text("Emergency: call 911 now")
    expect(urgent.locator("a.ccw-call").first).to_have_attribute("href", "tel:911")
    expect(urgent.locator("a.ccw-call").first).to_have_text("Call 911")
    expect(page.get_by_role("alert")).to_contain_text("Emergency.")
    expect(page.locator(".ccw-bot").last).to_contain_text("phone number", timeout=ANSWER)
    shot(page, "05-emergency-answer")
    [row] = wait_until(lambda: escalations(servers, "web:" + session_id(page)))
    assert row["tier"] == "emergency"


def test_reload_shows_the_history_and_continues_the_conversation(page, url):
    open_chat(page, url)
    ask(page, "how do I use ice packs?")
    expect(page.locator(".ccw-bot").nth(1)).to_contain_text("15 minutes", timeout=ANSWER)
    before = session_id(page)

    page.reload()
    expect(page.locator(".ccw-panel")).to_be_visible()
    expect(page.locator(".ccw-user")).to_have_text(["You said: how do I use ice packs?"])
    expect(page.locator(".ccw-bot")).to_have_count(2)
    texts = bot_texts(page)
    assert "I am not a doctor" in texts[0] and "15 minutes" in texts[1]
    assert session_id(page) == before
    shot(page, "06-after-reload")

    ask(page, "how long does that last?")
    expect(page.locator(".ccw-bot")).to_have_count(3, timeout=ANSWER)
    assert "15 minutes" in bot_texts(page)[-1]


def plant_session(page, url: str, session: str) -> None:
    """Put a session id in the page's sessionStorage before the widget reads it, as a
    second browser would with an id copied from another's devtools or screenshot."""
    state = json.dumps({"session_id": session, "open": True})
    page.add_init_script(f"sessionStorage.setItem({json.dumps('clinic-chat:' + url)}, {state!r})")


def stored_keys(page) -> List[str]:
    return page.evaluate(
        "() => [...Object.keys(sessionStorage), ...Object.keys(localStorage)]"
        ".filter(k => k.startsWith('clinic-chat:'))"
    )


def test_another_browser_with_this_session_id_gets_a_fresh_chat_and_none_of_the_replies(
    browser, page, url, context
):
    open_chat(page, url)
    ask(page, "how do I use ice packs?")
    expect(page.locator(".ccw-bot").nth(1)).to_contain_text("15 minutes", timeout=ANSWER)
    stolen = session_id(page)
    [cookie] = [c for c in context.cookies() if c["name"] == "clinic_chat_browser"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/webhooks/web/"
    assert "clinic_chat_browser" not in page.evaluate("() => document.cookie")

    other = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        intruder = other.new_page()
        plant_session(intruder, url, stolen)
        intruder.goto(url)
        expect(intruder.locator(".ccw-bot").first).to_contain_text(
            "I am not a doctor", timeout=ANSWER
        )
        expect(intruder.locator(".ccw-user")).to_have_count(0)
        assert session_id(intruder) != stolen
        shot(intruder, "14-other-browser-fresh-chat")

        ask(page, "how long does that last?")  # the first patient's next reply
        expect(page.locator(".ccw-bot")).to_have_count(3, timeout=ANSWER)
        intruder.wait_for_timeout(1_500)
        expect(intruder.locator(".ccw-bot")).to_have_count(1)
        assert "15 minutes" not in " ".join(bot_texts(intruder))
    finally:
        other.close()
    page.reload()  # the patient's own browser still continues
    expect(page.locator(".ccw-user")).to_have_count(2, timeout=ANSWER)
    assert session_id(page) == stolen


def test_forget_me_ends_the_session_on_the_server_and_clears_this_browser(page, url):
    open_chat(page, url)
    ask(page, "how do I use ice packs?")
    expect(page.locator(".ccw-bot").nth(1)).to_contain_text("15 minutes", timeout=ANSWER)
    forgotten = session_id(page)
    page.get_by_role("button", name="Forget me").click()
    expect(page.locator(".ccw-msg")).to_have_count(0)
    expect(page.locator(".ccw-status")).to_contain_text("removed from this browser")
    assert stored_keys(page) == []
    shot(page, "15-forgotten")

    ask(page, "how do I use ice packs?")  # a new chat starts and answers
    expect(page.locator(".ccw-bot").last).to_contain_text("15 minutes", timeout=ANSWER)
    fresh = session_id(page)
    assert fresh != forgotten
    # the server forgot it: even this browser cannot go back to it
    plant_session(page, url, forgotten)
    page.reload()
    expect(page.locator(".ccw-bot").first).to_contain_text("I am not a doctor", timeout=ANSWER)
    expect(page.locator(".ccw-user")).to_have_count(0)
    assert session_id(page) != forgotten


def test_markup_is_shown_as_text_and_never_runs(page, url, context):
    attempts = [
        '<img src=x onerror="window.__xss=1"> does ice help?',
        "<script>window.__xss=2</script>is swelling normal",
        "[tap here](javascript:window.__xss=3) about ice",
    ]
    # the assistant's own words pass through the same renderer: make them hostile too,
    # by rewriting the server's socket.io frames (long polling, so every frame is seen)
    hostile = (
        '<img src=x onerror="window.__xss=4"> [call](javascript:window.__xss=5) '
        "<script>window.__xss=6</script> call (555) 555-0100"
    )

    def rewrite(route) -> None:
        response = route.fetch()
        packets = response.text().split("\x1e")
        for i, packet in enumerate(packets):
            if packet.startswith("42"):
                event, *args = json.loads(packet[2:])
                if event == "bot_uttered" and "15 minutes" in (args[0].get("text") or ""):
                    args[0]["text"] = hostile
                    args[0]["urgent"] = {
                        "tier": "urgent",
                        "calls": [{"label": "x", "number": "1", "href": "javascript:alert(1)"}],
                    }
                    packets[i] = "42" + json.dumps([event, *args])
        route.fulfill(response=response, body="\x1e".join(packets))

    page.route_web_socket("**/socket.io/**", lambda ws: ws.close())
    page.route(lambda address: "/webhooks/web/socket.io/" in address, rewrite)
    open_chat(page, url)
    for text in attempts:
        before = page.locator(".ccw-bot").count()
        ask(page, text)
        wait_for_answer(page, before)
    ask(page, "how do I use ice packs?")
    expect(page.locator(".ccw-bot .ccw-text").last).to_contain_text("onerror", timeout=ANSWER)

    users = page.locator(".ccw-user .ccw-text").all_text_contents()
    assert users[:3] == attempts
    assert bot_texts(page)[-1] == hostile
    log = page.locator(".ccw-messages")
    expect(log.locator("img, script, iframe")).to_have_count(0)
    expect(log.locator("a[href^='javascript']")).to_have_count(0)
    hrefs = log.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert all(h.startswith("tel:") for h in hrefs), hrefs
    time.sleep(0.5)
    assert page.evaluate("() => window.__xss") is None
    shot(page, "07b-hostile-answer-as-text")
    page.locator(".ccw-log").evaluate("log => { log.scrollTop = 0; }")
    shot(page, "07a-markup-typed-as-text")
    page.unroute_all(behavior="ignoreErrors")


def test_keyboard_alone(page, url):
    page.goto(url)
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('ccw-launcher')"):
            break
    else:
        pytest.fail("Tab never reached the chat button")
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator("#ccw-input")).to_be_focused()
    expect(page.locator(".ccw-reply")).to_have_count(4, timeout=ANSWER)

    # back from the text box to the topic buttons, pick one with the keyboard
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.textContent") == "Ice packs":
            break
    else:
        pytest.fail("Shift+Tab never reached the 'Ice packs' button")
    shot(page, "08-keyboard-focus-on-topic")
    page.keyboard.press("Enter")
    expect(page.locator(".ccw-bot").nth(1)).to_contain_text("15 minutes", timeout=ANSWER)
    expect(page.locator("#ccw-input")).to_be_focused()

    page.keyboard.type("what warning signs should I watch for")
    page.keyboard.press("Enter")
    expect(page.locator(".ccw-bot")).to_have_count(3, timeout=ANSWER)
    page.keyboard.press("Escape")
    expect(page.locator(".ccw-panel")).to_be_hidden()
    expect(page.locator(".ccw-launcher")).to_be_focused()


def test_phone_360_pixels_wide(browser, url):
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = ctx.new_page()
        page.goto(url)
        assert no_horizontal_scroll_page(page)
        shot(page, "09-phone-page")
        page.locator(".ccw-launcher").tap()
        expect(page.locator(".ccw-bot").first).to_contain_text("I am not a doctor", timeout=ANSWER)
        box = page.locator(".ccw-panel").bounding_box()
        assert box and box["x"] == 0 and box["width"] == 360
        # covering the screen, the chat is modal: the page behind it is inert
        assert page.locator("main").evaluate("main => main.inert")
        expect(page.get_by_role("dialog")).to_have_attribute("aria-modal", "true")
        ask(page, "how do I use ice packs?")
        expect(page.locator(".ccw-bot").nth(1)).to_contain_text("15 minutes", timeout=ANSWER)
        assert no_horizontal_scroll(page)
        for target in page.locator(".ccw-panel button, .ccw-panel .ccw-call").all():
            height = target.bounding_box()["height"]
            assert height >= 44, f"tap target {target.text_content()!r} is {height}px high"
        size = page.locator(".ccw-bot .ccw-text").first.evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)"
        )
        assert size >= 18
        shot(page, "10-phone-chat")
        page.get_by_role("button", name="Close").tap()
        assert not page.locator("main").evaluate("main => main.inert")
    finally:
        ctx.close()


def test_readable_at_200_percent_zoom(browser, url):
    # a 1280x800 window at 200% zoom lays out like 640x400 CSS pixels at twice the density
    ctx = browser.new_context(viewport={"width": 640, "height": 400}, device_scale_factor=2)
    try:
        page = ctx.new_page()
        open_chat(page, url)
        ask(page, "my legs went numb this morning and its getting worse")
        expect(page.locator(".ccw-urgent")).to_have_count(1, timeout=ANSWER)
        assert no_horizontal_scroll(page)
        # the text box stays on screen; the rest scrolls as one page
        for selector in ("#ccw-input", ".ccw-send"):
            expect(page.locator(selector)).to_be_in_viewport()
        expect(page.locator(".ccw-urgent .ccw-call").first).to_be_in_viewport()
        shot(page, "11-zoom-200")
    finally:
        ctx.close()


def test_no_wcag_a_or_aa_violations_found_by_axe(browser, url):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = ctx.new_page()
        open_chat(page, url)
        ask(page, "my legs went numb this morning and its getting worse")
        expect(page.locator(".ccw-bot").last).to_contain_text("phone number", timeout=ANSWER)
        ask(page, "skip")
        expect(page.locator(".ccw-bot").last).to_contain_text("call", timeout=ANSWER)
        ask(page, "how do I use ice packs?")
        expect(page.locator(".ccw-bot").last).to_contain_text("15 minutes", timeout=ANSWER)
        results = axe.Axe().run(
            page,
            options={
                "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
            },
        )
        assert results.violations_count == 0, results.generate_snapshot()
    finally:
        ctx.close()


def test_network_drop_and_return(page, url, context):
    open_chat(page, url)
    context.set_offline(True)
    status = page.locator(".ccw-status")
    expect(status).to_contain_text("Connection lost", timeout=30_000)
    expect(status).to_contain_text("911")
    ask(page, "how do I use ice packs?")
    expect(page.locator(".ccw-pending")).to_contain_text("Waiting to send")
    shot(page, "12-offline")
    context.set_offline(False)
    expect(page.locator(".ccw-bot").last).to_contain_text("15 minutes", timeout=ANSWER)
    expect(page.locator(".ccw-pending")).to_have_count(0)
    expect(status).to_be_hidden()


def test_a_browser_key_request_that_hangs_does_not_keep_the_chat_from_starting(page, url):
    held: List[Any] = []
    page.route("**/webhooks/web/session", lambda route: held.append(route))  # never answered
    open_chat(page, url)
    assert held, "the widget did not ask for its browser key"


def test_a_page_on_another_origin_cannot_connect(page, base):
    embed = (
        "<!doctype html><html lang=en><title>Not the clinic</title><body><h1>Elsewhere</h1>"
        f'<script src="{base}/webhooks/web/static/widget.js" data-clinic-name="Elsewhere"'
        ' data-clinic-phone="(555) 555-0100" data-open="true" defer></script>'
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(embed)))
            self.end_headers()
            self.wfile.write(embed)

    # a real server on another port: another origin on this machine
    other = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{other.server_address[1]}/")
        status = page.locator(".ccw-status")
        expect(status).to_contain_text("cannot be reached", timeout=30_000)
        expect(status.locator("a[href='tel:+15555550100']")).to_have_count(1)
        page.wait_for_timeout(2_000)
        expect(page.locator(".ccw-bot")).to_have_count(0)
        assert "session_id" not in json.dumps(page.evaluate("() => ({...sessionStorage})"))
        shot(page, "13-other-origin-refused")
    finally:
        other.shutdown()
        other.server_close()


def test_socketio_refuses_other_origins_and_issues_its_own_session_ids(base, servers):
    polling = f"{base}/webhooks/web/socket.io/?EIO=4&transport=polling"
    request = urllib.request.Request(polling, headers={"Origin": EVIL})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    request = urllib.request.Request(polling, headers={"Origin": base})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.headers["Access-Control-Allow-Origin"] == base

    # Playwright's sync API holds this thread's event loop: run the client in another thread
    with ThreadPoolExecutor(1) as pool:
        results = pool.submit(asyncio.run, _socketio_checks(base)).result()
    assert results["evil_refused"] and results["evil_ws_refused"]
    issued = results["issued"]
    assert len(issued) == 32 and issued != "A" * 32 and not issued.startswith(("sms", "rest"))
    assert results["continued"] == issued  # a real stored session is continued
    assert issued not in (results["stranger"], results["other_browser"])
    senders = {
        r["sender_id"] for r in query("select distinct sender_id from events", env=servers.env)
    }
    assert f"web:{issued}" in senders
    assert "web:" + "B" * 32 not in senders  # the message went to the socket's own session
    assert CANARY not in servers.log.read_text()  # message text is never logged


async def _socketio_checks(base: str) -> Dict[str, Any]:
    import socketio
    import websockets

    # the python client uses long polling: Rasa's pinned aiohttp is too old for its websocket
    results: Dict[str, Any] = {}
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(
            base,
            socketio_path="/webhooks/web/socket.io",
            headers={"Origin": EVIL},
            transports=["polling"],
        )
        results["evil_refused"] = False
    except socketio.exceptions.ConnectionError:
        results["evil_refused"] = True
    finally:
        await client.disconnect()
    ws_url = base.replace("http", "ws") + "/webhooks/web/socket.io/?EIO=4&transport=websocket"
    try:
        async with websockets.connect(ws_url, origin=EVIL):
            results["evil_ws_refused"] = False
    except websockets.exceptions.InvalidStatusCode:
        results["evil_ws_refused"] = True

    def browser_cookie() -> str:
        request = urllib.request.Request(f"{base}/webhooks/web/session", b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.headers["Set-Cookie"].split(";", 1)[0]

    cookie = browser_cookie()

    async def session(asked: Any, message: Any = None, cookie: Optional[str] = cookie) -> str:
        client = socketio.AsyncClient(reconnection=False)
        confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
        answered: asyncio.Future = asyncio.get_running_loop().create_future()
        client.on("session_confirm", lambda data: confirmed.set_result(data["session_id"]))
        client.on("bot_uttered", lambda data: answered.done() or answered.set_result(data))
        await client.connect(
            base,
            socketio_path="/webhooks/web/socket.io",
            transports=["polling"],
            headers={"Cookie": cookie} if cookie else {},
        )
        try:
            await client.emit("session_request", {"session_id": asked})
            issued = await asyncio.wait_for(confirmed, 30)
            if message:
                await asyncio.wait_for(answered, 60)  # the greeting of a new session
                # naming another session changes nothing: the socket's own one is used
                await client.emit("user_uttered", {"message": message, "session_id": "B" * 32})
                await asyncio.sleep(3)
            return issued
        finally:
            # a polling client's plain disconnect waits for the server's next ping (about
            # 25 s); the close is sent either way, so do not wait for the poll in flight
            await client.eio.disconnect(abort=True)

    results["issued"] = await session("A" * 32, f"{CANARY} my back is sore")
    results["continued"] = await session(results["issued"])
    # the id alone, without the browser's cookie, continues nothing
    results["stranger"] = await session(results["issued"], cookie=None)
    results["other_browser"] = await session(results["issued"], cookie=browser_cookie())
    return results
