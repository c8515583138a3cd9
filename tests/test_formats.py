"""Web pages, exports and Windows text files -> Documents (trafilatura is real; no model needed).

The fixtures in tests/fixtures/real are written like real saved pages and exports; their
README lists what a good extractor must find and what must be left out.
"""

import re
from pathlib import Path

import pytest

from rag.errors import BadInput, UsageError
from rag.formats import iso_date, parse_fields
from rag.ingest import InputFile, read_articles

REAL = Path(__file__).parent / "fixtures" / "real"

# Page chrome of every layout: none of it may reach the index.
BOILERPLATE = [
    "Share this article", "Related stories", "Harbor Times Media Ltd", "Independent news from the coast",
    "We use cookies", "Accept all", "Manage preferences", "Sign up for our morning briefing",
    "This is a disgrace, the council should resign.", "holding the whole city to ransom",
    "wasting money for years", "dockside_dave", "kessmar_local_77", "All rights reserved",
    "Advertisement", "Holiday cottages on the Drevna coast", "Most read", "Registered in Kessmar",
]


def articles(rel: str, fields: dict[str, str] | None = None):
    path = REAL / rel
    return read_articles(InputFile(path, rel), 10**7, fields)


@pytest.mark.parametrize(
    "rel, title, date, outlet, first, last",
    [
        (
            "pages/harbor_times.html",
            "Kessmar dockworkers walk out after pay talks with port authority collapse",
            "2024-03-14",
            "Harbor Times",
            "Hundreds of dockworkers at the Port of Kessmar walked off the job early on Thursday",
            "No further talks had been scheduled as of Thursday morning.",
        ),
        (
            "pages/valley_post.htm",  # windows-1252, no <article>, cookie banner, comments
            "Kessmar port strike enters second day as council and union trade blame",
            "2024-03-15",
            "Valley Post",
            "The strike at the Port of Kessmar entered its second day on Friday",
            "The union is due to hold a mass meeting at the Pier 4 gates on Saturday morning.",
        ),
        (
            "pages/northern_wire.html",  # <main>, sidebar, an advertisement inside the content
            "Ships idle off Kessmar as dockworkers' strike spreads to grain terminal",
            "2024-03-16",
            "Northern Wire",
            "The dockworkers' strike at the Port of Kessmar spread to the city's grain terminal",
            "A spokesperson for the regional labour tribunal said a decision on mediation was expected by Monday.",
        ),
    ],
)
def test_web_pages_give_the_article_and_its_metadata(rel, title, date, outlet, first, last):
    (doc,), problems = articles(rel)
    assert not problems
    assert (doc.title, doc.date, doc.outlet) == (title, date, outlet)
    assert doc.derived and doc.encoding == "html" and doc.source == rel
    assert doc.text.startswith(title)  # the headline leads, as in a .txt article
    assert first in doc.text and doc.text.endswith(last)
    assert (doc.body_start, doc.body_end) == (0, len(doc.text))
    leaked = [b for b in BOILERPLATE if b in doc.text]
    assert not leaked, f"page chrome in the article text: {leaked}"


def test_page_charset_is_honoured():
    (doc,), _ = articles("pages/valley_post.htm")
    assert "Kessmar Dockworkers’ Union" in doc.text and "Café owners" in doc.text
    assert "“The union turned that down flat,” Brandt said." in doc.text


def test_jsonl_export_keeps_good_records_and_names_the_bad_line():
    docs, problems = articles("exports/articles.jsonl")
    assert [d.source for d in docs] == [
        "exports/articles.jsonl#hv-101", "exports/articles.jsonl#hv-102", "exports/articles.jsonl#hv-104"
    ]
    assert [(p.where, p.reason) for p in problems] == [
        ("exports/articles.jsonl:3", "not valid JSON (Unterminated string starting at column 30)")
    ]
    first = docs[0]
    assert first.title == "Lighthouse at Carrow Point to reopen after two-year restoration"
    assert (first.date, first.outlet) == ("2024-02-02", "Harbor Valley Gazette")
    assert first.text.startswith(first.title + "\n\nThe lighthouse at Carrow Point will reopen")
    assert len({d.sha256 for d in docs}) == 3


def test_csv_export_with_quotes_and_newlines_in_cells():
    docs, problems = articles("exports/articles.csv")
    assert [d.source.split("#")[1] for d in docs] == ["csv-201", "csv-202", "csv-204"]
    assert [(p.where, p.reason) for p in problems] == [
        ("exports/articles.csv:6", "empty or missing text field (text/body/content); name it with --fields text=FIELD")
    ]
    multi_line = docs[1]
    assert multi_line.title == "Olmsby library to extend opening hours, add Sunday service"
    assert "\n\nHead librarian Tobias Grent said" in multi_line.text
    assert '"It looks wonderful, but one cold night could ruin the whole season," said farmer Odile Marsh.' in docs[0].text


