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


def test_train_recall_is_complete_and_no_plain_question_escalates():
    result = evaluate("train")
    assert not result.misses, failures(result)
    assert not result.question_alarms, failures(result)


def test_failures_are_listed_for_train_only(capsys):
    main(["--split", "locked", "--failures"])
    out = capsys.readouterr().out
    locked = [m.text for m in load_messages("locked")]
    assert "| locked" in out
    assert not any(repr(text) in out for text in locked)
