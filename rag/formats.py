"""Saved web pages and scraper/API exports -> Documents.

A web page's article text is extracted with trafilatura (menus, share bars, cookie banners and
comments left out); a JSON Lines, JSON or CSV export gives one Document per record, its source
`file.jsonl#record-id`. The text these Documents carry is *derived* from the file, so the index
stores it: citation offsets point into it, never into the raw file.

A bad record is a `Problem` (with its line number); the other records of the file still count.
"""

from __future__ import annotations

import csv
import email.utils
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BadInput, UsageError
from .records import Document

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
RECORD_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")

# Field names tried, in order, when `--fields` does not name one (news APIs and scrapers' exports).
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text", "body", "content", "article", "maintext", "full_text", "article_text", "story"),
    "title": ("title", "headline", "name"),
    "date": ("date", "published_at", "publishedAt", "published", "date_publish", "pubDate",
             "datetime", "timestamp", "created_at"),
    "outlet": ("outlet", "source", "publisher", "source_name", "site_name", "sitename", "site", "domain"),
    "id": ("id", "uuid", "guid", "article_id", "url", "link"),
}
MIN_PAGE_WORDS = 8
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_UNSAFE_ID = re.compile(r"[\s#]+")


@dataclass(frozen=True)
class Problem:
    """One record that could not be read: reported, the rest of the file goes on."""

    where: str  # "exports/a.jsonl:3" (line) or "exports/a.json#4" (position)
    reason: str


def parse_fields(spec: str | None) -> dict[str, str]:
    """`title=headline,date=published_at` -> {"title": "headline", "date": "published_at"}."""
    if not spec:
        return {}
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value or key not in DEFAULT_FIELDS:
            raise UsageError(
                f"--fields: {part.strip()!r} is not NAME=FIELD with NAME one of "
                f"{', '.join(DEFAULT_FIELDS)} (e.g. --fields title=headline,text=body)"
            )
        mapping[key] = value
    return mapping


def html_document(source: str, path: Path, data: bytes) -> Document:
    """The article of a saved web page, with the page's title, date and site name."""
    import trafilatura

    page: Any = trafilatura.bare_extraction(
        data, with_metadata=True, include_comments=False, include_tables=True, include_images=False
    )
    body = (page.text or "").strip() if page is not None else ""
    if len(body.split()) < MIN_PAGE_WORDS:  # a menu or a title alone is not an article
        raise BadInput("no article text found in the web page")
    title = _one_line(page.title)
    # The stored text starts with the headline, as a .txt article does, so it is searchable.
    text = body if not title or body.startswith(title) else f"{title}\n\n{body}"
    return Document(
        source=source,
        path=path,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding="html",
        body_start=0,
        body_end=len(text),
        title=title or _one_line(text.split("\n", 1)[0]),
        date=iso_date(page.date),
        outlet=_one_line(page.sitename) or _one_line(page.hostname),
        derived=True,
    )


def record_documents(
    source: str, path: Path, text: str, fields: Mapping[str, str]
) -> tuple[list[Document], list[Problem]]:
    """One Document per record of a JSON Lines, JSON or CSV export (`text` is the decoded file)."""
    suffix = path.suffix.lower()
    rows = _csv_rows(source, text) if suffix == ".csv" else _json_rows(source, text, suffix)
    documents: list[Document] = []
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for where, row in rows:
        if isinstance(row, Problem):
            problems.append(row)
            continue
        try:
            doc = _record(source, path, where, row, fields)
        except BadInput as e:
            problems.append(Problem(f"{source}{where}", str(e)))
            continue
        if doc.source in first_seen:
            problems.append(Problem(f"{source}{where}", f"record id repeats the one at {first_seen[doc.source]}"))
            continue
        first_seen[doc.source] = f"{source}{where}"
        documents.append(doc)
    if not documents and not problems:
        raise BadInput("holds no records")
    return documents, problems


