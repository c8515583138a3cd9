"""The CLI through typer's CliRunner: exit codes, stdout and stderr wording."""

import json
import subprocess
import sys

from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_ingest_then_search_json(shared_embedder, seeds, tmp_path):
    result = run("ingest", str(seeds), "--index", str(tmp_path / "idx"))
    assert result.exit_code == 0, result.stderr
    assert "2 added" in result.stdout and "0 failed" in result.stdout
    result = run("search", "Raufoglu", "--k", "2", "--json", "--index", str(tmp_path / "idx"))
    assert result.exit_code == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 2
    assert {"source", "start", "end", "text", "title", "date", "outlet", "score"} <= set(hits[0])
    assert hits[0]["source"] == "seeds/004_e87519febac53f09.txt"
    text = (tmp_path / hits[0]["source"]).read_text()
    assert text[hits[0]["start"] : hits[0]["end"]] == hits[0]["text"]


def test_index_from_environment(shared_embedder, seeds, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_INDEX", str(tmp_path / "envidx"))
    assert run("ingest", str(seeds)).exit_code == 0
    assert (tmp_path / "envidx" / "manifest.json").exists()
    result = run("search", "Blinken", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)


def test_default_index_is_dot_rag(shared_embedder, seeds, tmp_path):
    assert run("ingest", str(seeds)).exit_code == 0
    assert (tmp_path / ".rag" / "manifest.json").exists()


def test_failed_files_exit_1_and_are_named_on_stderr(shared_embedder, seeds, tmp_path):
    (seeds / "broken.txt").write_bytes(b"\x00\x00")
    (seeds / "blank.md").write_text("   \n")
    result = run("ingest", str(seeds), "--index", str(tmp_path / "idx"))
    assert result.exit_code == 1
    assert "failed seeds/broken.txt: binary file (contains NUL bytes)" in result.stderr
    assert "failed seeds/blank.md: file holds only whitespace" in result.stderr
    assert "2 added" in result.stdout and "2 failed" in result.stdout


def test_ingest_json_report(shared_embedder, seeds, tmp_path):
    result = run("ingest", str(seeds), "--index", str(tmp_path / "idx"), "--json")
    report = json.loads(result.stdout)
    assert report["counts"]["added"] == 2 and report["total_chunks"] > 0
    assert {f["status"] for f in report["files"]} == {"added"}


def test_missing_path_is_a_usage_error():
    result = run("ingest", "no/such/folder")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_folder_without_articles(shared_embedder, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("ingest", str(tmp_path / "empty"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no files found in")
    assert not (tmp_path / ".rag" / "manifest.json").exists()  # nothing was created


def test_search_without_index(shared_embedder, tmp_path):
    result = run("search", "anything", "--index", str(tmp_path / "none"))
    assert result.exit_code == 1
    assert "Error: no index at" in result.stderr and "rag ingest PATH" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_corrupt_index_is_one_line_error(shared_embedder, seeds, tmp_path):
    run("ingest", str(seeds), "--index", str(tmp_path / "idx"))
    (tmp_path / "idx" / "manifest.json").write_text("garbage")
    result = run("search", "Blinken", "--index", str(tmp_path / "idx"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "--rebuild" in result.stderr


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from typer.testing import CliRunner; from rag.cli import app;"
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output;"
        "heavy = [m for m in ('torch', 'faiss', 'llama_cpp', 'sentence_transformers', 'numpy')"
        " if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_option_has_help():
    for command in app.registered_commands:
        result = run(command.name or command.callback.__name__, "--help")
        assert "Example:" in result.stdout
