"""The clinicians' content report: every answer, its sources and questions, the lexicon."""

import yaml

from bot import content_report
from bot.replies import catalogue


def test_the_report_shows_every_answer_reply_and_lexicon_symptom(domain, tmp_path):
    page = content_report.render(domain)
    for name in domain["responses"]:
        assert f"### {name}\n" in page, name
    for name in catalogue():
        assert f"### {name}\n" in page, name
    lexicon = yaml.safe_load(content_report.LEXICON_PATH.read_text())
    for name in lexicon["symptoms"]:
        assert f"**{name}**" in page, name


def test_retrieval_answers_list_the_questions_that_lead_to_them(domain):
    page = content_report.render(domain)
    section = page.split("### utter_faq/ice_pack\n", 1)[1].split("\n### ", 1)[0]
    assert "Questions that lead here" in section and "sources: " in section
    assert "data/responses/" in page


def test_answers_are_filled_with_the_clinics_settings(domain):
    page = content_report.render(domain)
    assert "{clinic_phone}" not in page and "(555) 555-0100" in page
