"""Files -> Documents: find article files, decode them, read their header, drop page chrome.

Plain text (.txt, .md) is read here; web pages and exports are handed to `formats`. Every failure
is a `BadInput` naming what is wrong with that one file, so the caller can report it and carry on
with the rest; a file of a type rag does not read is such a failure too, never skipped in silence.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInput
from .formats import HTML_SUFFIXES, RECORD_SUFFIXES, Problem, html_document, iso_date, record_documents
from .records import Document

TEXT_SUFFIXES = (".txt", ".md", ".text")
SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + RECORD_SUFFIXES
# Byte-order marks, longest first: UTF-32 LE's starts with UTF-16 LE's.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)

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


@dataclass(frozen=True)
class InputFile:
    path: Path  # absolute
    source: str  # the key shown to users and stored in the index


def discover(paths: Iterable[Path], base: Path) -> Iterator[InputFile]:
    """Yield article files under `paths` (files as given; folders recursively, sorted).

    `source` is the path relative to `base` (the current directory) when the file lies under it,
    else relative to the argument's parent folder, so `rag ingest seeds` names files `seeds/x.txt`.
    Hidden files and folders (".git", ".rag", ".DS_Store") are not articles and are passed over;
    every other file is yielded, whatever its type, so the caller can report what it cannot read.
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
                    if not name.startswith("."):
                        found.append(Path(folder) / name)
            for path in sorted(found):
                yield InputFile(path, path.relative_to(anchor).as_posix())
        else:
            yield InputFile(root, root.relative_to(anchor).as_posix())


def read_articles(
    item: InputFile, max_bytes: int, fields: dict[str, str] | None = None
) -> tuple[list[Document], list[Problem]]:
    """The articles in one file: one for a text file or web page, one per record of an export.

    Raises BadInput when the whole file is unusable; a bad record of an export is a Problem.
    """
    suffix = item.path.suffix.lower()
    if suffix not in SUFFIXES:
        kind = f"{suffix} files are" if suffix else "a file without a suffix is"
        raise BadInput(f"unsupported file type: {kind} not read (rag reads {', '.join(SUFFIXES)})")
    if suffix in TEXT_SUFFIXES:
        return [read_document(item, max_bytes)], []
    data = _read_bytes(item.path, max_bytes)
    if suffix in HTML_SUFFIXES:
        if not data.strip():
            raise BadInput("empty file")
        # trafilatura decodes bytes by the page's own charset; only a page with a BOM is decoded here
        page = decode(data)[0].encode("utf-8") if _bom(data) else _not_binary(data)
        return [html_document(item.source, item.path, page)], []
    return record_documents(item.source, item.path, _decode_text(data)[0], fields or {})


def read_document(item: InputFile, max_bytes: int) -> Document:
    """Read, validate and decode one text file, then parse its header. Raises BadInput."""
    data = _read_bytes(item.path, max_bytes)
    text, encoding = _decode_text(data)
    return parse_document(item, text, hashlib.sha256(data).hexdigest(), encoding)


def _decode_text(data: bytes) -> tuple[str, str]:
    text, encoding = decode(data if _bom(data) else _not_binary(data))
    if not text.strip():
        raise BadInput("empty file" if not text else "file holds only whitespace")
    return text, encoding


def _bom(data: bytes) -> str | None:
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


def _not_binary(data: bytes) -> bytes:
    if b"\x00" in data:
        raise BadInput("binary file (contains NUL bytes), not an article")
    return data


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
    """By the byte-order mark if there is one (UTF-8/16/32, as Windows tools write); else UTF-8;
    else the legacy encoding charset-normalizer detects."""
    if bom := _bom(data):
        try:
            return data.decode(bom), bom
        except UnicodeDecodeError:
            raise BadInput(f"starts with a {bom} byte-order mark but is not valid {bom}") from None
    try:
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
    date = iso_date(meta.get("date"))
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
    """Consume leading `Title: ...` / `Date: ...` / `Outlet: ...` lines; return where the body starts.

    A headline followed by such lines ("Headline / Date: ... / Outlet: ...") gives its metadata
    too; the lines then stay in the body, which starts at the headline.
    """
    pos = 0
    lines = text.splitlines(keepends=True)
    for line in lines:
        h = _HEADER_LINE.match(line.strip())
        if not h:
            break
        meta.setdefault(h.group(1).lower(), h.group(2))
        pos += len(line)
    if pos == 0:
        for line in lines[1:6]:
            if not (h := _HEADER_LINE.match(line.strip())):
                break
            meta.setdefault(h.group(1).lower(), h.group(2))
    return pos


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
