"""Measured fixes for per-message costs inside the Rasa 3.6 server.

Installed once by `ClinicResponseGenerator` (bot/nlg.py), which the Rasa server builds when it
loads the model; the action server never imports this.

`RemoteAction._validate_action_result` calls `jsonschema.validate` on every custom action's
reply. That re-checks Rasa's large event schema and builds a fresh Draft 2020-12 validator each
time: 20 ms of CPU per call on this machine, about a sixth of the server's CPU under load
(py-spy, `bench/latency.py`). Checking the schema once and reusing one validator of the same
class validates exactly the same way in under 1 ms.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_installed = False


@lru_cache(maxsize=1)
def action_result_validator() -> jsonschema.protocols.Validator:
    """The validator `jsonschema.validate` would build for Rasa's action-reply schema."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    try:
        action_result_validator().validate(result)
    except jsonschema.ValidationError as error:
        # The same message Rasa adds, so a bad action reply reads the same in the logs.
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise
    return True


def install() -> None:
    """Replace Rasa's per-call validation with the cached validator (idempotent)."""
    global _installed
    if not _installed:
        RemoteAction._validate_action_result = _validate_action_result
        _installed = True
