"""The content report for clinicians: `python -m bot content` writes results/content.md.

One readable page with every answer the assistant gives: where it lives, its channel
variants (filled with this clinic's settings), its source documents, its reading
grade, and the training examples (or the intents, for rules) that lead to it; then
the channels' own replies and the red-flag lexicon by tier. A clinician reviews
this page, not the YAML.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot.content import load_domain
from bot.replies import catalogue
from bot.settings import PROJECT_ROOT, get_settings

REPORT_PATH = PROJECT_ROOT / "results" / "content.md"
LEXICON_PATH = PROJECT_ROOT / "bot" / "nlu" / "red_flag_lexicon.yml"
SLOT_EXAMPLES = {"callback_number": "+15555550123"}
_BULLET = re.compile(r"^\s*-\s*")


def _yaml(path: Path) -> Dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def response_files(root: Path = PROJECT_ROOT) -> Dict[str, str]:
    """Response name -> the file (relative to the project) that holds it."""
    found: Dict[str, str] = {}
    for path in [root / "domain.yml", *sorted((root / "data").rglob("*.yml"))]:
        for name in _yaml(path).get("responses") or {}:
            found[name] = str(path.relative_to(root))
    return found


def examples_by_intent(root: Path = PROJECT_ROOT) -> Dict[str, List[str]]:
    """Full intent (`faq/ice_pack`, `greet`) -> its training examples."""
    found: Dict[str, List[str]] = defaultdict(list)
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        for block in _yaml(path).get("nlu") or []:
            if "intent" in block:
                lines = str(block.get("examples") or "").splitlines()
                found[block["intent"]] += [_BULLET.sub("", ln) for ln in lines if ln.strip()]
    return found


def intents_by_action(root: Path = PROJECT_ROOT) -> Dict[str, List[str]]:
    """Action -> the intents that rules and stories answer with it."""
    found: Dict[str, List[str]] = defaultdict(list)
    for path in sorted((root / "data").glob("*/*.yml")):
        data = _yaml(path)
        for flow in (data.get("rules") or []) + (data.get("stories") or []):
            intent: Optional[str] = None
            for step in flow.get("steps") or []:
                if "intent" in step:
                    intent = step["intent"]
                elif "action" in step and intent and intent not in found[step["action"]]:
                    found[step["action"]].append(intent)
    return found


def reading_grade(text: str) -> Optional[float]:
    """Flesch-Kincaid grade as the content tests measure it (None without textstat)."""
    try:
        import textstat
    except ImportError:
        return None
    lines = [line.strip().lstrip("-*").strip() for line in text.splitlines()]
    joined = " ".join(
        line if line.endswith((".", "?", "!", ":")) else line + "." for line in lines if line
    )
    return float(textstat.flesch_kincaid_grade(joined))


def _filled(text: str) -> str:
    try:
        return text.format(**get_settings().response_values(), **SLOT_EXAMPLES)
    except (KeyError, IndexError, ValueError):
        return text


def _quote(text: str) -> List[str]:
    return ["> " + line if line.strip() else ">" for line in text.splitlines()] or [">"]


def _grade(text: str) -> str:
    grade = reading_grade(text)
    return "grade n/a" if grade is None else f"grade {grade:.1f}"


def render(domain: Dict[str, Any], root: Path = PROJECT_ROOT) -> str:
    """The report as Markdown."""
    files = response_files(root)
    examples = examples_by_intent(root)
    by_action = intents_by_action(root)
    responses: Dict[str, List[Dict[str, Any]]] = domain["responses"]
    out = [
        "# What the assistant says: content for clinical review",
        "",
        f"Written {date.today().isoformat()} by `python -m bot content`. "
        f"{len(responses)} answers, filled with this clinic's settings. Sources are the seed "
        "documents in ../shared/seeds/ (000-004). Reading grade is Flesch-Kincaid; the "
        "content tests require 8 or lower.",
        "",
    ]
    by_file: Dict[str, List[str]] = defaultdict(list)
    for name in sorted(responses):
        by_file[files.get(name, "domain.yml")].append(name)
    for path in sorted(by_file, key=lambda p: (p != "domain.yml", p)):
        out += [f"## {path}", ""]
        for name in by_file[path]:
            out += [f"### {name}", ""]
            for variant in responses[name]:
                channel = variant.get("channel") or "web and REST"
                sources = ", ".join((variant.get("metadata") or {}).get("sources") or []) or "none"
                text = _filled(str(variant.get("text") or ""))
                out.append(f"**{channel}** (sources: {sources}; {_grade(text)})")
                out.append("")
                out += _quote(text)
                buttons = [b.get("title") for b in variant.get("buttons") or []]
                if buttons:
                    out += ["", "Buttons: " + ", ".join(f"“{b}”" for b in buttons)]
                out.append("")
            key = name[len("utter_") :]
            if "/" in key:
                shown = examples.get(key) or []
                out.append(f"Questions that lead here ({len(shown)} training examples):")
                out.append("")
                out += [f"- {e}" for e in shown] or ["- (none)"]
            else:
                intents = by_action.get(name) or []
                out.append(
                    "Said after: " + ", ".join(f"`{i}`" for i in intents)
                    if intents
                    else "Said by an action or a form, not straight after one intent."
                )
            out.append("")
    out += ["## The channels' own replies (bot/replies.yml)", ""]
    for name, reply in catalogue().items():
        text = _filled(str(reply["text"]))
        out += [f"### {name}", "", f"**{', '.join(reply['channels'])}** ({_grade(text)})", ""]
        out += _quote(text) + [""]
    out += _lexicon()
    return "\n".join(out).rstrip() + "\n"


def _lexicon() -> List[str]:
    lexicon = _yaml(LEXICON_PATH)
    out = [
        "## Red-flag lexicon by tier (bot/nlu/red_flag_lexicon.yml)",
        "",
        "Token patterns after normalising spelling; `a|b` is either word, `*N` up to N "
        "words between, `@set` a word list, `?` optional. A match in a negated, asked, "
        "past or someone else's context is not a report.",
        "",
    ]
    symptoms: Dict[str, Dict[str, Any]] = lexicon.get("symptoms") or {}
    for tier in lexicon.get("tiers") or []:
        out += [f"### {tier}", ""]
        for name, entry in symptoms.items():
            if entry.get("tier") != tier:
                continue
            out.append(f"- **{name}**: " + "; ".join(f"`{p}`" for p in entry.get("patterns") or []))
            if entry.get("exclude"):
                out.append("  - not: " + "; ".join(f"`{p}`" for p in entry["exclude"]))
        out.append("")
    return out


def write(path: Path = REPORT_PATH) -> Path:
    """Write the report; returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(load_domain()), encoding="utf-8")
    return path
