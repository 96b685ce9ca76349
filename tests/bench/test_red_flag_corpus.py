"""The detector-alone bench over the real-wording corpus: its counts, and that it never
prints a locked row's text."""

from __future__ import annotations

from bench.corpus import load_messages
from bench.red_flag_corpus import evaluate, failures, main


def test_the_train_split_is_counted_by_flag():
    result = evaluate("train")
    rows = load_messages("train")
    assert result.reports == sum(m.flag == "report" for m in rows)
    assert result.lookalikes == sum(m.flag == "lookalike" for m in rows)
    assert result.questions == sum(m.flag not in ("report", "lookalike") for m in rows)
    assert 0 <= result.caught <= result.reports


# The second collection round (ids r477 and up) added train reports the detector was not tuned
# on yet. These were its misses among them on arrival: the list may only shrink. Any other miss
# (a regression, or a later row) fails, and so does any plain question that escalates.
NOT_YET_TUNED_ON = frozenset(
    "r505 r517 r525 r527 r530 r532 r533 r535 r544 r585 r597 r608 r634 r641 r722 r723".split()
)


def test_train_recall_is_complete_but_for_rows_not_yet_tuned_on():
    result = evaluate("train")
    reports = {m.id for m in load_messages("train") if m.flag == "report"}
    assert reports >= NOT_YET_TUNED_ON
    assert {m.id for m, _ in result.misses} <= NOT_YET_TUNED_ON, failures(result)
    assert not result.question_alarms, failures(result)


def test_failures_are_listed_for_train_only(capsys):
    main(["--split", "locked", "--failures"])
    out = capsys.readouterr().out
    locked = [m.text for m in load_messages("locked")]
    assert "| locked" in out
    assert not any(repr(text) in out for text in locked)
