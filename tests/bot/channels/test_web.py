"""The website chat channel's pieces that need no server: origins, payloads, history, page."""

from __future__ import annotations

import re

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot.channels import web, web_page
from bot.settings import get_settings


@pytest.fixture
def origins(monkeypatch):
    def set_to(value: str) -> None:
        monkeypatch.setenv("WEB_ALLOWED_ORIGINS", value)
        get_settings.cache_clear()

    return set_to


def test_only_listed_origins_are_allowed(origins):
    origins("https://clinic.example.org, http://127.0.0.1:5005/")
    assert web.origin_allowed("https://clinic.example.org")
    assert web.origin_allowed("http://127.0.0.1:5005")
    assert web.origin_allowed("HTTPS://Clinic.Example.org/")
    assert not web.origin_allowed("https://evil.example")
    assert not web.origin_allowed("https://clinic.example.org.evil.example")
    assert not web.origin_allowed("http://clinic.example.org")  # scheme matters
    assert not web.origin_allowed(None)
    assert not web.origin_allowed("null")


def test_a_wildcard_never_opens_the_chat_to_every_origin(origins):
    origins("* https://clinic.example.org null")
    assert get_settings().web_allowed_origins == ("https://clinic.example.org",)
    assert not web.origin_allowed("https://evil.example")


def test_without_the_setting_only_the_servers_own_origin_is_allowed(origins):
    origins("")
    environ = {"HTTP_HOST": "127.0.0.1:5005", "wsgi.url_scheme": "http"}
    assert web.origin_allowed("http://127.0.0.1:5005", environ)
    assert not web.origin_allowed("http://localhost:5005", environ)
    assert not web.origin_allowed("https://evil.example", environ)
    assert not web.origin_allowed("http://127.0.0.1:5005", {})


def test_session_ids_are_random_192_bits_and_namespaced():
    ids = {web.new_session_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(web.SESSION_ID.match(i) for i in ids)
    assert web.conversation_id("abc") == "web:abc"
    assert not web.SESSION_ID.match("sms:+15555550123")
    assert not web.SESSION_ID.match("../" + "a" * 29)


def test_urgent_answers_are_tagged_with_the_numbers_to_call():
    urgent = web.bot_payload({"text": "Call now", "utter_action": "utter_red_flag_urgent"})
    assert urgent is not None and urgent["urgent"]["tier"] == "urgent"
    hrefs = [c["href"] for c in urgent["urgent"]["calls"]]
    assert hrefs == ["tel:+15555550100", "tel:+15555550199", "tel:911"]
    emergency = web.bot_payload({"text": "911", "utter_action": "utter_red_flag_emergency"})
    assert emergency is not None and emergency["urgent"]["calls"][0]["href"] == "tel:911"
    plain = web.bot_payload({"text": "Ice", "utter_action": "utter_faq/ice_pack"})
    assert plain == {"text": "Ice", "quick_replies": []}


def test_buttons_become_quick_replies_and_empty_messages_are_dropped():
    payload = web.bot_payload(
        {"text": "Hi", "buttons": [{"title": "Ice packs", "payload": "How do I use ice?"}, {}]}
    )
    assert payload == {
        "text": "Hi",
        "quick_replies": [{"title": "Ice packs", "payload": "How do I use ice?"}],
    }
    assert web.bot_payload({"text": ""}) is None
    assert web.bot_payload({"image": "x.png"}) is None


def test_history_leaves_out_the_external_greet_and_keeps_only_the_last_buttons():
    events = [
        ActionExecuted("action_listen"),
        UserUttered.create_external("greet"),
        BotUttered("Hello", {"buttons": [{"title": "A", "payload": "a?"}]}, {}),
        UserUttered("my legs are numb"),
        BotUttered("Call the clinic now", {}, {"utter_action": "utter_red_flag_urgent"}),
        BotUttered("Which one?", {"buttons": [{"title": "B", "payload": "b?"}]}, {}),
    ]
    shown = web.history(events)
    assert [m["from"] for m in shown] == ["bot", "user", "bot", "bot"]
    assert "quick_replies" not in shown[0]
    assert shown[1] == {"from": "user", "text": "my legs are numb"}
    assert shown[2]["urgent"]["tier"] == "urgent"
    assert shown[3]["quick_replies"] == [{"title": "B", "payload": "b?"}]


def test_tel_links_are_built_from_digits():
    assert web_page.tel_href("(555) 555-0100") == "tel:+15555550100"
    assert web_page.tel_href("+44 20 7946 0958") == "tel:+442079460958"
    assert web_page.tel_href("911") == "tel:911"


def test_static_files_stay_inside_the_static_folder():
    assert web_page.static_file("widget.js") is not None
    assert web_page.static_file("vendor/socket.io.min.js") is not None
    assert web_page.static_file("vendor/README.md") is None  # not a served type
    assert web_page.static_file("../demo.html") is None
    assert web_page.static_file("../../bot/settings.py") is None
    assert web_page.static_file("/etc/passwd") is None


def test_the_widgets_modules_and_css_are_served_to_any_page():
    # a clinic's page on another origin imports the modules: module scripts need CORS
    for name in ("widget/main.js", "widget/view.js", "widget/base.css"):
        assert web_page.static_file(name) is not None, name
    assert web_page.ASSET_HEADERS["Access-Control-Allow-Origin"] == "*"


def test_demo_page_names_the_clinic_escaped_and_embeds_one_script(monkeypatch):
    monkeypatch.setenv("CLINIC_NAME", 'Oak & Elm <script>alert("x")</script>')
    get_settings.cache_clear()
    page = web_page.demo_page()
    assert "Oak &amp; Elm &lt;script&gt;" in page
    assert "<script>alert" not in page
    assert len(re.findall(r"<script\b", page)) == 1
    assert 'src="/webhooks/web/static/widget.js"' in page
    assert "tel:+15555550100" in page


def test_the_widget_never_puts_text_into_html():
    # the loader and its ES modules (web/static/widget/)
    files = [web_page.STATIC_ROOT / "widget.js", *(web_page.STATIC_ROOT / "widget").glob("*.js")]
    widget = "\n".join(path.read_text() for path in files)
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", widget)
    assert "textContent" in widget


def test_the_socketio_servers_share_a_redis_queue_only_when_redis_url_is_set(monkeypatch):
    from socketio import AsyncRedisManager

    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    assert web.client_manager() == {}
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6399/0")
    get_settings.cache_clear()
    manager = web.client_manager()["client_manager"]
    assert isinstance(manager, AsyncRedisManager)
    assert manager.channel == web.SOCKETIO_CHANNEL
    channel = web.WebInput()
    channel.blueprint(lambda message: None)
    assert isinstance(channel.sio.manager, AsyncRedisManager)


def test_a_greeting_that_fails_says_so_with_the_numbers_instead_of_an_empty_chat():
    import asyncio
    from types import SimpleNamespace

    from bot import replies

    class Broken:
        def is_ready(self) -> bool:
            return True

        @property
        def lock_store(self):
            raise RuntimeError("tracker store down")

    said: list = []

    class Sio:
        async def emit(self, event, data, room=None):
            said.append((event, data, room))

    channel = web.WebInput()
    channel.app = SimpleNamespace(ctx=SimpleNamespace(agent=Broken()))  # type: ignore[assignment]
    channel.sio = Sio()  # type: ignore[assignment]
    asyncio.run(channel._greet("web:abc"))
    texts = [data.get("text") for _, data, _ in said if "text" in data]
    assert texts == [replies.web_trouble()]
    assert "911" in texts[0] and get_settings().clinic_phone in texts[0]
    assert said[-1][1] == {"typing": False}
