"""Rasa's own checks: the training data validates and the conversation tests pass."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.servers import server_env
from bot.settings import PROJECT_ROOT


def _rasa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args],
        cwd=PROJECT_ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
    )


@pytest.mark.rasa_cli
def test_data_validates_without_warnings():
    result = _rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


@pytest.mark.model
def test_conversation_stories_predict_without_errors(trained_model):
    out = PROJECT_ROOT / "results" / "stories"
    result = _rasa(
        "test",
        "core",
        "--model",
        str(trained_model),
        "--stories",
        "tests/test_stories.yml",
        "--fail-on-prediction-errors",
        "--out",
        str(out),
    )
    failed = out / "failed_test_stories.yml"
    detail = failed.read_text()[-4000:] if failed.exists() else result.stderr[-4000:]
    assert result.returncode == 0, detail
