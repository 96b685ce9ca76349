"""The deterministic red-flag detector against the red-flag test set, and its parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from bot.nlu.red_flag_component import decide
from bot.nlu.red_flags import Detection, Finding, detector, fever_threshold_f, normalise

TEST_SET = Path(__file__).resolve().parents[2] / "data" / "red_flags.yml"
RANK = {"emergency": 0, "urgent": 1, None: 9}
MAX_FALSE_ALARMS = 0.05


def cases() -> Dict[str, List[Dict[str, Any]]]:
    return yaml.safe_load(TEST_SET.read_text())


def test_set_is_large_and_covers_every_symptom_and_tier():
    data = cases()
    assert len(data["reports"]) >= 100 and len(data["lookalikes"]) >= 80
    tiers = {r["tier"] for r in data["reports"]}
    assert tiers == {"emergency", "urgent"}
    symptoms = {r["symptom"] for r in data["reports"]}
    assert symptoms >= set(detector().symptom_tier) - {"severe_leg_weakness"} | {"fever"}


def test_every_report_is_caught_at_its_tier_or_higher(capsys):
    data = cases()
    missed = []
    for case in data["reports"]:
        found = detector().detect(case["text"]).tier
        if RANK[found] > RANK[case["tier"]]:
            missed.append(f"{case['tier']}/{case['symptom']}: {case['text']!r} -> {found}")
    with capsys.disabled():
        n = len(data["reports"])
        print(f"\nred-flag lexicon recall: {n - len(missed)}/{n}")
    assert not missed, "\n".join(missed)


def test_lookalikes_rarely_escalate(capsys):
    data = cases()
    alarms = [c for c in data["lookalikes"] if detector().detect(c["text"]).tier]
    rate = len(alarms) / len(data["lookalikes"])
    with capsys.disabled():
        print(
            f"\nred-flag lexicon false alarms: {len(alarms)}/{len(data['lookalikes'])} "
            f"({rate:.1%}): {[a['text'] for a in alarms]}"
        )
    assert rate <= MAX_FALSE_ALARMS


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("no numbness, just sore", "negated"),
        ("is numbness normal after kyphoplasty?", "question"),
        ("can you lose bladder control after kyphoplasty?", "question"),
        ("is throwing up after the procedure something to worry about", "question"),
        ("what if i get a fever", "hypothetical"),
        ("my feet tingled from the shot but it wore off before we left", "historical"),
        ("dad's feet have been numb for years from neuropathy, same as always", "chronic"),
        ("my neighbor had chest pain once", "other_person"),
        ("chest pain means call 911, right?", "definition"),
        ("mom passed out", "report"),
        ("is it normal that my foot is numb", "report"),
        ("no fever but my legs are numb", "report"),
    ],
)
def test_context_decides_what_is_a_report(text, status):
    statuses = {f.status for f in detector().detect(text).findings}
    assert status in statuses, statuses


def test_normalise_expands_contractions_shorthand_and_spellings():
    d = detector()
    assert normalise("I can't feel my toes", d.spellings, d.shorthand) == "i cannot feel my toes"
    assert normalise("legs r weak n wobbly", d.spellings, d.shorthand) == "legs are weak and wobbly"
    assert normalise("fevr 101.5", d.spellings, d.shorthand) == "fever 101.5"
    assert normalise("I couldn't stand", d.spellings, d.shorthand) == "i cannot stand"
    assert normalise("I'm not able to walk", d.spellings, d.shorthand) == "i am unable to walk"
    assert "hurting" in detector().detect("my chest is hurtin").findings[0].words


def test_fever_reading_respects_the_threshold():
    assert detector(101.0).detect("temp is 101.4").tier == "urgent"
    assert detector(101.0).detect("temp is 100.2").tier is None
    assert detector(100.4).detect("temp is 100.6").tier == "urgent"
    assert detector(101.0).detect("my temperature is 38.9 C").tier == "urgent"
    assert detector(101.0).detect("blood pressure was 124 over 78").tier is None


def test_fever_threshold_setting_parses_both_units():
    assert fever_threshold_f("101 F") == 101.0
    assert fever_threshold_f("38.3 C") == pytest.approx(100.94)
    assert fever_threshold_f("nonsense") == 101.0


def detection(*findings: Finding) -> Detection:
    return Detection(tuple(findings), ("emergency", "urgent"))


def test_either_detector_firing_escalates():
    report = Finding("numbness", "urgent", "report", "numb")
    assert decide(detection(report), "faq", 0.9, 0.5)["tier"] == "urgent"
    classifier_only = decide(detection(), "report_symptom", 0.8, 0.5)
    assert classifier_only == {
        "tier": "urgent",
        "symptoms": ["unspecified"],
        "sources": ["classifier"],
    }
    both = decide(detection(report), "report_symptom", 0.99, 0.5)
    assert both["sources"] == ["lexicon", "classifier"]


def test_classifier_is_overruled_only_by_positive_evidence():
    negated = Finding("numbness", "urgent", "negated", "numbness")
    assert "tier" not in decide(detection(negated), "report_symptom", 0.99, 0.5)
    asked = Finding("fever", "urgent", "question", "fever")
    result = decide(detection(asked), "report_symptom", 0.99, 0.5)
    assert result["asked_tier"] == "urgent" and result["overruled"]


def test_classifier_alone_with_context_cues_asks_instead():
    cued = Detection((), ("emergency", "urgent"), ("negation",))
    result = decide(cued, "report_symptom", 0.99, 0.5)
    assert "tier" not in result and result["asked_tier"] == "urgent"


def test_classifier_alone_in_a_message_with_no_symptom_word_asks_instead():
    # the classifier learned "spinal tap" from real reports and then called a link's
    # "tap here" a report: a message naming no body part, feeling or symptom word is asked
    found = detector().detect("[tap here](javascript:window.__xss=3) about ice")
    assert not found.findings and not found.names_symptom_word
    result = decide(found, "report_symptom", 1.0, 0.5)
    assert "tier" not in result and result["asked_tier"] == "urgent"
    vague = detector().detect("my legs feel funny today")
    assert not vague.findings and vague.names_symptom_word
    assert decide(vague, "report_symptom", 0.99, 0.5)["tier"] == "urgent"


def test_classifier_alone_in_a_question_asks_instead():
    found = detector().detect("my back feels funny since the procedure, should i call?")
    assert not found.findings and found.asks
    result = decide(found, "report_symptom", 0.99, 0.5)
    assert "tier" not in result and result["asked_tier"] == "urgent"
    told = detector().detect("my back feels funny since the procedure")
    assert not told.asks


def test_an_excluded_sense_is_evidence_against_a_report():
    found = detector().detect("i'm passing out flyers for church on sunday")
    assert [f.status for f in found.findings] == ["unrelated"]
    assert "tier" not in decide(found, "report_symptom", 0.99, 0.5)


def test_low_confidence_classifier_alone_does_not_escalate():
    assert "tier" not in decide(detection(), "report_symptom", 0.3, 0.5)


def test_the_matcher_reads_no_window_without_a_word_some_pattern_needs():
    from bot.nlu.red_flags import RedFlagDetector, load_lexicon

    found = RedFlagDetector(load_lexicon())
    read: list = []

    class Counted:
        def __init__(self, matcher: Any) -> None:
            self.matcher = matcher

        def __len__(self) -> int:
            return len(self.matcher)

        def __call__(self, doc: Any) -> Any:
            read.append(len(doc))
            return self.matcher(doc)

    found.matchers = {k: (Counted(a), Counted(b)) for k, (a, b) in found.matchers.items()}
    # "i", "was" and "is" can start a pattern, but no pattern can finish here
    prose = "i was wondering what the ice pack is for and i was told to rest. " * 1500
    assert found.detect(prose).findings == ()
    assert read == []
    report = found.detect(prose + "Now my legs went numb and I can't feel my feet.")
    assert report.tier == "urgent" and read


@pytest.mark.parametrize(
    "text",
    [
        "numb " * 2000,
        "no numbness at all. " * 50 + "but now my legs went numb and I have chest pain",
        "is numbness normal? " * 100,
        "my neighbor had chest pain. " * 100 + "I fainted an hour ago",
    ],
)
def test_reading_only_until_each_symptom_is_reported_finds_the_same_reports(text):
    full, quick = detector().detect(text), detector().detect(text, reports_only=True)
    assert (quick.tier, quick.symptoms) == (full.tier, full.symptoms)


# Pattern families grown from the real-wording corpus's train half, each tested on
# wording written here (not corpus text): the kind of phrase, not one sentence.
@pytest.mark.parametrize(
    ("text", "tier"),
    [
        # legs that give way under the patient or will not hold them
        ("my legs went out from under me getting off the toilet", "emergency"),
        ("my legs won't hold me up this morning", "emergency"),
        ("both knees keep buckling when i walk to the kitchen", "urgent"),
        # a leg too heavy or too weak to lift
        ("my right leg is too heavy to lift onto the bed", "urgent"),
        ("i can't lift my left leg off the mattress", "urgent"),
        # a headache that changes with posture, also across a comma
        ("my head pounds when i sit up but it's fine lying down", "urgent"),
        ("got a headache since the shot, worse when i stand", "urgent"),
        # a dressing soaked or wet through, bleeding that will not stop
        ("the band aid is soaked again", "urgent"),
        ("my dressing is wet through already", "urgent"),
        ("i changed the pad twice and it keeps getting soaked", "urgent"),
        ("the cut won't stop bleeding", "urgent"),
        # new confusion in a caregiver's words
        ("grandpa is babbling tonight", "urgent"),
        ("my wife isn't making any sense since she got home", "urgent"),
        ("dad doesn't know what year it is", "urgent"),
        ("mum seems completely out of it", "urgent"),
        # pain that is scored, out of control, rising or keeping the patient awake
        ("back pain is 9/10 right now", "urgent"),
        ("the pain is a solid ten", "urgent"),
        ("it went from a 3 to an 8 overnight", "urgent"),
        ("the pain has shot up to a 9", "urgent"),
        ("pain is out of control even with the pills", "urgent"),
        ("it's worse even after the oxycodone", "urgent"),
        ("nothing is touching the pain", "urgent"),
        ("the pain kept me up all night", "urgent"),
        ("i'm screaming in pain when i roll over", "urgent"),
        ("i'm in so much pain i can't get up", "urgent"),
        ("it's ten times worse today", "urgent"),
        # chest pain named before the chest, several words apart
        ("sharp pain on the left side of my chest", "emergency"),
        # bladder sensation lost, told indirectly
        ("my son noticed my trousers were wet and i hadn't felt it", "urgent"),
        ("i haven't felt the urge to pee all day", "urgent"),
        ("i can't tell when my bladder is full", "urgent"),
        ("grandpa doesn't seem to sense when he has to pee", "urgent"),
        # vomiting that will not stop
        ("i can't stop throwing up", "urgent"),
        ("the vomiting won't stop", "urgent"),
        # air hunger, a weight on the chest
        ("i'm fighting to get air", "emergency"),
        ("i can't get enough air in", "emergency"),
        ("it feels like a brick on my chest", "emergency"),
        # collapse, and someone who cannot be woken
        ("dad keeled over in the garden", "emergency"),
        ("i got dizzy and hit the floor", "emergency"),
        ("she won't wake up", "emergency"),
        # swelling of the face or tongue, a rash everywhere
        ("my lips are puffing up", "emergency"),
        ("my tongue feels thick", "emergency"),
        ("i'm covered in a red itchy rash", "emergency"),
        # legs gone dead
        ("my legs have gone completely dead", "emergency"),
        ("my legs are heavy, i can't move them", "emergency"),
        # a wound that smells, numb saddle skin, no urine
        ("the incision smells bad", "urgent"),
        ("there's foul stuff on the dressing", "urgent"),
        ("i can't feel my bum on the seat", "urgent"),
        ("i haven't had a wee all day", "urgent"),
        # foot drop, trouble walking, needing help to walk
        ("my toes keep catching on the rug", "urgent"),
        ("i'm having trouble walking today", "urgent"),
        ("walking is so much harder this evening", "urgent"),
        ("now i need a walker to get to the toilet", "urgent"),
        # confusion: seeing or talking to people, not knowing where one is
        ("mum is chatting to people who aren't there", "urgent"),
        ("grandpa doesn't know where he is", "urgent"),
        ("he's drowsy and hard to wake", "urgent"),
        # bladder: no feeling when passing urine, accidents, not emptying
        ("i barely feel it when i wee now", "urgent"),
        ("i'm dribbling pee all the time", "urgent"),
        ("twice today i couldn't make it to the loo", "urgent"),
        ("i can't empty my bladder properly", "urgent"),
        ("i try to pee but nothing happens", "urgent"),
        ("the cushion on his seat was wet and he never noticed", "urgent"),
        # headaches told by the head itself, on sitting or standing
        ("when i stand up my head feels like it will split and throbs", "urgent"),
        ("my head and neck ache when i'm upright", "urgent"),
        # scores and rises said another way; medicine doing nothing
        ("my pain is now a 9", "urgent"),
        ("the pain shot right up after i sneezed", "urgent"),
        ("the pain meds aren't doing anything", "urgent"),
        # walking: wobbling, falling again and again, in the past tense too
        ("i wobble when i stand", "urgent"),
        ("he keeps falling since he came home", "urgent"),
        ("i couldn't stand up this morning", "urgent"),
        # a fever told as "a temperature", a lump that grows, pain past words
        ("i've got a temperature and the shivers", "urgent"),
        ("the lump by the incision has grown bigger", "urgent"),
        ("my back pain is unreal tonight", "urgent"),
        ("it kills to walk now", "urgent"),
        # "not able to" is "unable to"; legs that stop working; no feeling at all
        ("i wasn't able to stand this morning", "urgent"),
        ("i'm not able to feel the paper when i wipe", "urgent"),
        ("my legs aren't working right", "urgent"),
        ("his legs just stopped working", "emergency"),
        ("my legs went dead", "emergency"),
        ("there's zero feeling in my right foot", "urgent"),
        ("i'm not feeling my feet properly", "urgent"),
        # pain never felt before, pain that stops sleep
        ("i have never had pain like this", "urgent"),
        ("the pain won't let me sleep", "urgent"),
        ("i haven't slept for two nights with the pain", "urgent"),
        ("nobody told me my legs would be this weak", "urgent"),
        # positional headaches said by the head, "or" and "not lying"
        ("my head aches whenever i'm not lying flat", "urgent"),
        ("i must lie down or my head pounds", "urgent"),
        ("throbbing head every time i stand", "urgent"),
        ("bad head pain when upright", "urgent"),
        # wet from the wound, pain that stops moving or is too much
        ("my top is damp from the incision again", "urgent"),
        ("i can barely move with the pain", "urgent"),
        ("the pain is getting too much", "urgent"),
        # not feeling the need to go, said with the bathroom; retention said with both
        ("i cant feel when i need to go to the bathroom anymore", "urgent"),
        ("can't poop or pee and my belly hurts", "urgent"),
        # bleeding said by its amount and place
        ("theres a lot of bleeding from where they went in", "urgent"),
        # round 2 of the corpus (train half): straining, a trickle, a split wound, a smell,
        # a hard belly, a clot's calf, a score that jumped, a rash after the dye
        ("i have to strain to pee and only a little comes out", "urgent"),
        ("now i can hardly pee, just a trickle", "urgent"),
        ("two of the stitches have come apart", "urgent"),
        ("there's a funny smell under the dressing", "urgent"),
        ("not pooped in 6 days and my stomach is swollen and hurts", "urgent"),
        ("my left calf is swollen and tender", "urgent"),
        ("the pain went from a 2 this morning to a 9", "urgent"),
        ("itchy rash spreading up my arms since the dye", "emergency"),
        ("i can barely lift my legs onto the bed", "emergency"),
        ("headache all day, only when i stand up", "urgent"),
        # bladder control lost, said with the noun first; trouble passing urine; vomiting now
        ("i lost bladder control an hour ago", "urgent"),
        ("im losing bowel control since this morning", "urgent"),
        ("having difficulty urinating today", "urgent"),
        ("im throwing up", "urgent"),
        ("the numbing medicine wore off and now my leg is numb", "urgent"),
        # round 3: a bandage saturated with blood, a headache that has not let up, a bladder
        # about to burst, coming round on the floor, falling each time she tries to stand
        ("the gauze is saturated with blood", "urgent"),
        ("two days now and this headache has not let up", "urgent"),
        ("my bladder feels like it is going to burst", "urgent"),
        ("next thing i knew i was lying on the floor", "emergency"),
        ("i woke up on the floor of the bathroom", "emergency"),
        ("dad falls whenever he tries to get up", "emergency"),
    ],
)
def test_pattern_families_catch_their_kind_of_wording(text, tier):
    assert detector().detect(text).tier == tier, detector().detect(text)


@pytest.mark.parametrize(
    "text",
    [
        "i need to go to the follow-up, can't tell when it is",
        "the bandage got wet in the shower, should i change it?",
        "my mother is confused from dementia, can she still have the procedure?",
        "my pain was 8/10 before the procedure and now it's a 2",
        "i can take up to 8 pills a day, is that right?",
        "my sheets were soaked with sweat last night",
        "the numbing medicine made my thigh numb for the afternoon, as expected",
        "my back pain is 9 out of 10, that's why i'm scheduled for kyphoplasty",
        "my husband fainted at the sight of the needle, i'm the patient and i'm fine",
        "i got mixed up about the dates of my appointments",
        "i did not get any fresh air today",
        "we had trouble with the air conditioner",
        "i hope the dog will not wake up the baby",
        "my pain went from a 9 to a 2 after the kyphoplasty",
        "before my kyphoplasty i couldn't walk at all",
        "the headache is gone and i'm up and about",
        "my 90 year old dad's legs are weak, is kyphoplasty safe for him?",
        "my temperature reading was 98.6",
        "there's a little knot where the needle went in, is that normal?",
        "do they need my pain to be severe before insurance pays?",
        "the handout says numbness in the legs is an emergency",
        "i had a fever yesterday but not today",
        "the tingling stopped last night",
        "i'm able to move my legs fine",
        "i was able to pee this morning",
        "the battery of my leg brace monitor is dead",
        "it is too much trouble to drive to the clinic",
        "can the procedure make my leg numb",
        "a slight fever, 99.6, is that normal after the procedure?",
        "my mum has fainted a few times over the years, can she still have it?",
        "the x-ray showed a slight collapse of the vertebra",
        "i had shortness of breath from my asthma before, it is under control",
        "the chest pain i had was from reflux, it was checked and gone. when can i drive",
        "i need to go to the clinic tomorrow, can't tell when they open",
        "i threw up once in the car on the way home, fine since",
        "i was vomiting from the anesthesia yesterday but its stopped",
        "my dad has had trouble peeing for years, its his prostate",
        "i threw my back out lifting the dog",
        "how long does the numbness from the numbing medicine last",
        "the numbing shot left my skin numb",
        # round 3: numbness from the local a few words on; settled; said to be common
        "my skin is still a bit numb around the needle spot from the local",
        "her confusion from the hospital has calmed down since she got home",
        "the tingling in my foot has gone completely",
        "they said a low fever is not uncommon the first day",
    ],
)
def test_pattern_families_leave_their_look_alikes_alone(text):
    found = detector().detect(text)
    assert not found.tier, found
