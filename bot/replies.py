"""The few replies a channel gives on its own, before the assistant runs.

Kept beside the settings they use; the assistant's real answers live in
domain.yml.
"""

from __future__ import annotations

from bot.settings import get_settings


def unusable_message() -> str:
    """Reply to a message with no words in it (empty, emoji, binary)."""
    s = get_settings()
    return (
        "I could not find any words in that message. Please type your question. "
        f"To talk to a person, call {s.clinic_name} at {s.clinic_phone}. "
        "If this is an emergency, call 911."
    )


def web_trouble() -> str:
    """Said in the website chat when the assistant failed to answer a message."""
    s = get_settings()
    return (
        "Sorry, something went wrong and I could not answer. Please try again. "
        f"To talk to a person, call {s.clinic_name} at {s.clinic_phone}. "
        "If this is an emergency, call 911."
    )


def truncated_note() -> str:
    """Said after answering a message that was too long to read in full."""
    s = get_settings()
    return (
        "Your message was very long, so I read only the first part. "
        "If something important was near the end, please send it as a short "
        f"message or call {s.clinic_phone}."
    )
