"""Sentence spans in news text, as (start, end) character offsets. Pure and dependency-free.

    >>> text = "Blinken met U.S. envoys. Talks began.\\nNext line"
    >>> [text[s:e] for s, e in split_sentences(text)]
    ['Blinken met U.S. envoys.', 'Talks began.', 'Next line']

Line breaks always end a sentence (headlines, bylines and datelines are lines of their own).
"""

from __future__ import annotations

import re

# Words after which a full stop does not end a sentence.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st gen col lt sgt capt cmdr adm gov sen rep pres jr sr inc ltd co corp
    no nos vs etc e.g i.e approx est dept univ jan feb mar apr jun jul aug sep sept oct nov dec
    mt ft ave blvd rd fig vol pp ed eds op cit al""".split()
)

# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]»]*(?=\s)")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"'“‘(\[«]?[A-Z0-9]")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split text[start:end] into sentence spans with surrounding whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    line_start = start
    for line_end in _line_ends(text, start, end):
        spans.extend(_split_line(text, line_start, line_end))
        line_start = line_end + 1
    return spans


def _line_ends(text: str, start: int, end: int) -> list[int]:
    ends = [i for i in range(start, end) if text[i] == "\n"]
    ends.append(end)
    return ends


def _split_line(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    cursor = start
    for m in _BOUNDARY.finditer(text, start, end):
        if not _NEXT_STARTS_SENTENCE.match(text, m.end(), end):
            continue
        if _is_abbreviation(text, cursor, m.start()) and text[m.start()] == ".":
            continue
        spans.append((cursor, m.end()))
        cursor = m.end()
    spans.append((cursor, end))
    return [t for t in (_trim(text, s, e) for s, e in spans) if t[0] < t[1]]


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    """True if the word ending at `dot` is an abbreviation or an initial ("J.", "U.S.")."""
    word_start = dot
    while word_start > start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("\"'“‘(")
    if not word:
        return False
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True  # an initial: "Antony J. Blinken"
    if "." in word and all(len(p) <= 2 for p in word.split(".")):
        return True  # "U.S", "D.C", "e.g"
    return word.lower() in ABBREVIATIONS


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
