"""Files -> Documents: find article files, decode them, read their header, drop page chrome.

Every failure is a `BadInput` naming what is wrong with that one file, so the caller can report it
and carry on with the rest.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInput
from .records import Document

SUFFIXES = (".txt", ".md")

# Lines that scraped news pages append after the article. Matched whole-line, case-insensitively,
# with trailing punctuation ignored. Only ever removed from the *tail* of a file (see drop_chrome).
CHROME_LINES = frozenset(
    line.strip()
    for line in """
    leave a review|leave a comment|follow us on social networks|follow us|news line|newsline|share
    share this|share this article|share on facebook|share on twitter|tweet|print|email|subscribe
    subscribe to our newsletter|related|related articles|related news|read more|read also|see also
    comments|advertisement|most read|most popular|popular|tags|facebook|twitter|telegram|whatsapp
    linkedin|copy link|back to top|all rights reserved|latest news|more news|you may also like
    """.replace("\n", "|").split("|")
    if line.strip()
)
CHROME_PREFIXES = ("©", "copyright ", "all rights reserved")

_PREFERRED = ["cp1252", "latin_1", "iso8859_15", "cp1251", "koi8_r", "cp1250", "iso8859_2", "cp1254"]
_SENTENCE_END = ('.', '!', '?', '"', "'", "”", "’", ")", "»", ":")
_DATE_PREFIX = re.compile(r"\A\s*date\s*[:=]?\s*(\d{4}-\d{2}-\d{2})[ \t]+", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
_HEADER_LINE = re.compile(r"^(title|date|outlet|source|publisher)\s*:\s*(.+?)\s*$", re.IGNORECASE)
# "Washington/30.04.23/Turan: ..." (place/dd.mm.yy/outlet:), as Azerbaijani agencies write it.
_SLASH_DATELINE = re.compile(
    r"^\s*[A-Z][\w .'-]{1,40}/(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})/\s*([A-Z][\w .&'-]{1,40}?)\s*:",
    re.MULTILINE,
)
# "WASHINGTON, May 1 (Reuters) -" : the outlet in parentheses before a dash.
_PAREN_DATELINE = re.compile(
    r"^\s*[A-Z][A-Za-z0-9 .,'-]{1,60}\(([A-Z][A-Za-z .&'-]{1,30})\)\s*[-–—]", re.MULTILINE
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@dataclass(frozen=True)
class InputFile:
    path: Path  # absolute
    source: str  # the key shown to users and stored in the index


def discover(paths: Iterable[Path], base: Path) -> Iterator[InputFile]:
    """Yield article files under `paths` (files as given; folders recursively, sorted).

    `source` is the path relative to `base` (the current directory) when the file lies under it,
    else relative to the argument's parent folder, so `rag ingest seeds` names files `seeds/x.txt`.
    Hidden files and folders (".git", ".rag") are skipped; only .txt and .md files are read.
    """
    base = base.resolve()
    for given in paths:
        root = given.resolve()
        anchor = base if root.is_relative_to(base) else root.parent
        if root.is_dir():
            found = []
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    if not name.startswith(".") and name.lower().endswith(SUFFIXES):
                        found.append(Path(folder) / name)
            for path in sorted(found):
                yield InputFile(path, path.relative_to(anchor).as_posix())
        else:
            yield InputFile(root, root.relative_to(anchor).as_posix())


def read_document(item: InputFile, max_bytes: int) -> Document:
    """Read, validate and decode one file, then parse its header. Raises BadInput."""
    data = _read_bytes(item.path, max_bytes)
    if b"\x00" in data:
        raise BadInput("binary file (contains NUL bytes), not an article")
    text, encoding = decode(data)
    if not text.strip():
        raise BadInput("empty file" if not text else "file holds only whitespace")
    return parse_document(item, text, hashlib.sha256(data).hexdigest(), encoding)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BadInput(
                f"file is {size:,} bytes, over the {max_bytes:,}-byte limit (raise it with --max-bytes)"
            )
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise BadInput(f"cannot read it: {e.strerror or e}") from None
    if len(data) > max_bytes:  # grew while we read it
        raise BadInput(f"file is over the {max_bytes:,}-byte limit (raise it with --max-bytes)")
    return data


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 first (BOM tolerated); else the legacy encoding charset-normalizer detects."""
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data.decode("utf-8-sig"), "utf-8-sig"
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise BadInput("not valid UTF-8 and no legacy text encoding fits; is it really text?")
    # subtle: short texts often tie between code pages (cp1250 vs cp1252 for French); break ties
    # towards the encodings news archives actually use.
    top = min((m.chaos, -m.coherence) for m in matches)
    tied = [m for m in matches if m.chaos == top[0] and -m.coherence <= top[1] + 0.01]
    best = min(tied, key=lambda m: _PREFERRED.index(m.encoding) if m.encoding in _PREFERRED else 99)
    text = str(best)
    if _control_ratio(text) > 0.01:
        raise BadInput("not valid UTF-8 and decodes to control characters; is it really text?")
    return text, best.encoding


