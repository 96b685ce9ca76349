"""The care team's pages in headless Chromium (Debian's), against the real staff server and
the store by settings (a real SQLite file, or PostgreSQL with TEST_DATABASE=postgresql): sign
in, the queue, one alert, acknowledge and resolve, on a desktop window, a phone and by keyboard
alone. Needs no model.

Screenshots go to results/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest

from bot import audit, clock, staff
from bot.escalations import event_key
from bot.settings import PROJECT_ROOT, get_settings
from bot.store import Store, open_store
from tests.support.loopback import free_port
from tests.support.profiles import create_events_table
from tests.support.staff_client import PASSWORD, add_staff

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect

pytestmark = [pytest.mark.e2e]

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]
SHOTS = PROJECT_ROOT / "results" / "screenshots"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run should have installed it")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def say(store: Store, sender: str, kind: str, ts: float, text: str) -> None:
    store.db.execute(
        "insert into events (sender_id, type_name, timestamp, data) values (?, ?, ?, ?)",
        [sender, kind, ts, json.dumps({"text": text})],
    )


def report(store: Store, sender: str, tier: str, ts: float, words: str, minutes: int) -> int:
    say(store, sender, "user", ts - 2, "is soreness normal after the procedure?")
    say(store, sender, "bot", ts - 1, "Some soreness for a few days is common.")
    say(store, sender, "user", ts, words)
    say(store, sender, "bot", ts + 0.5, "Please call the clinic now.")
    recorded = store.record(
        sender=sender,
        channel="web",
        tier=tier,
        symptoms=["numbness"] if tier == "urgent" else ["chest_pain"],
        message=words,
        event_key=event_key(sender, ts),
        source="action",
        notifiers=(),
        now=clock.now() - timedelta(minutes=minutes),
    )
    store.set_callback_number(recorded.escalation_id, "+15555550123")
    return recorded.escalation_id


@pytest.fixture
def site(monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("STAFF_PORT", str(free_port()))
    get_settings.cache_clear()
    store = open_store()
    create_events_table()
    urgent = report(
        store, "web:old", "urgent", 1000.0, "my legs went numb <img src=x onerror=alert(1)>", 75
    )
    emergency = report(store, "web:new", "emergency", 2000.0, "crushing chest pain", 5)
    add_staff(store, "ana", "nurse")
    server = staff.serve(store, get_settings())
    yield f"http://127.0.0.1:{get_settings().staff_port}", store, urgent, emergency
    server.shutdown()
    store.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"staff-{name}.png"), full_page=True)


def sign_in_by_keyboard(page: Any, base: str) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(base + "/signin")
    expect(page.locator("#name")).to_be_focused()
    page.keyboard.type("ana")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Alerts waiting (2)")


def test_a_nurse_signs_in_opens_the_oldest_urgent_alert_and_resolves_it(browser, site):
    base, store, urgent, emergency = site
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    dialogs: list = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in_by_keyboard(page, base)
    rows = page.locator("tr.alert-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("emergency")
    expect(rows.nth(1)).to_contain_text("urgent")
    expect(rows.nth(1).locator(".waited")).to_have_text("1 h 15 min")
    shot(page, "queue")

    rows.nth(1).get_by_role("link", name=f"#{urgent}").click()
    expect(page.locator("h1")).to_have_text(f"Alert #{urgent}")
    expect(page.locator(".turn.report")).to_contain_text("my legs went numb <img")
    expect(page.locator("main")).to_contain_text("is soreness normal")
    expect(page.locator("a.call")).to_have_attribute("href", "tel:+15555550123")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#status")).to_have_text("acknowledged")
    page.get_by_label("Outcome").select_option("reached_advised")
    page.get_by_label("Note").fill("Called her; numbness easing, told to go to ER if worse.")
    shot(page, "alert-resolving")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#status")).to_have_text("resolved")
    expect(page.locator("main")).to_contain_text("Reached and advised")
    shot(page, "alert-resolved")
    assert dialogs == []  # the patient's markup never ran

    changes = [(r["actor"], r["action"]) for r in audit.rows(store, urgent)]
    assert ("ana", "viewed alert") in changes
    assert [a for _, a in changes if not a.startswith("viewed")] == ["acknowledged", "resolved"]
    page.goto(base + "/")
    expect(page.locator("h1")).to_have_text("Alerts waiting (1)")
    context.close()


def test_the_queue_fits_a_phone_and_works_by_keyboard(browser, site):
    base, _, _, emergency = site
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in_by_keyboard(page, base)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "queue-phone")
    # Tab from the top: the skip link, sign out, then the first alert (the emergency)
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator(f"a[href='/escalations/{emergency}']")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(f"Alert #{emergency}")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "alert-phone")
    context.close()


def test_signing_out_leaves_nothing_to_see(browser, site):
    base, _, _, _ = site
    context = browser.new_context()
    page = context.new_page()
    sign_in_by_keyboard(page, base)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(base + "/signin")
    page.goto(base + "/")
    expect(page).to_have_url(base + "/signin")
    expect(page.locator("body")).not_to_contain_text("numb")
    context.close()


def test_an_admin_reads_the_audit_log_page(browser, site):
    base, store, urgent, _ = site
    add_staff(store, "lee", "admin")
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + "/signin")
    page.get_by_label("Name").fill("lee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main")).to_contain_text("Time to acknowledge, median")
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("h1")).to_have_text("Audit log")
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("viewed audit log")  # newest first, this view included
    expect(rows.nth(1)).to_contain_text("viewed queue")
    expect(page.locator("main")).to_contain_text("account created")
    shot(page, "audit-log")
    context.close()


# -- the check-ins --------------------------------------------------------------------

CHECKIN_PATIENT = "+15555550123"


@pytest.fixture
def checkin_site(monkeypatch) -> Iterator[Any]:
    """A staff server whose database holds one programme a week under way (answered 4,
    then 8: a call; day 7 missed: on the call list)."""
    from tests.support.checkins import enrol_under_way

    monkeypatch.setenv("STAFF_PORT", str(free_port()))
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    get_settings.cache_clear()
    store = open_store()
    enrolment = enrol_under_way(store, CHECKIN_PATIENT)
    add_staff(store, "ana", "nurse")
    server = staff.serve(store, get_settings())
    yield f"http://127.0.0.1:{get_settings().staff_port}", store, enrolment
    server.shutdown()
    store.close()


def sign_in(page: Any, base: str) -> None:
    page.goto(base + "/signin")
    page.get_by_label("Name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_contain_text("Alerts waiting")


def no_axe_violations(browser: Any, page: Any) -> None:
    """axe finds no WCAG 2.1 A or AA violation on what `page` shows. axe is a script the
    pages' CSP refuses, so it runs in a second context that ignores the CSP (and only
    loads: such a context's form posts lose the SameSite cookie), on the same HTML."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    checking = browser.new_context(bypass_csp=True, viewport=page.viewport_size)
    try:
        copy = checking.new_page()
        copy.set_content(page.content())
        results = axe.Axe().run(copy, options={"runOnly": {"type": "tag", "values": tags}})
        assert results.violations_count == 0, results.generate_snapshot()
    finally:
        checking.close()


