"""The check-in schedule: the clinic's YAML file (bot/checkins/schedule.yml) as data.

Loaded and checked once per process (`load_schedule`); the file named by the
CHECKINS_SCHEDULE setting replaces the default. Times are wall-clock times in the
patient's time zone (zoneinfo), so a daylight saving change neither moves nor
doubles a check-in: `due_times` turns each entry into one UTC instant at enrolment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import yaml

from bot.settings import get_settings

DEFAULT_PATH = Path(__file__).with_name("schedule.yml")
ASKS = ("pain", "choice")


class ScheduleError(ValueError):
    """The schedule file is not usable."""


@dataclass(frozen=True)
class Option:
    """One numbered choice: what it means, the words that mean it too, whether it alerts."""

    number: int
    means: str
    alert: bool
    words: Tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One check-in: when, what to ask, how to read the answer, what to say back."""

    key: str
    day: int
    at: Optional[time]
    not_before_hours: float
    ask: str
    question: str
    reply: str
    sources: Tuple[str, ...]


@dataclass(frozen=True)
class Limits:
    window_start: time
    window_end: time
    per_day: int
    per_week: int
    reminder_after: timedelta
    missed_after: timedelta
    give_up: timedelta
    expire_after: timedelta
    retry_seconds: float
    last_call_after_missed: int


@dataclass(frozen=True)
class Schedule:
    """The whole file: limits, texts, answer reading and the check-ins in order."""

    limits: Limits
    intro: str
    alert_reply: str
    reminder: str
    resume: str
    last_call: str
    answers: Dict[str, Dict[str, Any]]
    options: Tuple[Option, ...]
    entries: Tuple[Entry, ...]

    def entry(self, key: str) -> Entry:
        for entry in self.entries:
            if entry.key == key:
                return entry
        raise KeyError(key)

    @property
    def pain_alert_at(self) -> int:
        return int(self.answers["pain"]["alert_at_least"])

    @property
    def pain_alert_rise(self) -> int:
        return int(self.answers["pain"]["alert_rise"])

    @property
    def weeks(self) -> int:
        return max(1, math.ceil(max(e.day for e in self.entries) / 7))

    def in_window(self, moment: datetime, zone: str) -> bool:
        """Whether `moment` is inside the sending window on the patient's clock."""
        local = moment.astimezone(ZoneInfo(zone)).time()
        return self.limits.window_start <= local < self.limits.window_end

    def into_window(self, local: datetime) -> datetime:
        """`local` (aware, the patient's zone), or the window's next opening after it."""
        start, end = self.limits.window_start, self.limits.window_end
        if local.time() < start:
            return _wall(local.date(), start, local.tzinfo)
        if local.time() >= end:
            return _wall(local.date() + timedelta(days=1), start, local.tzinfo)
        return local

    def due_times(self, procedure_at: datetime, zone: str) -> List[Tuple[str, datetime]]:
        """(key, due time in UTC) for every check-in of a procedure at `procedure_at`."""
        tz = ZoneInfo(zone)
        local = procedure_at.astimezone(tz)
        due = []
        for entry in self.entries:
            clock = entry.at or local.time().replace(tzinfo=None)
            moment = _wall(local.date() + timedelta(days=entry.day), clock, tz)
            moment = max(moment, local + timedelta(hours=entry.not_before_hours))
            moment = self.into_window(moment.astimezone(tz))
            due.append((entry.key, moment.astimezone(timezone.utc)))
        return due


def _wall(day: Any, clock: time, tz: Any) -> datetime:
    """The instant a wall clock in `tz` shows `clock` on `day` (the earlier one when a
    clock change repeats it; a time skipped by a change lands just after the change)."""
    naive = datetime.combine(day, clock)
    moment = naive.replace(tzinfo=tz)
    back = moment.astimezone(timezone.utc).astimezone(tz)
    if back.replace(tzinfo=None) != naive:  # skipped by a clock change: move forward
        moment = back
    return moment


def _clock(text: Any, what: str) -> time:
    try:
        return time.fromisoformat(str(text))
    except ValueError as error:
        raise ScheduleError(f"{what}: {text!r} is not a time like 08:00") from error


def _hours(limits: Dict[str, Any], name: str) -> timedelta:
    return timedelta(hours=float(limits[name]))


def parse(raw: Dict[str, Any]) -> Schedule:
    """The schedule from the file's data; ScheduleError says what is wrong."""
    try:
        lim = raw["limits"]
        start, end = lim["window"]
        limits = Limits(
            window_start=_clock(start, "limits.window"),
            window_end=_clock(end, "limits.window"),
            per_day=int(lim["per_day"]),
            per_week=int(lim["per_week"]),
            reminder_after=_hours(lim, "reminder_after_hours"),
            missed_after=_hours(lim, "missed_after_hours"),
            give_up=_hours(lim, "give_up_hours"),
            expire_after=_hours(lim, "expire_after_hours"),
            retry_seconds=float(lim.get("retry_seconds", 60)),
            last_call_after_missed=int(lim.get("last_call_after_missed", 3)),
        )
        answers = raw["answers"]
        options = tuple(
            Option(int(n), str(o["means"]), bool(o["alert"]), tuple(str(w) for w in o["words"]))
            for n, o in sorted(answers["choice"]["options"].items(), key=lambda kv: int(kv[0]))
        )
        entries = []
        for item in raw["checkins"]:
            when = item["when"]
            entry = Entry(
                key=str(item["key"]),
                day=int(when["day"]),
                at=_clock(when["at"], f"{item['key']}.when.at") if "at" in when else None,
                not_before_hours=float(when.get("not_before_hours", 0)),
                ask=str(item["ask"]),
                question=str(item["question"]),
                reply=str(item["reply"]),
                sources=tuple(str(s) for s in item.get("sources") or ()),
            )
            if entry.ask not in ASKS:
                raise ScheduleError(f"{entry.key}: ask must be one of {ASKS}")
            entries.append(entry)
        replies = raw["replies"]
        schedule = Schedule(
            limits=limits,
            intro=str(raw["intro"]["text"]),
            alert_reply=str(replies["alert"]),
            reminder=str(replies["reminder"]),
            resume=str(replies["resume"]),
            last_call=str(replies["last_call"]),
            answers={name: dict(answers[name]) for name in ASKS},
            options=options,
            entries=tuple(entries),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ScheduleError):
            raise
        raise ScheduleError(f"schedule file: {type(error).__name__} {error}") from error
    keys = [e.key for e in schedule.entries]
    if not keys or len(set(keys)) != len(keys):
        raise ScheduleError("checkins: at least one, and every key different")
    if limits.window_start >= limits.window_end:
        raise ScheduleError("limits.window: the start must come before the end")
    return schedule


@lru_cache(maxsize=4)
def _load(path: Path) -> Schedule:
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")))


def load_schedule(path: Optional[Path] = None) -> Schedule:
    """The schedule in `path`, else CHECKINS_SCHEDULE, else bot/checkins/schedule.yml."""
    return _load(Path(path or get_settings().checkins_schedule or DEFAULT_PATH))


def fill(text: str, **values: Any) -> str:
    """A schedule text with the clinic's details (and `values`) filled in."""
    return text.format(**get_settings().response_values(), **values)
