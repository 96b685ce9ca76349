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


# Train reports the detector does not catch, each for a reason: the list may only shrink. Any
# other miss (a regression, or a later row) fails, and so does any plain question that escalates.
# - r527 "more and more unwell since she came home, weaker and not eating": a decline with no
#   one warning sign in it; the classifier, not the lexicon, has to read it.
# - r861 (round 3) a blistering, itching rash under the dressing tape: the lexicon's rash is an
#   allergic reaction, tiered for 911; a tape rash needs a call back, and which tier a skin
#   reaction gets is the clinicians' to decide (tests/data/real/notes-redflags.md, round 3).
NOT_YET_TUNED_ON = frozenset({"r527", "r861"})

# Train questions that escalate, each for a reason: the list may only shrink.
# - q816 (round 4) "haven't gone since the surgery, should i use metamucil ...": the question is
#   about the bowels, but "haven't gone since the surgery" alone is also how people say they
#   cannot pee; the stool softener is in the next clause, which the patterns do not read across.
# - q944 (round 4) "the advil isnt working, can i take a couple more": pain that the pain
#   medicine does not control is a reason to call on the discharge sheets; a call back is kept.
KNOWN_QUESTION_ALARMS = frozenset({"q816", "q944"})


def test_train_recall_is_complete_but_for_rows_not_yet_tuned_on():
    result = evaluate("train")
    reports = {m.id for m in load_messages("train") if m.flag == "report"}
    assert reports >= NOT_YET_TUNED_ON
    assert {m.id for m, _ in result.misses} <= NOT_YET_TUNED_ON, failures(result)
    assert {m.id for m, _ in result.question_alarms} <= KNOWN_QUESTION_ALARMS, failures(result)


def test_failures_are_listed_for_train_only(capsys):
    main(["--split", "locked", "--failures"])
    out = capsys.readouterr().out
    locked = [m.text for m in load_messages("locked")]
    assert "| locked" in out
    assert not any(repr(text) in out for text in locked)
