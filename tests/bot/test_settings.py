from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT, get_settings


def test_defaults_are_embedded(monkeypatch):
    monkeypatch.delenv("ASSISTANT_DB")
    get_settings.cache_clear()
    s = get_settings()
    assert s.clinic_phone and s.clinic_name and s.clinic_hours and s.after_hours_phone
    assert s.assistant_db == PROJECT_ROOT / "var" / "assistant.db"
    assert s.rest_token is None


def test_environment_overrides(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("CLINIC_PHONE", "(555) 555-0123")
    monkeypatch.setenv("ASSISTANT_DB", str(tmp_path / "x.db"))
    monkeypatch.setenv("FEVER_THRESHOLD", "100.4 F")
    get_settings.cache_clear()
    s = get_settings()
    assert s.response_values()["clinic_phone"] == "(555) 555-0123"
    assert s.response_values()["fever_threshold"] == "100.4 F"
    assert s.assistant_db == tmp_path / "x.db"


def test_blank_values_fall_back_to_defaults(monkeypatch):
    monkeypatch.setenv("CLINIC_NAME", "   ")
    get_settings.cache_clear()
    assert get_settings().clinic_name.strip()


def test_notification_links_follow_the_staff_port_unless_told(monkeypatch):
    monkeypatch.delenv("PUBLIC_STAFF_URL", raising=False)
    monkeypatch.setenv("STAFF_PORT", "6123")
    get_settings.cache_clear()
    assert get_settings().public_staff_url == "http://127.0.0.1:6123/"
    monkeypatch.setenv("PUBLIC_STAFF_URL", "https://staff.clinic.example/")
    get_settings.cache_clear()
    assert get_settings().public_staff_url == "https://staff.clinic.example/"


def test_database_url_chooses_postgresql_and_empty_keeps_sqlite(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "")
    get_settings.cache_clear()
    assert get_settings().database_url is None
    for given in ("postgres://a:b@db:5432/x", "postgresql+psycopg2://a:b@db:5432/x"):
        monkeypatch.setenv("DATABASE_URL", given)
        get_settings.cache_clear()
        assert get_settings().database_url == "postgresql://a:b@db:5432/x"
    monkeypatch.setenv("DATABASE_URL", "mysql://a@db/x")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="postgresql://"):
        get_settings()
    get_settings.cache_clear()
