"""`rag ingest` on a folder as an analyst keeps it: saved pages, exports, a UTF-16 file, a PDF.

Real embedding model, real FAISS, the CLI's exit codes and stderr wording.
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings
from rag.index import WriteLock, open_index, read_manifest
from rag.update import embedding_info

REAL = Path(__file__).parent / "fixtures" / "real"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dest = tmp_path / "news"
    shutil.copytree(REAL, dest, ignore=shutil.ignore_patterns("README.md"))
    return dest


def test_every_file_is_ingested_or_named(shared_embedder, folder, tmp_path):
    result = run("ingest", str(folder), "--index", str(tmp_path / "idx"), "--json")
    assert result.exit_code == 1  # some input was bad; the rest is in the index
    failed = [line.split(None, 1)[1] for line in result.stderr.splitlines() if line.strip().startswith("failed")]
    assert failed == [
        "news/exports/articles.csv:6: empty or missing text field (text/body/content); name it with --fields text=FIELD",
        "news/exports/articles.jsonl:3: not valid JSON (Unterminated string starting at column 30)",
        "news/other/brochure.pdf: unsupported file type: .pdf files are not read (rag reads .txt, .md, .text, "
        ".html, .htm, .xhtml, .jsonl, .ndjson, .json, .csv)",
    ]
    report = json.loads(result.stdout)
    assert report["counts"] == {"added": 10, "updated": 0, "skipped": 0, "duplicate": 0, "pruned": 0, "failed": 3}
    added = {f["source"] for f in report["files"] if f["status"] == "added"}
    assert added == {
        "news/pages/harbor_times.html", "news/pages/valley_post.htm", "news/pages/northern_wire.html",
        "news/windows/utf16_report.txt",
        *(f"news/exports/articles.jsonl#hv-10{i}" for i in (1, 2, 4)),
        *(f"news/exports/articles.csv#csv-20{i}" for i in (1, 2, 4)),
    }

    settings = Settings(index_dir=tmp_path / "idx")
    idx = open_index(settings, embedding_info(shared_embedder))
    files = {f.source: f for f in idx.files()}
    assert files["news/pages/valley_post.htm"].outlet == "Valley Post"
    assert files["news/exports/articles.jsonl#hv-102"].path == str(folder / "exports" / "articles.jsonl")
    for source in added:
        stored = idx.text_of(source)
        for chunk in idx.chunks_of(source):
            if source.endswith(".txt"):
                raw = (tmp_path / source).read_bytes().decode("utf-16")
                assert chunk.text == raw[chunk.start : chunk.end]
                assert stored is None  # a text file is its own text
            else:  # citations point into the extracted text the index keeps
                assert stored is not None and chunk.text == stored[chunk.start : chunk.end]
    assert "We use cookies" not in idx.text_of("news/pages/valley_post.htm")


def test_search_cites_the_extracted_page_text(shared_embedder, folder, tmp_path):
    assert run("ingest", str(folder / "pages"), "--index", str(tmp_path / "idx")).exit_code == 0
    result = run("search", "How many vessels were anchored offshore?", "--k", "1", "--json", "--index", str(tmp_path / "idx"))
    (hit,) = json.loads(result.stdout)
    assert hit["source"] == "news/pages/northern_wire.html" and hit["outlet"] == "Northern Wire"
    assert "leaving 11 vessels anchored offshore" in hit["text"]


def test_reingest_skips_unchanged_records_and_drops_removed_ones(shared_embedder, folder, tmp_path):
    export = folder / "exports" / "articles.jsonl"
    args = ("ingest", str(export), "--index", str(tmp_path / "idx"), "--json")
    run(*args)
    report = json.loads(run(*args).stdout)
    assert report["counts"]["skipped"] == 3 and report["counts"]["added"] == 0
    lines = export.read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[1])
    edited["body"] += " The board will meet again in March."
    export.write_text("\n".join([json.dumps(edited)]) + "\n", encoding="utf-8")  # hv-102 changed, the rest gone
    report = json.loads(run(*args).stdout)
    by_status = {(f["source"].split("#")[1], f["status"]) for f in report["files"]}
    assert by_status == {("hv-102", "updated"), ("hv-101", "pruned"), ("hv-104", "pruned")}
    assert report["total_chunks"] == len(open_index(Settings(index_dir=tmp_path / "idx"), embedding_info(shared_embedder)))


def test_a_second_ingest_waits_for_the_first(shared_embedder, seeds, tmp_path):
    """A cron job and a user: the second waits, says so, then applies its files on top."""
    index = tmp_path / "idx"
    run("ingest", str(seeds / "000_5b9d689dbf11e4c1.txt"), "--index", str(index))
    other = tmp_path / "later.txt"
    other.write_text("Late news\n\nThe harbour reopened on Tuesday after the strike ended, officials said.\n")
    command = [sys.executable, "-m", "rag", "ingest", str(other), "--index", str(index), "--embed-backend", "torch"]
    with WriteLock(index):  # the first ingest, still writing
        refused = subprocess.run([*command, "--no-wait"], capture_output=True, text=True, timeout=300)
        waiting = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first_line = waiting.stderr.readline()  # blocks until it says it waits
        time.sleep(1)
        assert waiting.poll() is None  # still waiting while the lock is held
    stdout, stderr = waiting.communicate(timeout=300)
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: another `rag ingest` is writing")
    assert "run again without --no-wait to wait for it" in refused.stderr
    assert first_line.startswith("Waiting: another `rag ingest` is writing")
    assert waiting.returncode == 0, stderr
    assert "1 added" in stdout
    files = {f.source for f in open_index(Settings(index_dir=index), embedding_info(shared_embedder)).files()}
    assert files == {"seeds/000_5b9d689dbf11e4c1.txt", "later.txt"}  # the first's result, plus the second's file


def test_damaged_vectors_are_rebuilt_from_the_chunk_table(shared_embedder, seeds, tmp_path):
    index = tmp_path / "idx"
    run("ingest", str(seeds), "--index", str(index))
    before = json.loads(run("search", "Lachin checkpoint", "--json", "--index", str(index)).stdout)
    vectors = index / read_manifest(index).generation / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])  # truncated, as after a full disk
    result = run("search", "Lachin checkpoint", "--json", "--index", str(index))
    assert result.exit_code == 0
    assert result.stderr.startswith("Notice: gen-") and "vectors.faiss was damaged; rebuilt it from the chunk table" in result.stderr
    assert json.loads(result.stdout) == before
    again = run("search", "Lachin checkpoint", "--json", "--index", str(index))  # repaired on disk
    assert again.stderr == "" and json.loads(again.stdout) == before


def test_damaged_chunk_table_says_reingest_without_internals(shared_embedder, seeds, tmp_path):
    index = tmp_path / "idx"
    run("ingest", str(seeds), "--index", str(index))
    table = index / read_manifest(index).generation / "chunks.sqlite"
    table.write_bytes(b"garbage" * 100)
    result = run("search", "Blinken", "--index", str(index))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: the index at {index} is unreadable: its chunk table "
        f"({read_manifest(index).generation}/chunks.sqlite) is damaged; re-ingest with `rag ingest PATH --rebuild`\n"
    )


def test_a_duplicate_survives_its_original(shared_embedder, tmp_path):
    """Renamed (copy, then --prune) or edited originals: the copy is indexed on its own, never lost."""
    folder = tmp_path / "news"
    folder.mkdir()
    text = "Harbour reopens\n\nThe harbour reopened on Tuesday after the strike ended, officials said.\n"
    (folder / "a.txt").write_text(text)
    (folder / "b.txt").write_text(text)
    index = str(tmp_path / "idx")
    first = json.loads(run("ingest", str(folder), "--index", index, "--json").stdout)
    assert {f["source"]: f["status"] for f in first["files"]} == {"news/a.txt": "added", "news/b.txt": "duplicate"}
    (folder / "a.txt").write_text("Other news\n\nThe ferry timetable changes on Monday, the operator said.\n")
    second = json.loads(run("ingest", str(folder), "--index", index, "--json").stdout)
    statuses = {f["source"]: (f["status"], f["detail"]) for f in second["files"]}
    assert statuses["news/b.txt"] == ("updated", "indexed on its own: news/a.txt changed or went")
    (folder / "a.txt").unlink()  # and now the original is gone altogether
    run("ingest", str(folder), "--index", index, "--prune")
    idx = open_index(Settings(index_dir=tmp_path / "idx"), embedding_info(shared_embedder))
    assert [c.text for c in idx.chunks_of("news/b.txt")] == [text.strip()]
    hits = json.loads(run("search", "harbour reopened", "--json", "--index", index).stdout)
    assert hits[0]["source"] == "news/b.txt"


def test_an_export_with_a_bad_line_keeps_what_was_indexed(shared_embedder, folder, tmp_path):
    export = folder / "exports" / "articles.jsonl"
    good = [line for n, line in enumerate(export.read_text(encoding="utf-8").splitlines(), 1) if n != 3]
    export.write_text("\n".join(good) + "\n", encoding="utf-8")
    index = str(tmp_path / "idx")
    assert run("ingest", str(export), "--index", index).exit_code == 0
    export.write_text(good[0] + "\n{broken\n", encoding="utf-8")  # hv-102 and hv-104 unreadable now
    report = json.loads(run("ingest", str(export), "--index", index, "--json").stdout)
    assert report["counts"]["pruned"] == 0 and report["counts"]["failed"] == 1
    sources = {f.source for f in open_index(Settings(index_dir=tmp_path / "idx"), embedding_info(shared_embedder)).files()}
    assert sources == {f"news/exports/articles.jsonl#hv-10{i}" for i in (1, 2, 4)}
