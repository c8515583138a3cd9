"""Generator protocol, with llama.cpp in-process and OpenAI-compatible server implementations.

Both take chat messages and an optional GBNF grammar, generate at temperature 0, stream tokens
to a callback, and report timings, so the answer pipeline does not care which one it has.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .errors import ModelNotFound, RagError

OnToken = Callable[[str], None]


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    first_token_ms: float  # from the call to the first streamed token (prompt processing)
    generate_ms: float  # the whole call


class Generator(Protocol):
    name: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def complete(
        self,
        messages: list[dict[str, str]],
        grammar: str | None,
        max_tokens: int,
        on_token: OnToken | None = None,
    ) -> Completion: ...

    def judge(self, messages: list[dict[str, str]]) -> float:
        """The probability that the reply to `messages` is "yes" rather than "no"."""
        ...


class LlamaCppGenerator:
    """A GGUF model run in-process by llama-cpp-python."""

    def __init__(self, name: str, path: Path, n_ctx: int, n_threads: int | None = None) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as e:  # pragma: no cover - install problem
            raise ModelNotFound(f"llama-cpp-python is not installed ({e}); run `make install`") from None
        self.name = name
        self.n_ctx = n_ctx
        try:
            self.llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads or max(1, os.cpu_count() or 1),
                seed=0,
                verbose=False,
            )
        except (ValueError, RuntimeError) as e:
            raise ModelNotFound(f"cannot load model {name} from {path}: {e}") from None

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def complete(
        self,
        messages: list[dict[str, str]],
        grammar: str | None,
        max_tokens: int,
        on_token: OnToken | None = None,
    ) -> Completion:
        from .decode import greedy

        started = time.perf_counter()
        text, prompt_tokens, n, first = greedy(self.llm, messages, grammar, max_tokens, on_token)
        ended = time.perf_counter()
        return Completion(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=n,
            first_token_ms=(min(first, ended) - started) * 1000,
            generate_ms=(ended - started) * 1000,
        )


    def judge(self, messages: list[dict[str, str]]) -> float:
        from .decode import yes_probability

        return yes_probability(self.llm, messages)[0]


class OpenAIServerGenerator:
    """An OpenAI-compatible /v1/chat/completions server (llama.cpp's server, vLLM).

    The grammar is sent as `grammar` (llama.cpp) and `guided_grammar` (vLLM); a server that
    ignores both still has its citations checked by the verifier.
    """

    def __init__(self, base_url: str, model: str = "default", n_ctx: int = 4096, timeout: float = 300) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = f"{model}@{self.base_url}"
        self.model = model
        self.n_ctx = n_ctx
        self.timeout = timeout

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)  # subtle: servers differ in tokenizers; a rough bound is enough

    def complete(
        self,
        messages: list[dict[str, str]],
        grammar: str | None,
        max_tokens: int,
        on_token: OnToken | None = None,
    ) -> Completion:
        import urllib.error
        import urllib.request

        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": max_tokens,
            "stream": True,
            "seed": 0,
        }
        if grammar:
            body.update(grammar=grammar, guided_grammar=grammar)
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
        )
        started = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        usage: dict[str, int] = {}
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                for raw in response:
                    line = raw.decode("utf-8").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    event = json.loads(data)
                    usage = event.get("usage") or usage
                    choices = event.get("choices") or [{}]
                    delta = (choices[0].get("delta") or {}).get("content")
                    if delta:
                        first = first or time.perf_counter()
                        pieces.append(delta)
                        if on_token:
                            on_token(delta)
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise RagError(f"the LLM server at {self.base_url} failed: {getattr(e, 'reason', e)}") from None
        ended = time.perf_counter()
        text = "".join(pieces)
        return Completion(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", len(pieces))),
            first_token_ms=((first or ended) - started) * 1000,
            generate_ms=(ended - started) * 1000,
        )


    def judge(self, messages: list[dict[str, str]]) -> float:
        """A server gives no logits through every API: the yes/no reply itself, under a grammar."""
        reply = self.complete(messages, 'root ::= "yes" | "no"', 2).text.strip().lower()
        return 1.0 if reply.startswith("yes") else 0.0


def open_generator(
    model: str,
    models_dir: Path,
    llm_url: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Generator:
    """`model` is a catalogue name or role, or a path to a .gguf file; `llm_url` wins if given."""
    from .models import ensure_gguf, find_model, load_catalogue

    if llm_url:
        return OpenAIServerGenerator(llm_url, model=model)
    path = Path(model).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelNotFound(f"no model file at {path}")
        return LlamaCppGenerator(path.stem, path, n_ctx=4096)
    spec = find_model(model, load_catalogue())
    if spec.role == "embedding":
        raise ModelNotFound(f"{spec.name} is an embedding model, not an LLM")
    return LlamaCppGenerator(spec.name, ensure_gguf(spec, models_dir, on_progress), spec.ctx)
