import pytest

from rag.errors import ModelNotFound
from rag.models import find_model, load_catalogue, local_parts, parse_catalogue


def test_catalogue_has_one_default_and_an_embedder():
    specs = load_catalogue()
    assert [s.role for s in specs].count("default") == 1
    assert find_model("embedding", specs).name == "all-minilm-l6-v2"
    assert find_model("default", specs).sha256 == (
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    )


def test_parts_resolve_to_installed_files():
    spec = find_model("qwen2.5-coder-1.5b", load_catalogue())
    parts = local_parts(spec)
    assert len(parts) == 22
    assert parts[0].name == "part01.bin" and parts[-1].name == "part22.bin"
    assert sum(p.stat().st_size for p in parts) == spec.size


@pytest.mark.parametrize(
    "line, message",
    [
        ("x default f.gguf - 1 2", "expected 8 fields"),
        ("x boss f.gguf - 1 2 MIT pypi:a==1/b", "unknown role"),
    ],
)
def test_malformed_catalogue_lines(line, message):
    with pytest.raises(ModelNotFound, match=message):
        parse_catalogue("# comment\n" + line)


def test_unknown_model_names_known_ones():
    with pytest.raises(ModelNotFound, match="known: all-minilm-l6-v2"):
        find_model("gpt-9", load_catalogue())
