"""Reading parse results of the trained model in tests."""

from __future__ import annotations

from typing import Any, Dict, List


def full_intent(parse: Dict[str, Any]) -> str:
    """`faq/ice_pack` for retrieval intents, the plain intent name otherwise."""
    name = (parse.get("intent") or {}).get("name") or ""
    selected = (parse.get("response_selector") or {}).get(name)
    if selected:
        return selected["response"]["intent_response_key"] or name
    return name


def parse_all(agent: Any, texts: List[str]) -> List[Dict[str, Any]]:
    """Parse many messages on one event loop."""
    import asyncio

    async def run() -> List[Dict[str, Any]]:
        return [await agent.parse_message(t) for t in texts]

    return asyncio.run(run())
