"""The schedule's texts are patient content: sourced, plain, GSM-7, one text each."""

from __future__ import annotations

from typing import Iterator, Tuple

from bot.channels.sms_format import GSM7_BASIC
from bot.checkins.schedule import fill
from bot.checkins.sender import question_text

ONE_TEXT = 160


def texts(schedule) -> Iterator[Tuple[str, str]]:
    """Every text a patient can get from the schedule, filled in as it is sent."""
    yield "intro", fill(schedule.intro, count=len(schedule.entries), weeks=schedule.weeks)
    yield "alert", fill(schedule.alert_reply)
    yield "last_call", fill(schedule.last_call)
    for ask, reading in schedule.answers.items():
        yield f"{ask}.unclear", fill(reading["unclear"])
        yield f"{ask}.resume", fill(f"{schedule.resume} {reading['how']}")
    for entry in schedule.entries:
        question = question_text(schedule, entry)
        yield f"{entry.key}.question", question
        yield f"{entry.key}.reminder", fill(schedule.reminder, question=question)
        yield f"{entry.key}.reply", fill(entry.reply)


def test_every_text_is_one_gsm7_text(schedule):
    for name, text in texts(schedule):
        bad = sorted({c for c in text if c not in GSM7_BASIC})
        assert not bad, f"{name}: characters outside GSM-7 {bad}"
        assert len(text) <= ONE_TEXT, f"{name} ({len(text)} characters)"


def test_every_text_reads_at_grade_8_or_lower(schedule):
    # imported here, not at collection: textstat's import warns before the filters are set
    import textstat

    from tests.test_content import MAX_GRADE, for_reading

    hard = []
    for name, text in texts(schedule):
        grade = textstat.flesch_kincaid_grade(for_reading(text))
        if grade > MAX_GRADE:
            hard.append(f"{name} grade {grade:.1f}")
    assert not hard, "\n".join(hard)


def test_the_advice_names_its_sources(schedule):
    from tests.test_content import SOURCE_IDS

    for entry in schedule.entries:
        assert entry.sources, f"{entry.key}: its reply gives advice but names no source"
        assert set(entry.sources) <= SOURCE_IDS, entry.key


def test_the_first_text_says_who_how_often_and_how_to_stop(schedule):
    intro = dict(texts(schedule))["intro"]
    assert "Riverbend Spine Clinic" in intro and "5 short questions over 6 weeks" in intro
    assert "Reply STOP to end, HELP for help." in intro


def test_no_text_names_the_procedure_or_a_diagnosis(schedule):
    for name, text in texts(schedule):
        lowered = text.lower()
        assert not any(w in lowered for w in ("kyphoplasty", "vertebroplasty", "fracture")), name