def test_field_mapping_and_nested_fields(tmp_path):
    (tmp_path / "noid.csv").write_text("title,text\nA,First.\nB,Second.\n")
    docs, _ = read_articles(InputFile(tmp_path / "noid.csv", "noid.csv"), 10**6)
    (tmp_path / "noid.csv").write_text("title,text\nB,Second.\n")  # A deleted: B keeps its id
    assert [d.source for d in read_articles(InputFile(tmp_path / "noid.csv", "noid.csv"), 10**6)[0]] == [docs[1].source]
    assert docs[1].source.startswith("noid.csv#r-")
    (tmp_path / "api.jsonl").write_text(
        '{"uuid": "a 1", "headline": "H", "published": "Thu, 14 Mar 2024 09:30:00 GMT", '
        '"source": {"id": "x", "name": "Wire Co"}, "maintext": "Body text here.", "body": "not this"}\n'
    )
    (doc,), _ = read_articles(InputFile(tmp_path / "api.jsonl", "api.jsonl"), 10**6, parse_fields("text=maintext,id=uuid"))
    assert (doc.source, doc.title, doc.date, doc.outlet) == ("api.jsonl#a-1", "H", "2024-03-14", "Wire Co")
    assert doc.text == "H\n\nBody text here."


def test_json_array_and_repeated_ids(tmp_path):
    (tmp_path / "a.json").write_text('{"articles": [{"id": 7, "text": "One."}, {"id": 7, "text": "Two."}, "x"]}')
    docs, problems = read_articles(InputFile(tmp_path / "a.json", "a.json"), 10**6)
    assert [d.source for d in docs] == ["a.json#7"]
    assert [(p.where, p.reason) for p in problems] == [
        ("a.json#2", "record id repeats the one at a.json#1"),
        ("a.json#3", "a record must be an object with fields, not a string"),
    ]


def test_utf16_with_bom_and_headline_first_header():
    (doc,), _ = articles("windows/utf16_report.txt")
    assert doc.encoding == "utf-16"
    assert (doc.title, doc.date, doc.outlet) == (
        "Mediator named as Kessmar port strike reaches fourth day", "2024-03-17", "Kessmar Daily"
    )
    assert "Birgit Sölvberg" in doc.text and not doc.derived


@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-32-le", "utf-32-be"])
def test_other_byte_order_marks(tmp_path, encoding):
    (tmp_path / "a.txt").write_bytes("\ufeffTitle\n\nZoë said hello.".encode(encoding))
    (doc,), _ = read_articles(InputFile(tmp_path / "a.txt", "a.txt"), 10**6)
    assert doc.text.lstrip("\ufeff").startswith("Title") and "Zoë" in doc.text


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("brochure.pdf", b"%PDF-1.4", "unsupported file type: .pdf files are not read (rag reads .txt"),
        ("README", b"text", "unsupported file type: a file without a suffix is not read"),
        ("page.html", b"", "empty file"),
        ("page.html", b"<html><body><nav>Home</nav></body></html>", "no article text found in the web page"),
        ("page.html", b"\x00\x01<html>", "binary file"),
        ("a.json", b"{", "not valid JSON (Expecting property name enclosed in double quotes at column 2)"),
        ("a.csv", b"", "empty file"),
        ("a.jsonl", b"\n\n", "only whitespace"),
        ("a.txt", b"\xff\xfe\x00\xd8", "starts with a utf-16 byte-order mark but is not valid utf-16"),
    ],
)
def test_unusable_files(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(BadInput, match=re.escape(message)):
        read_articles(InputFile(tmp_path / name, name), 10**6)


def test_fields_option_is_checked():
    assert parse_fields("title=headline, text=body") == {"title": "headline", "text": "body"}
    for bad in ("title", "colour=red", "text="):
        with pytest.raises(UsageError, match="--fields"):
            parse_fields(bad)


@pytest.mark.parametrize(
    "value, iso",
    [("2024-03-14T09:30:00Z", "2024-03-14"), ("Thu, 14 Mar 2024 09:30:00 GMT", "2024-03-14"),
     ("yesterday", None), ("", None), (None, None)],
)
def test_iso_date(value, iso):
    assert iso_date(value) == iso
