"""Real GGUF models through llama-cpp-python: the tiny test model for plumbing."""

import json
import re

from typer.testing import CliRunner

from rag.answer import ask
from rag.cli import app
from rag.prompts import fill, load

QUESTIONS = [
    "Where will most of the talks take place?",
    "What did Aliyev say about the border crossing point?",
    "How many troops did Russia send?",
]


def test_grammar_lets_the_model_cite_only_retrieved_passages(test_llm):
    grammar = fill(load("answer.gbnf"), ids='"1" | "2"', root='"NOT IN SOURCES" | answer')
    messages = [{"role": "user", "content": "Passages:\n\n[1] The sky is blue.\n\n[2] Grass is green.\n\n"
                 "Question: What colour is grass? Cite passages like [1]."}]
    streamed: list[str] = []
    completion = test_llm.complete(messages, grammar, 120, streamed.append)
    assert "".join(streamed) == completion.text
    assert completion.prompt_tokens > 10 and completion.completion_tokens > 0
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", completion.text)}
    assert completion.text.startswith("NOT IN SOURCES") or (cited and cited <= {1, 2})


def test_every_kept_sentence_is_supported(seed_index, embedder, test_llm, tmp_path):
    index, settings = seed_index
    for question in QUESTIONS:
        result = ask(question, index, embedder, test_llm, settings)
        assert result.abstained or all(s.supported and s.citations for s in result.sentences)
        for c in result.citations:
            assert (tmp_path / c.source).read_text()[c.start : c.end] == c.quote
            assert c.score >= settings.min_judged_cosine  # below min_cosine only when judged to state it
        assert set(result.timings) == {"retrieve_ms", "prompt_tokens", "first_token_ms", "generate_ms", "judge_ms",
                                       "total_ms"}


def test_cli_ask_json(shared_embedder, seeds, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(seeds)]).exit_code == 0
    result = runner.invoke(app, ["ask", "Where will most of the talks take place?", "--model", "test", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"question", "answer", "abstained", "sentences", "citations", "model", "timings"}
    assert data["model"] == "smollm2-135m"
    for c in data["citations"]:
        assert set(c) >= {"n", "source", "start", "end", "quote", "title", "outlet", "date", "score"}


def test_cli_ask_with_unknown_model(shared_embedder, seeds):
    runner = CliRunner()
    runner.invoke(app, ["ingest", str(seeds)])
    result = runner.invoke(app, ["ask", "Anything?", "--model", "gpt-9"])
    assert result.exit_code == 1
    assert "Error: no model named 'gpt-9' in models.txt" in result.stderr


def test_cli_ask_without_index(shared_embedder):
    result = CliRunner().invoke(app, ["ask", "Anything?", "--model", "test"])
    assert result.exit_code == 1 and "Error: no index at .rag" in result.stderr
