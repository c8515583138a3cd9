"""Stories: the indexed articles grouped by the event they report.

Two articles report one event when their headline and lede are close in meaning (cosine of
their first passages' vectors), name the same people and places, and are close in date.
Articles are taken in date order and each joins the story it is most like on average
(single-pass clustering, as in topic-detection-and-tracking systems), or starts a new one; then
each new article is placed again against the final stories until none moves, which undoes the
order's accidents. A story's id is derived from the article that founded it; the index stores
the assignment and a new ingest only places new or changed articles, so re-ingesting unchanged
files keeps every id.

Outlet groups (`outlets.toml`) say which outlets belong together ("Armenian media"); balance,
coverage and the one-sided flag are computed per group when groups are given, per outlet otherwise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .cite import STOPWORDS, names, stem
from .config import StorySettings
from .errors import UsageError
from .index import FileRecord, Index, Snapshot


@dataclass
class Article:
    source: str
    date: dt.date | None
    outlet: str | None
    title: str | None
    vector: np.ndarray
    names: frozenset[str]  # stems of the capitalized names in the lede, for matching
    forms: dict[str, str] = field(default_factory=dict)  # stem -> the name as written, for labels


@dataclass
class Story:
    id: str
    sources: list[str]
    label: str = ""
    first: str | None = None
    last: str | None = None
    coverage: dict[str, int] = field(default_factory=dict)  # group (or outlet) -> articles
    one_sided: bool = False

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class Outlets:
    """outlet name -> (group, display name), from outlets.toml."""

    groups: dict[str, str] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)

    def group_of(self, outlet: str | None, fallback: str) -> str:
        if outlet and outlet in self.groups:
            return self.groups[outlet]
        return self.display.get(outlet or "", outlet or fallback)


def load_outlets(path: Path | None) -> Outlets:
    """Read an outlets file:

        [outlets."Armenpress"]
        group = "Armenian media"
        display = "Armenpress"
    """
    if path is None:
        return Outlets()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read the outlets file {path}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"the outlets file {path} is not valid TOML ({e})") from None
    table = data.get("outlets")
    if not isinstance(table, dict):
        raise UsageError(f'the outlets file {path} has no [outlets."NAME"] tables')
    groups, display = {}, {}
    for name, entry in table.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("group", ""), str):
            raise UsageError(f'{path}: [outlets."{name}"] needs group = "..." (and optionally display = "...")')
        if entry.get("group"):
            groups[name] = entry["group"]
        display[name] = str(entry.get("display") or name)
    return Outlets(groups, display)


def index_stories(index: Index, settings: StorySettings, outlets: Outlets | None = None) -> list[Story]:
    """The stories of an index, largest first: as `rag ingest` stored them, or, for an index
    written before stories were stored, grouped now."""
    articles = articles_of(index.snapshot())
    assignment = index.stories()
    if assignment is None or set(assignment) != {a.source for a in articles}:
        assignment = assign(articles, assignment or {}, settings)
    return describe(assignment, articles, outlets or Outlets())


def articles_of(snapshot: Snapshot) -> list[Article]:
    """One Article per indexed file (duplicates excluded), described by its first passage: the
    headline and lede say which event it is, where later paragraphs add background that other
    events share (dev: the mean of all passages merged two same-day protests)."""
    by_source: dict[str, list[int]] = {}
    for i, chunk in enumerate(snapshot.chunks):
        by_source.setdefault(chunk.source, []).append(i)
    out = []
    for source, rows in sorted(by_source.items()):
        rec = snapshot.files.get(source)
        if rec is None or rec.duplicate_of:
            continue
        lede = min(rows, key=lambda i: snapshot.chunks[i].start)
        out.append(_article(rec, snapshot.vectors[lede], snapshot.chunks[lede].text[:LEDE_CHARS]))
    return out


LEDE_CHARS = 600  # headline and first paragraphs: where an article names its event


def _article(rec: FileRecord, vector: np.ndarray, text: str) -> Article:
    forms = {k: v for k, v in names(text).items() if k.lower() not in STOPWORDS and not _CALENDAR.match(k)}
    return Article(rec.source, _date(rec.date), rec.outlet, rec.title,
                   vector / max(float(np.linalg.norm(vector)), 1e-12), frozenset(forms), forms)


_CALENDAR = re.compile(
    r"(?i)^(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|"
    r"july|august|september|october|november|december)"
)


def assign(
    articles: list[Article], previous: dict[str, str], settings: StorySettings | None = None
) -> dict[str, str]:
    """source -> story id. Articles already in `previous` keep their story; the others are placed
    in date order into the story they are most like, or found a new one."""
    s = settings or StorySettings()
    dim = articles[0].vector.shape[0] if articles else 1
    placed = _Placed(s, len(articles), dim)
    by_source = {a.source: a for a in articles}
    for source, story in sorted(previous.items()):
        if source in by_source:
            placed.add(by_source[source], story)
    new = sorted((a for a in articles if a.source not in previous), key=lambda a: (a.date or dt.date.min, a.source))
    for article in new:
        best, score = placed.best(article)
        placed.add(article, best if best is not None and score >= s.join else placed.new_id(article.source))
    # One pass depends on the order: an early article may have joined a story that later articles
    # show it does not belong to. Re-place each new article against the final stories until none moves.
    rows = {source: i for i, source in enumerate(placed.sources)}
    for _ in range(s.refine_rounds):
        moved = False
        for article in new:
            row = rows[article.source]
            current = placed.story_of_row[row]
            best, score = placed.best(article, exclude=row)
            target = best if best is not None and score >= s.join else current
            if target != current and (best is None or score > placed.link(article, current, exclude=row)):
                placed.move(row, target)
                moved = True
        if not moved:
            break
    return dict(zip(placed.sources, placed.story_of_row, strict=True))


class _Placed:
    """Articles placed so far, as arrays, so each new one is scored against all of them at once."""

    def __init__(self, s: StorySettings, capacity: int, dim: int) -> None:
        self.s = s
        self.sources: list[str] = []
        self.story_of_row: list[str] = []
        self.names: list[frozenset[str]] = []
        self.sizes: Counter[str] = Counter()
        self.days = np.zeros(capacity, dtype=np.int64)
        self.dated = np.zeros(capacity, dtype=bool)
        self.vectors = np.zeros((capacity, dim), dtype=np.float32)

    def add(self, article: Article, story: str) -> None:
        row = len(self.sources)
        self.sources.append(article.source)
        self.story_of_row.append(story)
        self.names.append(article.names)
        self.sizes[story] += 1
        if article.date:
            self.days[row], self.dated[row] = article.date.toordinal(), True
        self.vectors[row] = article.vector

    def new_id(self, founder: str) -> str:
        """`story_id(founder)`, unless a story still holds that id (a file name reused for another
        article, which must not fall back into its old story)."""
        n, candidate = 0, story_id(founder)
        while self.sizes[candidate] > 0:
            n += 1
            candidate = story_id(f"{founder}\n{n}")
        return candidate

    def move(self, row: int, story: str) -> None:
        self.sizes[self.story_of_row[row]] -= 1
        self.sizes[story] += 1
        self.story_of_row[row] = story

    def link(self, article: Article, story: str, exclude: int | None = None) -> float:
        """The average score of `article` with the articles of `story` (itself excluded)."""
        size = self.sizes[story] - (exclude is not None and self.story_of_row[exclude] == story)
        return self._scores(article, exclude).get(story, 0.0) / size if size else float("-inf")

    def best(self, article: Article, exclude: int | None = None) -> tuple[str | None, float]:
        """The story with the highest average score, over its articles, with `article`; a story
        none of whose articles is within the date window is not a candidate. Articles outside
        the window count as 0: an old story fades."""
        totals = self._scores(article, exclude)
        if not totals:
            return None, float("-inf")
        own = self.story_of_row[exclude] if exclude is not None else None
        averages = {story: total / (self.sizes[story] - (story == own)) for story, total in totals.items()}
        story = max(averages, key=lambda st: (averages[st], st))
        return story, averages[story]

    def _scores(self, article: Article, exclude: int | None) -> dict[str, float]:
        """Per story, the summed score of `article` with its articles inside the date window."""
        n = len(self.sources)
        near = np.ones(n, dtype=bool)
        if article.date:
            near &= ~self.dated[:n] | (np.abs(self.days[:n] - article.date.toordinal()) <= self.s.window_days)
        if exclude is not None:
            near[exclude] = False
        rows = np.nonzero(near)[0]
        cosine = self.vectors[rows] @ article.vector
        totals: dict[str, float] = {}
        for i, c in zip(rows.tolist(), cosine.tolist(), strict=True):
            union = len(article.names | self.names[i])
            shared = len(article.names & self.names[i]) / union if union else 0.0
            story = self.story_of_row[i]
            totals[story] = totals.get(story, 0.0) + c + self.s.names_weight * shared
        return totals


def story_id(founder: str) -> str:
    return "s-" + hashlib.sha256(founder.encode("utf-8")).hexdigest()[:8]


def describe(
    assignment: dict[str, str], articles: list[Article], outlets: Outlets
) -> list[Story]:
    """Stories with label, dates, coverage per group (or outlet) and the one-sided flag, largest first."""
    by_source = {a.source: a for a in articles}
    members: dict[str, list[Article]] = {}
    for source, story in assignment.items():
        if source in by_source:
            members.setdefault(story, []).append(by_source[source])
    out = []
    for story, arts in members.items():
        dates = sorted(a.date for a in arts if a.date)
        coverage = Counter(outlets.group_of(a.outlet, _short_file(a.source)) for a in arts)
        out.append(Story(
            id=story,
            sources=sorted(a.source for a in arts),
            label=label(arts),
            first=dates[0].isoformat() if dates else None,
            last=dates[-1].isoformat() if dates else None,
            coverage=dict(coverage.most_common()),
            one_sided=len(coverage) == 1,
        ))
    return sorted(out, key=lambda x: (-len(x.sources), x.first or "", x.id))


def label(arts: list[Article]) -> str:
    """A short neutral label: the names most of the story's articles share, then the title words
    most titles share (never one outlet's headline, which carries its framing)."""
    n = len(arts)
    forms = {k: v for a in arts for k, v in a.forms.items()}
    name_counts = Counter(w for a in arts for w in a.names)
    ranked = sorted(name_counts.items(), key=lambda kv: (-kv[1], kv[0]))  # ties by name: the same label every run
    shared = [w for w, c in ranked if c >= max(2, (n + 1) // 2)] or [w for w, _ in ranked[:2]]
    words = Counter(
        w.lower() for a in arts for w in set(re.findall(r"[A-Za-z][a-z]{3,}", a.title or ""))
        if w.lower() not in STOPWORDS and stem(w) not in shared and w not in forms.values() and not _CALENDAR.match(w)
    )
    by_count = sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))
    topic = [w for w, c in by_count if c >= max(2, (n + 1) // 2)][:3] or [w for w, _ in by_count[:2]]
    named = [forms.get(w, w) for w in shared[:3]]
    named = [w.title() if w.isupper() and len(w) > 3 else w for w in named]  # datelines: "HALVERN"
    return " ".join(named + topic) or _short_file(arts[0].source)


def _short_file(source: str) -> str:
    return source.rsplit("/", 1)[-1]


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
