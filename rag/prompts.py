"""Prompt templates from prompts/: `$name` variables (string.Template), checked strictly.

A template that names a variable the caller does not supply, or a caller that supplies one the
template does not use, is an error naming it, so a typo never silently empties a prompt.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from .errors import RagError
from .records import Hit

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"

# Sentences that address an AI system rather than report news; masked before the model sees them.
_INJECTION = re.compile(
    r"(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|preceding)\s+"
    r"(instructions|prompts?|rules|messages)|system\s+prompt|you\s+are\s+now\b|"
    r"(as\s+an?\s+)?(ai|language\s+model|assistant)[,:]?\s+(you\s+must|must|should)\b|"
    r"\b(reply|respond|answer)\s+(only\s+)?with\b",
    re.IGNORECASE,
)
MASK = "[text addressed to an AI system removed]"


def load(name: str, prompts_dir: Path = PROMPTS_DIR) -> str:
    try:
        return (prompts_dir / name).read_text(encoding="utf-8")
    except OSError as e:
        raise RagError(f"cannot read prompt file {prompts_dir / name}: {e.strerror}") from None


def fill(template: str, name: str = "template", **values: str) -> str:
    """Substitute `$var`s; every variable must be supplied and every value used."""
    t = Template(template)
    wanted = {m.group("named") or m.group("braced") for m in t.pattern.finditer(template)} - {None}
    missing = wanted - values.keys()
    if missing:
        raise RagError(f"prompt {name} needs {', '.join(sorted(missing))}, which was not supplied")
    unused = values.keys() - wanted
    if unused:
        raise RagError(f"prompt {name} does not use {', '.join(sorted(unused))}")
    return t.substitute(values)


def is_injection(text: str) -> bool:
    return bool(_INJECTION.search(text))


def label_passage(hit: Hit) -> str:
    """`Passage (outlet; date):` — who published the numbered sentences below it, and when.

    The file name stays out: the user sees it in the Sources list, and on 2 cores its ~15
    tokens a passage cost ~0.2 s of prompt processing each."""
    c = hit.chunk
    about = "; ".join(x for x in (c.outlet, c.date) if x)
    return f"Passage ({about}):" if about else "Passage:"
