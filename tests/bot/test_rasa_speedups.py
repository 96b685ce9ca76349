"""The cached action-reply validator judges every reply exactly as Rasa's own call does."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_speedups

SCHEMA = RemoteAction.action_response_format_spec()

VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "escalation_id", "value": "e1", "timestamp": None},
            {"event": "followup", "name": "callback_form"},
            {"event": "active_loop", "name": None},
        ],
        "responses": [{"response": "utter_escalated"}],
    },
    {"events": [{"event": "bot", "text": "hello", "metadata": {"sources": ["a"]}}]},
]
INVALID = [
    {"events": [{"name": "no event key"}]},
    {"events": [{"event": "slot", "name": "x"}]},  # a slot event needs a value
    {"events": "not a list"},
    {"responses": [42]},
    {"events": [{"event": "user", "text": 7}]},
]


@pytest.mark.parametrize("result", VALID)
def test_accepts_what_rasa_accepts(result):
    jsonschema.validate(result, SCHEMA)  # Rasa's own way
    rasa_speedups.action_result_validator().validate(result)


@pytest.mark.parametrize("result", INVALID)
def test_rejects_what_rasa_rejects(result):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(result, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        rasa_speedups.action_result_validator().validate(result)


def test_installed_method_keeps_rasas_error_message():
    rasa_speedups.install()
    rasa_speedups.install()  # idempotent
    action = RemoteAction("action_escalate", EndpointConfig("http://127.0.0.1:1/webhook"))
    assert action._validate_action_result(VALID[1]) is True
    with pytest.raises(jsonschema.ValidationError) as raised:
        action._validate_action_result(INVALID[0])
    assert "Failed to validate Action server response" in raised.value.message


def test_the_validator_is_built_once():
    assert rasa_speedups.action_result_validator() is rasa_speedups.action_result_validator()
