"""Known third-party warnings stay silenced; ours, and new ones, still show."""

import warnings

from bot import warnings_filter


def test_the_pythonwarnings_value_keeps_what_was_set_and_adds_ours_once():
    value = warnings_filter.python_warnings("error::ResourceWarning")
    assert value.startswith("error::ResourceWarning,")
    assert "ignore::DeprecationWarning:sanic_cors.extension" in value
    assert warnings_filter.python_warnings(value) == value


def test_known_warnings_stay_ignored_after_a_library_adds_its_own_filter(monkeypatch):
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings_filter.install()
        warnings.filterwarnings("once", category=DeprecationWarning)  # as Sanic does
        warnings.warn_explicit("old", DeprecationWarning, "extension.py", 1, "sanic_cors.extension")
        warnings.warn_explicit("ours", DeprecationWarning, "store.py", 1, "bot.store")
    assert [str(w.message) for w in seen] == ["ours"]
