"""Parse the model's cited sentences and verify each citation against its passage. Pure logic
plus the embedding model passed in.

A sentence is supported by a passage when
  * it means much the same as one of the passage's sentences (cosine >= `min_cosine`), and
  * its content words mostly occur in the passage (`min_overlap`, crude stemming tolerates
    inflection), and
  * every number and every name in it occurs in the passage: cosine alone cannot tell
    "25 million" from "18 million", nor Blinken from Bayramov.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .sentences import split_sentences

STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as into about over after before
    between during under than that this these those there here it its it's is are was were be been
    being has have had do does did will would shall should can could may might must not no nor so
    such too very also just only both each other any all some more most own same which who whom
    whose what when where why how he she they them their his her him we our you your i me my mr
    mrs ms said says say told according stated added noted while however on upon""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NUM = r"(\d[\d,.]*\d|\d)"
_FROM_TO = re.compile(rf"\bfrom\s+(?:[^\s\d]+\s+){{0,3}}?{_NUM}[^.;]{{0,40}}?\bto\s+(?:[^\s\d]+\s+){{0,3}}?{_NUM}", re.I)
_TO_FROM = re.compile(rf"\bto\s+(?:[^\s\d]+\s+){{0,3}}?{_NUM}[^.;]{{0,40}}?\bfrom\s+(?:[^\s\d]+\s+){{0,3}}?{_NUM}", re.I)
_CITED = re.compile(r"(?P<text>[^\[\]]*?)(?P<cites>(?:\s*\[\d+\])+)\s*\.?")


@dataclass(frozen=True)
class Draft:
    """One sentence as the model wrote it, with the passage numbers it cited."""

    text: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class Evidence:
    """One sentence of a retrieved passage, with offsets into the source file."""

    passage: int  # 1-based number of the passage in the prompt
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Support:
    passage: int
    cosine: float  # best cosine between the claim and one sentence of the passage
    overlap: float  # share of the claim's content words found in the passage
    missing: tuple[str, ...]  # numbers and names of the claim not found in the passage
    best: Evidence | None  # the passage's sentence closest to the claim: the quote to show

    def ok(self, min_cosine: float, min_overlap: float) -> bool:
        return not self.missing and self.cosine >= min_cosine and self.overlap >= min_overlap


def parse_drafts(text: str) -> list[Draft]:
    """Split model output into sentences with citations; text after the last citation is kept
    with no citation (the verifier then looks for a passage that supports it)."""
    drafts: list[Draft] = []
    pos = 0
    for m in _CITED.finditer(text):
        if not m.group("cites").strip():
            continue
        cites = tuple(int(n) for n in re.findall(r"\d+", m.group("cites")))
        body = m.group("text").strip()
        pos = m.end()
        for s, e in split_sentences(body):
            drafts.append(Draft(_clean(body[s:e]), cites))
    tail = text[pos:].strip()
    for s, e in split_sentences(tail):
        drafts.append(Draft(_clean(tail[s:e]), ()))
    return [d for d in drafts if len(d.text.split()) >= 3 and not d.text.startswith("NOT IN SOURCES")]


def _clean(s: str) -> str:
    s = s.strip()
    return s if s.endswith((".", "!", "?", '"', "”")) else s + "."


def stem(word: str) -> str:
    """Crude, deliberately: lowercase, drop possessives and plural/verb endings, keep 6 chars."""
    w = word.lower().replace("’", "'")
    w = re.sub(r"'s?$", "", w)
    for suffix in ("ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    if len(w) > 4 and w.endswith("e"):  # "remove" and "removed" -> "remov"
        w = w[:-1]
    return w[:6]


def content_stems(text: str) -> set[str]:
    """Stems of the content words; hyphenated compounds count as their parts ("Kovia-Drenland")."""
    words = [p for w in _WORD.findall(text) for p in w.split("-") if p]
    return {stem(w) for w in words if w.lower() not in STOPWORDS and not w[0].isdigit()}


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split()) if i >= 2}  # "one" is too often not a number
_NUMBER_WORD = re.compile(rf"\b({'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)


def numbers(text: str) -> set[str]:
    """Numbers as digits, number words included: "within two years" must not pass for "no date"."""
    found = {n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(text)}
    return found | {_NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text)}


def changes(text: str) -> set[tuple[str, str]]:
    """Directed changes "from 40 to 10" (also written "to 10 from 40") as (from, to) pairs:
    the same two numbers in the wrong direction say the opposite."""
    pairs = {(a, b) for a, b in _FROM_TO.findall(text)} | {(b, a) for a, b in _TO_FROM.findall(text)}
    return {(a.replace(",", ""), b.replace(",", "")) for a, b in pairs}


def names(text: str) -> dict[str, str]:
    """Capitalized words (people, places, organisations), as {stem: word as written}."""
    found: dict[str, str] = {}
    for s, e in split_sentences(text):
        words = _WORD.findall(text[s:e])
        for i, w in enumerate(words):
            if not w[0].isupper() or w.lower() in STOPWORDS or len(w) == 1:  # initials: "Antony J. Blinken"
                continue
            # subtle: a sentence-initial word is a name only if it is not an ordinary word
            if i == 0 and w.lower() in _COMMON_INITIALS:
                continue
            for part in w.rstrip("'’").split("-"):  # "Kovia-Drenland": each name must be found
                if part[:1].isupper() and len(part) > 1:
                    found.setdefault(stem(part), part)
    return found


_COMMON_INITIALS = frozenset(
    """during earlier later last next both most many some several officials ministers talks
    peace in on at after before according while despite since meanwhile separately""".split()
)


def assess(
    claim: str,
    claim_vec: np.ndarray,
    passage: int,
    passage_text: str,
    evidence: list[Evidence],
    evidence_vecs: np.ndarray,
    header: str = "",
    question_only: frozenset[str] = frozenset(),
) -> Support:
    """How well one passage supports one claim. `evidence` are that passage's sentences.

    Support must be local: the claim's names, numbers and words are looked for in one evidence
    sentence and its two neighbours (so "He said" can lean on the sentence before), not across the
    whole passage, where facts from unrelated sentences could be stitched into a false claim. The
    window with no missing facts whose sentence is most similar wins; that sentence is the quote.

    `question_only`: stems of question words that no retrieved passage contains. A claim using
    one is unsupported: small models echo the question ("How many were injured?" -> "23 were
    injured") where every passage says something else ("23 died")."""
    facts = _Facts.of(claim, question_only)
    if not len(evidence):
        return _support(facts, passage, passage_text + " " + header, 0.0, None)
    sims = evidence_vecs @ claim_vec
    best: Support | None = None
    for i, ev in enumerate(evidence):
        window = " ".join(e.text for e in evidence[max(0, i - 1) : i + 2])
        s = _support(facts, passage, window + " " + header, float(sims[i]), ev)
        if best is None or _rank(s) > _rank(best):
            best = s
    assert best is not None
    return best


def _rank(s: Support) -> tuple[int, float]:
    # not overlap: neighbouring windows share words, so only the cosine tells which sentence it is
    return (-len(s.missing), s.cosine)


@dataclass(frozen=True)
class _Facts:
    """What a claim asserts, extracted once and checked against every window of a passage."""

    stems: set[str]
    numbers: set[str]
    names: dict[str, str]
    changes: set[tuple[str, str]]
    echo: frozenset[str]  # words taken from the question that no passage has

    @classmethod
    def of(cls, claim: str, question_only: frozenset[str]) -> _Facts:
        stems = content_stems(claim)
        return cls(stems, numbers(claim), names(claim), changes(claim), frozenset(stems & question_only))


def _support(facts: _Facts, passage: int, haystack: str, cosine: float, best: Evidence | None) -> Support:
    haystack_stems = content_stems(haystack)
    overlap = len(facts.stems & haystack_stems) / max(1, len(facts.stems))
    haystack_numbers = numbers(haystack)
    missing = sorted(n for n in facts.numbers if n not in haystack_numbers)
    missing += sorted(w for s, w in facts.names.items() if s not in haystack_stems)
    haystack_changes = changes(haystack)
    missing += [f"from {a} to {b}" for a, b in sorted(facts.changes) if (b, a) in haystack_changes]
    missing += [f"{w} (from the question)" for w in sorted(facts.echo - haystack_stems)]
    return Support(passage, cosine, overlap, tuple(missing), best)


def passage_sentences(passage: int, text: str, offset: int) -> list[Evidence]:
    """The sentences of a passage, with offsets into the file (`offset` is the chunk's start)."""
    return [Evidence(passage, offset + s, offset + e, text[s:e]) for s, e in split_sentences(text)]
