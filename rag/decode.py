"""Greedy decoding under a GBNF grammar that asks the grammar only about the token it picks.

llama-cpp-python's sampler chain runs the grammar over all ~150k vocabulary entries at every
step, which takes about 40 % of generation time on 2 cores. At temperature 0 the answer is the
highest-scoring token the grammar allows, so it is enough to take the argmax, ask the grammar
about that one token, and mask the whole vocabulary only when it is refused (llama.cpp's own
`common_sampler` does the same). The tokens are exactly those of the full check; the prompt is
built with the chat template from the model file, as `Llama.create_chat_completion` builds it.
"""

from __future__ import annotations

import codecs
import ctypes
import time
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import RagError

# One compiled chat template per loaded model (compiling it takes ~8 ms; Llama does it once too).
_FORMATTERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _formatter(llm: Any) -> Any:
    if llm not in _FORMATTERS:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        model = llm._model
        eos, bos = model.token_eos(), model.token_bos()
        _FORMATTERS[llm] = Jinja2ChatFormatter(
            template=llm.metadata["tokenizer.chat_template"],
            eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
        )
    return _FORMATTERS[llm]


def chat_prompt(llm: Any, messages: list[dict[str, str]]) -> list[int]:
    """The prompt tokens `create_chat_completion` would build from the GGUF's chat template."""
    result = _formatter(llm)(messages=messages)
    return list(llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True))


class _Grammar:
    """A llama.cpp grammar sampler, asked about one token or about the whole vocabulary."""

    def __init__(self, llm: Any, text: str) -> None:
        import llama_cpp

        self._c = llama_cpp
        self.ptr = llama_cpp.llama_sampler_init_grammar(llm._model.vocab, text.encode("utf-8"), b"root")
        if not self.ptr:
            raise RagError("the generation grammar does not parse")
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_array = llama_cpp.llama_token_data_array(self._one, 1, -1, False)
        n_vocab = llm.n_vocab()
        # Same layout as llama_token_data (int id, float logit, float p), so C can write into it.
        self._all = np.zeros(n_vocab, dtype=[("id", np.intc), ("logit", np.single), ("p", np.single)])
        self._all["id"] = np.arange(n_vocab)
        data = ctypes.cast(self._all.ctypes.data, ctypes.POINTER(llama_cpp.llama_token_data))
        self._all_array = llama_cpp.llama_token_data_array(data, n_vocab, -1, False)

    def allows(self, token: int) -> bool:
        self._one[0] = self._c.llama_token_data(token, 0.0, 0.0)
        self._one_array.size, self._one_array.selected = 1, -1
        self._c.llama_sampler_apply(self.ptr, ctypes.byref(self._one_array))
        return bool(np.isfinite(self._one[0].logit))

    def best(self, logits: np.ndarray) -> int:
        self._all["logit"] = logits
        self._all_array.size, self._all_array.selected = len(self._all), -1
        self._c.llama_sampler_apply(self.ptr, ctypes.byref(self._all_array))
        return int(np.argmax(self._all["logit"]))

    def accept(self, token: int) -> None:
        self._c.llama_sampler_accept(self.ptr, token)

    def free(self) -> None:
        self._c.llama_sampler_free(self.ptr)


def _evaluate_prompt(llm: Any, tokens: list[int]) -> None:
    """Evaluate `tokens`, reusing the KV cache for the prefix the previous call shares with them
    (the system prompt, when one process answers many questions), as llama-cpp-python does."""
    shared = 0
    for old, new in zip(llm.input_ids[: llm.n_tokens].tolist(), tokens):
        if old != new:
            break
        shared += 1
    shared = min(shared, len(tokens) - 1)  # the last prompt token is evaluated again for its logits
    if shared > 0 and llm._ctx.kv_cache_seq_rm(-1, shared, -1):
        llm.n_tokens = shared
    else:
        llm.reset()
        shared = 0
    llm.eval(tokens[shared:])


def greedy(
    llm: Any,
    messages: list[dict[str, str]],
    grammar: str | None,
    max_tokens: int,
    on_token: Callable[[str], None] | None = None,
) -> tuple[str, int, int, float]:
    """Generate at temperature 0. Returns (text, prompt tokens, completion tokens, first-token time)."""
    import llama_cpp

    prompt = chat_prompt(llm, messages)
    if len(prompt) + max_tokens > llm.n_ctx():
        raise RagError(f"the prompt ({len(prompt)} tokens) leaves no room to answer in {llm.n_ctx()}")
    rules = _Grammar(llm, grammar) if grammar else None
    vocab, ctx, n_vocab = llm._model.vocab, llm._ctx.ctx, llm.n_vocab()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces: list[str] = []
    first: float | None = None
    n = 0
    try:
        _evaluate_prompt(llm, prompt)
        while n < max_tokens:
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
            token = int(np.argmax(logits))
            if rules is not None:
                if not rules.allows(token):
                    token = rules.best(logits)
                rules.accept(token)
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                break
            n += 1
            first = first or time.perf_counter()
            text = decoder.decode(llm.detokenize([token]))
            if text:
                pieces.append(text)
                if on_token:
                    on_token(text)
            llm.eval([token])
        tail = decoder.decode(b"", final=True)
        if tail:
            pieces.append(tail)
            if on_token:
                on_token(tail)
    finally:
        if rules is not None:
            rules.free()
    return "".join(pieces), len(prompt), n, first or time.perf_counter()


def yes_probability(llm: Any, messages: list[dict[str, str]]) -> tuple[float, int]:
    """p("yes") against p("no") as the assistant's first word: a one-token judgement read from
    the logits, no sampling. The shared prefix (system prompt and question) stays in the KV cache,
    so judging several sentences for one question costs only each sentence's tokens."""
    import llama_cpp

    prompt = chat_prompt(llm, messages)
    _evaluate_prompt(llm, prompt)
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(llm.n_vocab(),))
    yes, no = (_first_tokens(llm, w) for w in (("yes", "Yes", " yes", " Yes"), ("no", "No", " no", " No")))
    top = float(np.max(logits[yes + no]))
    p_yes = float(np.sum(np.exp(logits[yes] - top)))
    p_no = float(np.sum(np.exp(logits[no] - top)))
    return p_yes / (p_yes + p_no), len(prompt)


def _first_tokens(llm: Any, words: tuple[str, ...]) -> list[int]:
    return sorted({llm.tokenize(w.encode("utf-8"), add_bos=False, special=False)[0] for w in words})
