"""--llm-url against a real OpenAI-compatible server: llama.cpp's, started on loopback by the test."""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.generate import OpenAIServerGenerator
from rag.models import find_model, load_catalogue, local_parts
from rag.prompts import fill, load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    (model,) = local_parts(find_model("test", load_catalogue()))
    port = free_port()
    # A file, not a pipe: the server logs a lot, and an unread pipe would block it.
    log = tmp_path_factory.mktemp("server") / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError(f"llama_cpp.server did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_server_generation_honours_the_grammar(server_url):
    gen = OpenAIServerGenerator(server_url)
    grammar = fill(load("answer.gbnf"), ids='"1" | "2"', root='"NOT IN SOURCES" | answer')
    messages = [{"role": "user", "content": "Passages:\n\n[1] The sky is blue.\n\n[2] Grass is green.\n\n"
                 "Question: What colour is grass?"}]
    pieces: list[str] = []
    completion = gen.complete(messages, grammar, 100, pieces.append)
    assert "".join(pieces) == completion.text and completion.text
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", completion.text)}
    assert completion.text.startswith("NOT IN SOURCES") or (cited and cited <= {1, 2})


def test_server_judgement_is_a_constrained_yes_or_no(server_url):
    gen = OpenAIServerGenerator(server_url)
    messages = [{"role": "user", "content": "[1] Grass is green.\n\nQuestion: What colour is grass?\n\n"
                 "Is the answer to the question stated in sentence [1]? Reply yes or no."}]
    assert gen.judge(messages) in (0.0, 1.0)


def test_cli_ask_through_the_server(shared_embedder, seeds, server_url):
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(seeds)]).exit_code == 0
    result = runner.invoke(app, ["ask", "Where will most of the talks take place?", "--json",
                                 "--llm-url", server_url])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"].endswith(server_url)
    assert data["abstained"] or all(s["supported"] for s in data["sentences"])


def test_unreachable_server_is_a_one_line_error(shared_embedder, seeds):
    runner = CliRunner()
    runner.invoke(app, ["ingest", str(seeds)])
    result = runner.invoke(app, ["ask", "Where will the talks take place?", "--llm-url",
                                 f"http://127.0.0.1:{free_port()}/v1"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the LLM server at http://127.0.0.1:") and "Traceback" not in result.stderr
