"""Response generation that fills the clinic's details into every response.

Runs inside the Rasa server (configured as `nlg.type` in endpoints.yml), so
the clinic's phone number and hours reach the patient even when the action
server is down.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_speedups
from bot.settings import get_settings


class ClinicResponseGenerator(TemplatedNaturalLanguageGenerator):
    """Domain responses with `{clinic_name}`, `{clinic_phone}`... filled from settings."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        domain: Optional[Domain] = None,
    ) -> None:
        super().__init__((domain or Domain.empty()).responses)
        rasa_speedups.install()

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> Optional[Dict[str, Any]]:
        values: Dict[str, Any] = {**get_settings().response_values(), **kwargs}
        return self.generate_from_slots(
            utter_action, tracker.current_slot_values(), output_channel, **values
        )
