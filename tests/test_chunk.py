from pathlib import Path

import pytest

from rag.chunk import chunk_document
from rag.config import ChunkerSettings
from rag.ingest import InputFile, discover, parse_document, read_document

from .conftest import SEEDS


def words(text: str) -> int:
    return len(text.split())


def doc_of(text: str):
    return parse_document(InputFile(Path("/x.txt"), "x.txt"), text, "0" * 64, "utf-8")


def test_chunk_text_is_exact_slice_and_covers_body():
    text = "Title line\n" + " ".join(f"Sentence number {i} is here." for i in range(40))
    doc = doc_of(text)
    chunks = chunk_document(doc, ChunkerSettings(max_tokens=30, overlap_tokens=10), words)
    assert len(chunks) > 3
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert words(c.text) <= 30
    assert chunks[0].start == doc.body_start and chunks[-1].end == doc.body_end
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end, "consecutive chunks overlap"
        assert b.start > a.start, "packing advances"


def test_no_overlap_when_disabled():
    text = " ".join(f"Sentence {i} ends." for i in range(30))
    chunks = chunk_document(doc_of(text), ChunkerSettings(max_tokens=12, overlap_tokens=0), words)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start >= a.end


@pytest.mark.parametrize("max_tokens", [1, 3, 7])
def test_overlong_sentence_is_split_at_words(max_tokens):
    text = "word " * 50 + "end."
    chunks = chunk_document(doc_of(text), ChunkerSettings(max_tokens=max_tokens, overlap_tokens=2), words)
    assert all(words(c.text) <= max_tokens for c in chunks)
    assert " ".join(c.text for c in chunks if c).count("word") >= 50


def test_overlong_word_is_split_by_characters():
    text = "x" * 500
    chunks = chunk_document(
        doc_of(text), ChunkerSettings(max_tokens=10, overlap_tokens=0), lambda s: len(s) // 10
    )
    assert "".join(c.text for c in chunks) == text
    assert all(len(c.text) // 10 <= 10 for c in chunks)


def test_seed_chunks_fit_the_embedding_model(embedder):
    """Measured with the model's own tokenizer: no chunk is silently truncated."""
    settings = ChunkerSettings()
    assert settings.max_tokens <= embedder.max_tokens
    for item in discover([SEEDS], SEEDS.parent):
        doc = read_document(item, 10**7)
        chunks = chunk_document(doc, settings, embedder.count_tokens)
        assert chunks
        for c in chunks:
            assert c.text == doc.text[c.start : c.end]
            assert embedder.count_tokens(c.text) <= embedder.max_tokens
            # and the model really sees all of it:
            ids = embedder.model.tokenizer(c.text, truncation=False)["input_ids"]
            assert len(ids) <= embedder.model.max_seq_length
