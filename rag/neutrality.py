"""Neutrality checks for summaries, computed by code so they can be shown and tested.

Pure functions over plain text: which loaded terms appear in the narrator's voice (outside
quotation marks), whether a one-sided sentence is attributed, whether quotes are verbatim, and
how evenly the summary covers its sources (under-representation, the UER idea from
fair-summarization research: a source's share of the input minus its share of the summary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .prompts import PROMPTS_DIR

# A quotation: curly or straight double quotes. Single quotes are left alone (they are mostly
# apostrophes: "Azerbaijan’s").
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|‘[^’]{12,}’")
_SAYS = re.compile(r"\b(said|says|stated|states|reported|reports|according to|told|wrote|added|noted)\b", re.I)


@dataclass(frozen=True)
class Term:
    text: str  # as written in the list, e.g. "terror*"
    kind: str  # "label" | "verb" | "place" (loaded_terms.txt) | "framing" (eval/framing_terms.txt)
    pattern: re.Pattern[str]


def _entries(path: Path) -> list[str]:
    """The lines of a term list, stripped, without blank lines and # comments."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def load_terms(path: Path = PROMPTS_DIR / "loaded_terms.txt") -> list[Term]:
    terms = []
    for line in _entries(path):
        kind, _, text = line.partition(":") if line.split(":")[0] in ("verb", "place") else ("label", "", line)
        terms.append(Term(text, kind, _pattern(text)))
    return terms


def _pattern(text: str) -> re.Pattern[str]:
    """A list entry as a regex: case-insensitive, whole words, a trailing * for any ending."""
    body = re.escape(text.rstrip("*")).replace(r"\ ", r"\s+")
    tail = r"[\w-]*" if text.endswith("*") else r"\b"
    return re.compile(rf"(?<![\w-]){body}{tail}", re.IGNORECASE)


def load_framing(path: Path) -> list[tuple[Term, float]]:
    """The framing lexicon (eval/framing_terms.txt): each entry with its arousal weight."""
    out = []
    for line in _entries(path):
        weight, text = line.split(None, 1)
        out.append((Term(text, "framing", _pattern(text)), float(weight)))
    return out


def framing_score(text: str, reference: str, lexicon: list[tuple[Term, float]]) -> tuple[float, list[str]]:
    """Issue 11's proxy for the published framing-bias score: the summed arousal of the loaded
    words `text` uses that the neutral `reference` does not, quotes included (a quoted "massacre"
    still frames the story). Each word counts once, at the weight of the first entry that
    matches it ("war crimes" is not also "war"). Lower is better; the reference itself scores 0."""
    score, words, taken = 0.0, [], set[int]()
    for term, weight in lexicon:
        if term.pattern.search(reference):
            continue
        for m in term.pattern.finditer(text):
            if taken.isdisjoint(range(m.start(), m.end())):
                taken.update(range(m.start(), m.end()))
                score += weight
                words.append(m.group())
    return round(score, 2), words


def outside_quotes(text: str) -> str:
    """The narrator's voice: the text with every quotation blanked out."""
    return _QUOTED.sub(lambda m: " " * len(m.group()), text)


def loaded_terms(text: str, terms: list[Term]) -> list[str]:
    """Loaded terms used in the narrator's voice, as written in the text."""
    voice = outside_quotes(text)
    return [m.group() for t in terms for m in t.pattern.finditer(voice)]


# the summary checks that decide `passed` (keys of Summary.checks), as every format names them
CHECKS = (
    ("loaded_terms", "loaded terms in the narrator's voice"),
    ("unattributed", "one-sided sentences without attribution"),
    ("unverified_quotes", "quotes not verbatim in the cited file"),
    ("unsupported_facts", "numbers or names not in any cited file"),
)


def quotes(text: str) -> list[str]:
    return [q[1:-1] for q in _QUOTED.findall(text)]


def normalize(text: str) -> str:
    """For verbatim comparison: one kind of quote mark and apostrophe, single spaces."""
    text = re.sub(r"[“”\"‘’'`]", "'", text)
    return " ".join(text.split())


def verbatim(quote: str, sources: list[str]) -> bool:
    """True when the quote occurs word for word (up to quote marks and spacing) in a source."""
    q = normalize(quote).strip(" ,.'")
    return bool(q) and any(q in normalize(s) for s in sources)


def attributed(text: str, attributed_to: str | None) -> bool:
    """A sentence is attributed when it names who says it and says that they said it."""
    if not attributed_to:
        return False
    words = [w for w in re.findall(r"[A-Za-z][\w-]+", attributed_to) if w[0].isupper() or len(w) > 3]
    named = any(re.search(rf"\b{re.escape(w)}", text) for w in words) if words else False
    return named and bool(_SAYS.search(outside_quotes(text)))


def coverage(cited_sources: list[list[str]], sources: list[str]) -> dict[str, float]:
    """Share of summary sentences that cite each source."""
    n = max(1, len(cited_sources))
    return {s: round(sum(1 for c in cited_sources if s in c) / n, 3) for s in sources}


def under_representation(input_share: dict[str, float], summary_share: dict[str, float]) -> tuple[str, float]:
    """The source whose share of the summary falls furthest below its share of the input.

    Summary shares are normalized to sum to 1 first (a sentence citing two sources counts half
    for each), so the two distributions are comparable."""
    total = sum(summary_share.values()) or 1.0
    gaps = {s: round(input_share[s] - summary_share.get(s, 0.0) / total, 3) for s in input_share}
    worst = max(gaps, key=lambda s: gaps[s])
    return worst, gaps[worst]