def _control_ratio(text: str) -> float:
    bad = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad / max(1, len(text))


def parse_document(item: InputFile, text: str, sha256: str, encoding: str) -> Document:
    """Find title, date and outlet, and the body span (header markers and page chrome excluded)."""
    meta: dict[str, str] = {}
    start = 0
    if m := _FRONT_MATTER.match(text):
        for line in m.group(1).splitlines():
            if h := _HEADER_LINE.match(line.strip()):
                meta.setdefault(h.group(1).lower(), h.group(2).strip().strip("\"'"))
        start = m.end()
    else:
        start = _header_lines(text, meta)
    if m := _DATE_PREFIX.match(text, start):
        meta.setdefault("date", m.group(1))
        start = m.end()
    while start < len(text) and text[start].isspace():
        start += 1
    end = drop_chrome(text, start)

    first_line = text[start:].split("\n", 1)[0].strip()
    title = meta.get("title") or _clip(first_line, 200) or None
    date = _iso_date(meta.get("date", ""))
    outlet = meta.get("outlet") or meta.get("publisher") or meta.get("source")
    head = text[start : min(end, start + 2000)]
    if m := _SLASH_DATELINE.search(head):
        day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
        full_year = int(year) + 2000 if len(year) == 2 else int(year)
        if date is None and 1 <= month <= 12 and 1 <= day <= 31:
            date = f"{full_year:04d}-{month:02d}-{day:02d}"
        outlet = outlet or m.group(4).strip()
    elif m := _PAREN_DATELINE.search(head):
        outlet = outlet or m.group(1).strip()
    return Document(
        source=item.source,
        path=item.path,
        text=text,
        sha256=sha256,
        encoding=encoding,
        body_start=start,
        body_end=end,
        title=title,
        date=date,
        outlet=outlet,
    )


def _header_lines(text: str, meta: dict[str, str]) -> int:
    """Consume leading `Title: ...` / `Date: ...` / `Outlet: ...` lines; return where the body starts."""
    pos = 0
    for line in text.splitlines(keepends=True):
        h = _HEADER_LINE.match(line.strip())
        if not h:
            break
        meta.setdefault(h.group(1).lower(), h.group(2))
        pos += len(line)
    return pos


def _iso_date(value: str) -> str | None:
    m = _ISO_DATE.search(value)
    return m.group(0) if m else None


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def drop_chrome(text: str, start: int = 0) -> int:
    """Return where the article ends: before trailing share/follow/navigation lines.

    Only a tail block of short lines without sentence punctuation is considered, and it is cut at
    its first *known* chrome line, so a byline such as "Alex Raufoglu" above "Leave a review"
    survives, and nothing that reads like article prose is ever dropped.
    """
    lines = []  # (line start offset, stripped text) for non-empty lines of the tail block
    pos = len(text)
    for line in reversed(text[start:].splitlines(keepends=True)):
        pos -= len(line)
        stripped = line.strip()
        if not stripped:
            continue
        if not (_is_short_label(stripped) or _is_chrome(stripped)):
            break
        lines.append((pos, stripped))
    for offset, stripped in reversed(lines):
        if _is_chrome(stripped):
            end = offset
            while end > start and text[end - 1].isspace():
                end -= 1
            return end
    end = len(text)
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _is_short_label(line: str) -> bool:
    return len(line.split()) <= 8 and not line.endswith(_SENTENCE_END)


def _is_chrome(line: str) -> bool:
    key = line.lower().rstrip(" .:!|>»›").strip()
    return key in CHROME_LINES or key.startswith(CHROME_PREFIXES)