def _json_rows(source: str, text: str, suffix: str) -> Iterator[tuple[str, Any]]:
    """(":line" or "#position", record) pairs; a line that is not JSON is a Problem."""
    if suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as e:
            raise BadInput(f"not valid JSON ({_json_error(e)})") from None
        if isinstance(data, dict):
            lists = [v for k, v in data.items() if isinstance(v, list) and k in ("articles", "items", "data", "results", "records", "documents")]
            data = lists[0] if lists else [data]
        if not isinstance(data, list):
            raise BadInput("JSON holds neither a list of articles nor one article")
        for n, row in enumerate(data, 1):
            yield f"#{n}", row
        return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield f":{n}", json.loads(line)
        except ValueError as e:
            yield f":{n}", Problem(f"{source}:{n}", f"not valid JSON ({_json_error(e)})")


def _csv_rows(source: str, text: str) -> Iterator[tuple[str, Any]]:
    """(":line", row) pairs, the line where each record starts; a broken quote ends the file."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise BadInput("CSV file has no header row")
    line = reader.line_num + 1
    try:
        for row in reader:
            if None in row:  # more cells than header names
                row.pop(None)
            yield f":{line}", row
            line = reader.line_num + 1
    except csv.Error as e:
        yield f":{line}", Problem(f"{source}:{line}", f"CSV error, the rest of the file is not read ({e})")


def _record(source: str, path: Path, where: str, row: Any, fields: Mapping[str, str]) -> Document:
    if not isinstance(row, dict):
        kind = {str: "a string", int: "a number", float: "a number", bool: "true/false", list: "a list"}.get(type(row), "null")
        raise BadInput(f"a record must be an object with fields, not {kind}")
    values = {name: _field(row, name, fields) for name in DEFAULT_FIELDS}
    body = values["text"].strip()
    if not body:
        wanted = fields.get("text") or "/".join(DEFAULT_FIELDS["text"][:3])
        raise BadInput(f"empty or missing text field ({wanted}); name it with --fields text=FIELD")
    title = _one_line(values["title"])
    text = body if not title or body.startswith(title) else f"{title}\n\n{body}"
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False).encode("utf-8")
    # Without an id field, the id comes from the content, never the line: deleting one record
    # must not shift the others' ids (and so their citations and incremental state).
    given = _UNSAFE_ID.sub("-", values["id"].strip())
    record_id = (given if len(given) <= 120 else given[:100] + "-" + hashlib.sha256(given.encode()).hexdigest()[:12]) \
        or "r-" + hashlib.sha256(canonical).hexdigest()[:12]
    return Document(
        source=f"{source}#{record_id}",
        path=path,
        text=text,
        sha256=hashlib.sha256(canonical).hexdigest(),
        encoding=path.suffix.lower().lstrip("."),
        body_start=0,
        body_end=len(text),
        title=title or (_one_line(text.split("\n", 1)[0]) or "")[:200] or None,
        date=iso_date(values["date"]),
        outlet=_one_line(values["outlet"]),
        derived=True,
    )


def _field(row: dict[str, Any], name: str, fields: Mapping[str, str]) -> str:
    """The value for `name`: the mapped field (dotted paths reach into objects) or the first default."""
    for key in (fields[name],) if name in fields else DEFAULT_FIELDS[name]:
        value: Any = row
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, dict):  # {"source": {"id": ..., "name": "Reuters"}}
            value = value.get("name") or value.get("title")
        if value not in (None, ""):
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return ""


def iso_date(value: str | None) -> str | None:
    """yyyy-mm-dd from an ISO timestamp or an RFC 2822 date ("Thu, 14 Mar 2024 09:30:00 GMT")."""
    if not value:
        return None
    if m := _ISO_DATE.search(value):
        return m.group(0)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.date().isoformat() if parsed else None


def _one_line(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    return text or None


def _json_error(e: ValueError) -> str:
    if not isinstance(e, json.JSONDecodeError):
        return str(e)
    return f"{e.msg}{'' if e.msg.endswith(' at') else ' at'} column {e.colno}"