def test_the_check_ins_list_and_one_programme_with_its_pain_chart(browser, checkin_site, tmp_path):
    base, _, enrolment = checkin_site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base)
    page.get_by_role("link", name="Check-ins after the procedure").click()
    expect(page.locator("h1")).to_have_text("Check-ins after the procedure")
    row = page.locator("tr.programme-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("+1******0123")
    expect(row).not_to_contain_text(CHECKIN_PATIENT)
    expect(row).to_contain_text("8/10")
    call = page.locator("tr.call-row")
    expect(call).to_have_count(1)
    expect(call.locator("a.call")).to_have_attribute("href", f"tel:{CHECKIN_PATIENT}")
    expect(page.locator("table.figures")).to_contain_text("Reply rate")
    page.screenshot(path=str(tmp_path / "checkins-list.png"), full_page=True)
    no_axe_violations(browser, page)

    row.get_by_role("link", name=f"#{enrolment}", exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Check-in programme #{enrolment}")
    chart = page.locator("svg#pain-chart")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("title")).to_have_text("Pain scores by check-in, 0 (none) to 10 (worst)")
    expect(chart.locator("circle.score")).to_have_count(2)
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 120
    expect(page.locator("#pain-table tbody tr")).to_have_count(3)  # evening, day2, day14
    expect(page.locator("tr.checkin-row[data-status='missed']")).to_contain_text("day7")
    chart.screenshot(path=str(tmp_path / "pain-chart.png"))
    page.screenshot(path=str(tmp_path / "checkins-programme.png"), full_page=True)
    assert (tmp_path / "pain-chart.png").stat().st_size > 1000
    no_axe_violations(browser, page)
    context.close()


def test_the_programme_page_fits_a_phone(browser, checkin_site, tmp_path):
    base, _, enrolment = checkin_site
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, base)
    page.goto(f"{base}/checkins/{enrolment}")
    expect(page.locator("svg#pain-chart")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "checkins-programme-phone.png"), full_page=True)
    context.close()


def test_the_enrol_form_refuses_kindly_then_enrols_and_stop_ends_it(
    browser, checkin_site, tmp_path
):
    base, store, _ = checkin_site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base)
    page.goto(base + "/checkins")
    page.get_by_role("link", name="Enrol a patient").click()
    expect(page.locator("h1")).to_have_text("Enrol a patient in check-ins")
    expect(page.get_by_label("The patient's time zone")).to_have_value(
        get_settings().clinic_timezone
    )
    no_axe_violations(browser, page)
    page.get_by_label("Mobile number").fill("555-01")
    page.get_by_role("button", name="Enrol").click()
    errors = page.locator("#enrol-errors")
    expect(errors).to_contain_text("The patient was not enrolled")
    expect(errors.locator("li")).to_have_count(4)  # number, procedure, date, time
    expect(page.get_by_label("Mobile number")).to_have_value("555-01")
    expect(page.get_by_label("Mobile number")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(tmp_path / "enrol-refused.png"), full_page=True)
    no_axe_violations(browser, page)

    tomorrow = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    page.get_by_label("Mobile number").fill("(555) 555-0188")
    page.get_by_label("Procedure", exact=True).select_option("vertebroplasty")
    page.get_by_label("Date of the procedure").fill(tomorrow)
    page.get_by_label("Time of the procedure").fill("09:45")
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator("h1")).to_contain_text("Check-in programme #")
    expect(page.locator("main")).to_contain_text("by ana")
    expect(page.locator("#programme-status")).to_have_text("active")
    expect(page.locator("tr.checkin-row")).to_have_count(5)
    page.get_by_label("Reason for stopping").fill("patient asked by phone")
    page.get_by_role("button", name="Stop the check-ins").click()
    expect(page.locator("#programme-status")).to_have_text("stopped")
    expect(page.locator("tr.checkin-row[data-status='cancelled']")).to_have_count(5)
    changes = [(r["actor"], r["action"]) for r in audit.rows(store)]
    assert ("ana", "enrolment refused") in changes
    assert ("ana", "enrolled for check-ins") in changes and ("ana", "stopped check-ins") in changes
    context.close()
