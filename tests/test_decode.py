"""The lazy-grammar greedy decoder gives token for token what llama-cpp-python's full-vocabulary
grammar sampler gives (real GGUF models, real grammars)."""

import pytest
from llama_cpp import LlamaGrammar

from rag.decode import chat_prompt, greedy, yes_probability
from rag.prompts import fill, load

PASSAGES = (
    "[1] (2023-05-01) Blinken held a telephone conversation on Saturday with Prime Minister Nikol "
    "Pashinyan and underscored the importance of Armenia-Azerbaijan peace discussions.\n\n"
    "[2] (Turan; 2023-04-30) According to the press service, Pashinyan told Blinken that the "
    "checkpoint in the Lachin Corridor was illegal. Russia sent 1,960 troops — « peacekeepers » — in 2020."
)
QUESTIONS = ["What did Pashinyan tell Blinken?", "How many troops did Russia send?", "What is the capital of France?"]


def reference(llm, messages, grammar, max_tokens):
    llm.reset()
    out = llm.create_chat_completion(
        messages=messages, temperature=0.0, top_k=1, seed=0, max_tokens=max_tokens,
        grammar=LlamaGrammar.from_string(grammar, verbose=False) if grammar else None,
    )
    return out["choices"][0]["message"]["content"], out["usage"]


def messages_for(question):
    return [
        {"role": "system", "content": load("answer_system.txt").strip()},
        {"role": "user", "content": f"Passages:\n\n{PASSAGES}\n\nQuestion: {question}"},
    ]


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("constrained", [True, False])
def test_same_tokens_as_llama_cpp_python(test_llm, question, constrained):
    llm = test_llm.llm
    grammar = fill(load("answer.gbnf"), ids='"1" | "2"', root='"NOT IN SOURCES" | answer') if constrained else None
    messages = messages_for(question)
    expected, usage = reference(llm, messages, grammar, 80)
    llm.reset()  # both from a cold cache: KV reuse has its own test below
    streamed: list[str] = []
    text, prompt_tokens, n, _ = greedy(llm, messages, grammar, 80, streamed.append)
    assert text == expected
    assert "".join(streamed) == text
    assert (prompt_tokens, n) == (usage["prompt_tokens"], usage["completion_tokens"])


def test_reused_prefix_gives_the_same_answer(test_llm):
    """A second question in the same process reuses the system prompt's KV cache; the answer must
    match a cold start's."""
    llm = test_llm.llm
    grammar = fill(load("answer.gbnf"), ids='"1" | "2"', root='"NOT IN SOURCES" | answer')
    greedy(llm, messages_for(QUESTIONS[0]), grammar, 40)
    warm = greedy(llm, messages_for(QUESTIONS[1]), grammar, 40)
    llm.reset()
    cold = greedy(llm, messages_for(QUESTIONS[1]), grammar, 40)
    assert warm[:3] == cold[:3]


def test_prompt_is_built_from_the_model_chat_template(test_llm):
    llm = test_llm.llm
    tokens = chat_prompt(llm, [{"role": "user", "content": "Hello"}])
    text = llm.detokenize(tokens, special=True).decode()
    assert "Hello" in text and text.rstrip().endswith("assistant")


def test_a_prompt_too_long_for_the_context_is_an_error(test_llm):
    from rag.errors import RagError

    long = [{"role": "user", "content": "word " * 2100}]
    with pytest.raises(RagError, match="leaves no room"):
        greedy(test_llm.llm, long, None, 50)


def test_yes_probability_after_the_answer_prompt_equals_a_cold_start(test_llm):
    """A judgement asked as a follow-up reuses the answer prompt's KV cache; it must read the same
    p(yes) as one computed from scratch."""
    llm = test_llm.llm
    messages = messages_for(QUESTIONS[0])
    judge = [messages[0], {"role": "user", "content": messages[1]["content"] + "\n\nDoes passage [1] answer it? "
                           "Reply yes or no."}]
    greedy(llm, messages, None, 10)
    warm, n = yes_probability(llm, judge)
    llm.reset()
    cold, _ = yes_probability(llm, judge)
    assert 0.0 < warm < 1.0 and n == len(chat_prompt(llm, judge))
    assert warm == pytest.approx(cold, abs=1e-3)
