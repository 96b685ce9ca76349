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


def not_kept() -> str:
    """Said after an answer when the conversation store could not keep the turn."""
    s = get_settings()
    return (
        "Sorry, I am having trouble on my side and could not save this message. "
        "Please send it again in a few minutes. If you have a warning sign, do not wait: "
        f"call {s.clinic_name} at {s.clinic_phone}. If this is an emergency, call 911."
    )


def truncated_note() -> str:
    """Said after answering a message that was too long to read in full."""
    s = get_settings()
    return (
        "Your message was very long, so I read only the first part. "
        "If something important was near the end, please send it as a short "
        f"message or call {s.clinic_phone}."
    )


# -- SMS ---------------------------------------------------------------------------
# Said by the SMS channel itself: carrier keywords, pictures, and the interim reply
# when the assistant is too slow for Twilio's 15-second webhook window.


def red_flag_advice(tier: str) -> str:
    """What to do now about a warning sign: the domain's SMS advice for the tier
    (utter_red_flag_emergency / utter_red_flag_urgent, kept equal by a test)."""
    s = get_settings()
    if tier == "emergency":
        return (
            "This could be an emergency. Call 911 now. Do not wait for a call back and do not "
            f"drive yourself. After you call 911, let {s.clinic_name} know at {s.clinic_phone}."
        )
    return (
        f"This can be a warning sign after the procedure. Please call {s.clinic_name} now at "
        f"{s.clinic_phone}. If the clinic is closed, call {s.after_hours_phone} or go to the "
        "emergency room. Chest pain, trouble breathing or fainting: call 911."
    )


def sms_still_working() -> str:
    """Sent when the answer takes longer than Twilio waits; the answer follows as a text."""
    s = get_settings()
    return (
        "I am still working on your answer and will text it to you soon. "
        f"If it is urgent, call {s.clinic_phone}. If this is an emergency, call 911."
    )


def sms_trouble() -> str:
    """Sent when the assistant could not answer at all."""
    s = get_settings()
    return (
        "Sorry, I could not answer just now. Please try again in a few minutes, "
        f"or call {s.clinic_phone}. If this is an emergency, call 911."
    )


def sms_opted_out() -> str:
    """The one confirmation of STOP (and the other opt-out words)."""
    s = get_settings()
    return (
        f"You will get no more texts from {s.clinic_name}. Reply START to get texts again. "
        f"To talk to a person, call {s.clinic_phone}. If this is an emergency, call 911."
    )


def sms_opted_in() -> str:
    """The confirmation of START, UNSTOP or YES after an opt-out."""
    s = get_settings()
    return (
        f"You will get texts from {s.clinic_name} again. Text your question any time. "
        "Reply HELP for help or STOP to opt out."
    )


def sms_help() -> str:
    """The answer to HELP or INFO: who this is, how to reach a person, how to opt out."""
    s = get_settings()
    return (
        f"{s.clinic_name} patient assistant. Text a question about vertebroplasty or "
        f"kyphoplasty. To talk to a person, call {s.clinic_phone}. Reply STOP to opt out. "
        "If this is an emergency, call 911."
    )


def sms_media() -> str:
    """The answer to a picture or other file sent without words."""
    s = get_settings()
    return (
        "I cannot view pictures or files here. Please describe it in words, or call "
        f"{s.clinic_name} at {s.clinic_phone}. If this is an emergency, call 911."
    )
