import os
from pathlib import Path

import pytest

from rag.errors import BadInput
from rag.ingest import InputFile, decode, discover, drop_chrome, parse_document, read_document

from .conftest import SEEDS

ARMENIAN = SEEDS / "000_5b9d689dbf11e4c1.txt"
TURAN = SEEDS / "004_e87519febac53f09.txt"


def read(path: Path, max_bytes: int = 10**7):
    return read_document(InputFile(path.resolve(), path.name), max_bytes)


def test_seed_with_date_marker():
    doc = read(ARMENIAN)
    assert doc.date == "2023-05-01"
    assert doc.title == "Before Meeting, Blinken Expresses U.S. Concern to Aliyev about Lachin Checkpoint"
    assert doc.outlet is None  # the file does not name its outlet
    assert doc.text[doc.body_start :].startswith("Before Meeting, Blinken")
    assert doc.text[: doc.body_end].endswith("Zakharova added.")  # nothing of the article dropped


def test_seed_with_dateline_and_chrome():
    doc = read(TURAN)
    assert doc.title.startswith("'Peace Is Possible', Blinken Tells Aliyev")
    assert doc.date == "2023-04-30"
    assert doc.outlet == "Turan"
    body = doc.text[doc.body_start : doc.body_end]
    assert body.startswith("'Peace Is Possible'")
    assert body.endswith("Alex Raufoglu")  # the byline survives
    assert "Most of the talks will take place" in body
    for chrome in ("Leave a review", "Follow us on social networks", "News Line", "Politics"):
        assert chrome not in body


@pytest.mark.parametrize(
    "tail, kept",
    [
        ("Last sentence.\n\nShare\nTweet\n", "Last sentence."),
        ("Last sentence.\n\nJane Doe\n\nRead more\nSports\n", "Last sentence.\n\nJane Doe"),
        ("Last sentence.\n© 2023 Some Agency. All rights reserved.\n", "Last sentence."),
        # a short last line that is not chrome is article text, not dropped:
        ("Last sentence.\n\nJane Doe\n", "Last sentence.\n\nJane Doe"),
        # "share" inside prose is not chrome:
        ("They share a border.\n", "They share a border."),
        ("Read more about it in the report, he said.\n", "Read more about it in the report, he said."),
    ],
)
def test_drop_chrome(tail, kept):
    text = "Title\nFirst paragraph. " + tail
    assert text[: drop_chrome(text)].endswith(kept)


@pytest.mark.parametrize(
    "text, title, date, outlet",
    [
        ("---\ntitle: Hello\ndate: 2024-02-03\noutlet: Daily\n---\nBody text.", "Hello", "2024-02-03", "Daily"),
        ("Title: T\nDate: 2021-01-09\nSource: Wire\n\nBody.", "T", "2021-01-09", "Wire"),
        ("Headline\nWASHINGTON, May 1 (Reuters) - Talks began.", "Headline", None, "Reuters"),
        ("Headline\nBaku/02.05.2023/APA: Talks began.", "Headline", "2023-05-02", "APA"),
        ("Just one line of text.", "Just one line of text.", None, None),
    ],
)
def test_header_formats(text, title, date, outlet):
    doc = parse_document(InputFile(Path("/a.txt"), "a.txt"), text, "0" * 64, "utf-8")
    assert (doc.title, doc.date, doc.outlet) == (title, date, outlet)
    assert "---" not in doc.text[doc.body_start : doc.body_end]


def test_legacy_encodings_are_detected(tmp_path):
    russian = "Переговоры министров иностранных дел прошли в Вашингтоне. " * 5
    (tmp_path / "ru.txt").write_bytes(russian.encode("cp1251"))
    doc = read(tmp_path / "ru.txt")
    assert doc.text == russian
    assert doc.encoding != "utf-8"
    french = "Les négociations à Washington ont été décrites comme « constructives ». " * 3
    (tmp_path / "fr.txt").write_bytes(french.encode("latin-1"))
    assert read(tmp_path / "fr.txt").text == french


def test_utf8_bom_is_tolerated():
    text, enc = decode("Hello".encode("utf-8-sig"))
    assert (text, enc) == ("Hello", "utf-8-sig")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"  \n\t\n", "only whitespace"),
        (b"PK\x03\x04\x00\x00binary", "binary file"),
    ],
)
def test_bad_files(tmp_path, content, message):
    (tmp_path / "bad.txt").write_bytes(content)
    with pytest.raises(BadInput, match=message):
        read(tmp_path / "bad.txt")


def test_oversized_file(tmp_path):
    (tmp_path / "big.txt").write_text("word " * 1000)
    with pytest.raises(BadInput, match="over the 100-byte limit"):
        read(tmp_path / "big.txt", max_bytes=100)


def test_unreadable_file(tmp_path):
    os.symlink(tmp_path / "nowhere.txt", tmp_path / "dangling.txt")
    with pytest.raises(BadInput, match="cannot read"):
        read(tmp_path / "dangling.txt")


def test_discover_recurses_sorted_and_skips_only_hidden(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / ".git").mkdir()
    for rel in ("b.txt", "a.md", "sub/c.TXT", "notes.pdf", ".hidden.txt", ".git/x.txt"):
        (corpus / rel).write_text("x")
    found = [f.source for f in discover([corpus], tmp_path)]
    # every visible file is yielded, so one that cannot be read is reported, not skipped in silence
    assert found == ["corpus/a.md", "corpus/b.txt", "corpus/notes.pdf", "corpus/sub/c.TXT"]
    # outside the base folder, sources are relative to the argument's parent
    assert [f.source for f in discover([corpus / "b.txt"], Path("/nonexistent-base"))] == ["b.txt"]
