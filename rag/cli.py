"""The `rag` command line: parse options -> one library call -> render.

Heavy libraries (torch, faiss, llama_cpp) are imported inside the commands, so `rag --help`
starts instantly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from .cli_models import models_app
from .config import DEFAULT_INDEX_DIR, SHORT_SECTION_CAPS, Settings
from .errors import RagError, UsageError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from .embed import Embedder
    from .generate import Generator
    from .index import Index
    from .records import FileOutcome
    from .stories import Outlets

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Ask questions about a collection of news articles, offline, with every claim cited.",
)
out = Console()
err = Console(stderr=True)

IndexOpt = Annotated[
    Path,
    typer.Option(
        "--index",
        envvar="RAG_INDEX",
        help="Index directory (default ./.rag, or $RAG_INDEX).",
        file_okay=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
LlmUrlOpt = Annotated[
    str | None,
    typer.Option("--llm-url", envvar="RAG_LLM_URL", help="Use an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1."),
]


def fail(error: RagError) -> NoReturn:
    err.print(f"[bold red]Error:[/] {escape(str(error))}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(error.exit_code)


@contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner on a terminal; nothing when output is piped."""
    if err.is_terminal:
        with err.status(message):
            yield
    else:
        yield


EmbedUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--embed-url", envvar="RAG_EMBED_URL",
        help="Embed with an OpenAI-compatible /v1/embeddings server, e.g. http://127.0.0.1:8080/v1 "
        "(an index built this way keeps using it).",
    ),
]


class EmbedBackend(StrEnum):
    auto = "auto"
    torch = "torch"
    onnx = "onnx"


EmbedBackendOpt = Annotated[
    EmbedBackend,
    typer.Option(
        "--embed-backend",
        help="Embedding runtime: onnx (int8, faster), torch, or auto (the index's own; onnx for a new index).",
    ),
]


def _embedder(settings: Settings, fresh: bool = False) -> Embedder:
    """The embedder an index was built with (or, for a new index, the best one installed)."""
    from .embed import choose_backend, load_embedder
    from .models import default_models_dir

    backend, url = choose_backend(settings.index_dir, settings.embed_backend, settings.embed_url, fresh)
    label = f"the embedding server at {url}" if url else f"the embedding model ({backend})"
    with status(f"Loading {label}…"):
        cache = (settings.models_dir or default_models_dir()) / "onnx"
        return load_embedder(settings.embedding_model, backend, url, cache)


def _open_index(settings: Settings) -> tuple[Embedder, Index]:
    """The embedder and the index it matches; a repaired index says so on stderr."""
    from .index import open_index
    from .update import embedding_info

    embedder = _embedder(settings)
    idx = open_index(settings, embedding_info(embedder))
    for notice in idx.notices:
        err.print(f"[yellow]Notice:[/] {notice}", highlight=False)
    return embedder, idx


def _outlets(path: Path | None) -> Outlets:
    """Outlet groups from --outlets, else from ./outlets.toml when there is one, else none."""
    from .stories import load_outlets

    default = Path("outlets.toml")
    return load_outlets(path or (default if default.is_file() else None))


def _generator(model: str, settings: Settings, llm_url: str | None) -> Generator:
    """The LLM: a local GGUF (assembled into the cache on first use) or an OpenAI-compatible server."""
    from .generate import open_generator
    from .models import default_models_dir

    with _progress("Assembling model") as on_progress, status(f"Loading {model}…"):
        return open_generator(model, settings.models_dir or default_models_dir(), llm_url, on_progress)


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Article files or folders (folders recursively): .txt/.md, saved web pages "
            "(.html/.htm), exports (.jsonl/.json/.csv, one article per record).",
            exists=True,
        ),
    ],
    index: IndexOpt = DEFAULT_INDEX_DIR,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Ignore the existing index and build a new one.")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Drop indexed files that no longer exist on disk.")
    ] = False,
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            help="Field names of JSONL/JSON/CSV records, e.g. title=headline,date=published_at,"
            "outlet=source,text=body,id=uuid (default: common names such as title, date, text, body).",
        ),
    ] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Fail at once if another ingest is writing the index, instead of waiting.")
    ] = False,
    embed_backend: EmbedBackendOpt = EmbedBackend.auto,
    embed_url: EmbedUrlOpt = None,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", min=1, help="Refuse files larger than this many bytes.")
    ] = Settings.max_file_bytes,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every file, not only problems.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add articles to the index (unchanged files are skipped; every file not ingested is named).

    Example: rag ingest seeds/ --index .rag
    """
    from . import render
    from .formats import parse_fields
    from .update import ingest as run_ingest

    settings = Settings(
        index_dir=index, max_file_bytes=max_bytes, embed_backend=embed_backend.value, embed_url=embed_url
    )

    def on_file(outcome: FileOutcome) -> None:
        if verbose or outcome.status in ("failed", "duplicate", "pruned"):
            render.file_outcome(err, outcome)

    def on_wait() -> None:
        err.print(
            f"[yellow]Waiting:[/] another `rag ingest` is writing {index}; this one goes on when it "
            "is done (--no-wait to fail instead)",
            highlight=False,
        )

    try:
        mapping = parse_fields(fields)
        embedder = _embedder(settings, fresh=rebuild)
        with _bars(("Reading", "files"), ("Embedding", "chunks")) as (on_read, on_progress):
            report = run_ingest(
                paths,
                settings,
                embedder,
                base=Path.cwd(),
                rebuild=rebuild,
                prune=prune,
                fields=mapping,
                wait=not no_wait,
                on_wait=on_wait,
                on_file=on_file,
                on_read=on_read,
                on_progress=on_progress,
            )
    except RagError as e:
        fail(e)
    if not report.outcomes:
        fail(RagError(f"no files found in {', '.join(map(str, paths))}"))
    if as_json:
        render.print_json(out, render.ingest_json(report))
    else:
        render.ingest_summary(out, report)
    raise typer.Exit(1 if report.failed else 0)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal; a no-op callback otherwise."""
    with _bars((label, "")) as (update,):
        yield update


@contextmanager
def _bars(*stages: tuple[str, str]) -> Iterator[list[Callable[[int, int], None] | None]]:
    """One progress bar per (label, unit) stage in one live display on stderr (a rate per second
    when the unit is given, and an ETA); no-op callbacks when stderr is not a terminal."""
    if not err.is_terminal:
        yield [None] * len(stages)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task):
            unit = task.fields.get("unit")
            return Text(f"{task.speed:,.0f} {unit}/s" if unit and task.speed else "", style="cyan")

    with Progress(
        "[bold]{task.description}", BarColumn(), MofNCompleteColumn(), Rate(), TimeRemainingColumn(),
        console=err, transient=True,
    ) as bar:
        callbacks: list[Callable[[int, int], None] | None] = []
        for label, unit in stages:
            task = bar.add_task(label, total=None, unit=unit, visible=False)

            def update(done: int, total: int, task: TaskID = task) -> None:
                bar.update(task, completed=done, total=total, visible=True)

            callbacks.append(update)
        yield callbacks


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=1000, help="How many passages.")] = 5,
    index: IndexOpt = DEFAULT_INDEX_DIR,
    embed_url: EmbedUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the passages that best match QUERY (hybrid: embeddings + BM25).

    Example: rag search "checkpoint on the Lachin corridor" --k 3
    """
    from . import render
    from .retrieve import search as run_search

    settings = Settings(index_dir=index, embed_url=embed_url)
    try:
        embedder, idx = _open_index(settings)
        hits = run_search(idx, embedder, query, k, settings)
    except RagError as e:
        fail(e)
    if as_json:
        render.print_json(out, [h.to_json() for h in hits])
    else:
        render.hits(out, query, hits)


ModelOpt = Annotated[
    str,
    typer.Option(
        "--model", "-m", envvar="RAG_MODEL",
        help="LLM: a models.txt name or role (default, fast, test) or a path to a .gguf file.",
    ),
]


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in plain words.")],
    index: IndexOpt = DEFAULT_INDEX_DIR,
    embed_url: EmbedUrlOpt = None,
    model: ModelOpt = "default",
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=20, help="Passages given to the model.")] = Settings.answer_k,
    as_json: JsonOpt = False,
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Do not show the draft while it is generated.")] = False,
    show_unsupported: Annotated[
        bool, typer.Option("--show-unsupported", help="Keep sentences no passage supports, marked [?].")
    ] = False,
    llm_url: LlmUrlOpt = None,
) -> None:
    """Answer QUESTION from the indexed articles, citing a passage for every sentence.

    Example: rag ask "What did Blinken tell Aliyev about the Lachin checkpoint?"
    """
    from . import render
    from .answer import ask as run_ask

    settings = Settings(index_dir=index, embed_url=embed_url)
    try:
        embedder, idx = _open_index(settings)
        generator = _generator(model, settings, llm_url)
        with _draft(not (no_stream or as_json)) as on_token:
            result = run_ask(question, idx, embedder, generator, settings, k, show_unsupported, on_token)
    except RagError as e:
        fail(e)
    if as_json:
        render.print_json(out, result.to_json())
    else:
        render.answer(out, result)


class Format(StrEnum):
    text = "text"
    md = "md"
    html = "html"


class Length(StrEnum):
    short = "short"
    full = "full"


@app.command()
def stories(
    index: IndexOpt = DEFAULT_INDEX_DIR,
    outlets: Annotated[
        Path | None,
        typer.Option(
            "--outlets", exists=True, dir_okay=False,
            help="Outlet groups (TOML: [outlets.\"NAME\"] group = \"...\", display = \"...\"); "
            "default ./outlets.toml if there is one.",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only stories with an article on or after this date (YYYY-MM-DD).")
    ] = None,
    min_articles: Annotated[int, typer.Option("--min-articles", min=1, help="Only stories with at least N articles.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Group the indexed articles into stories: the same event, with its dates, the outlets (or
    outlet groups) that covered it, and a one-sided flag when a single group did.

    Example: rag stories --outlets outlets.toml --min-articles 2
    """
    import datetime as dt

    from . import render
    from .index import open_index
    from .stories import index_stories

    settings = Settings(index_dir=index)
    if since is not None:
        try:
            dt.date.fromisoformat(since)
        except ValueError:
            fail(UsageError(f"--since must be a date such as 2025-03-01, not {since!r}"))
    try:
        groups = _outlets(outlets)
        idx = open_index(settings, None)  # reads what ingest stored: no model needed
        found = index_stories(idx, settings.stories, groups)
    except RagError as e:
        fail(e)
    found = [s for s in found if len(s.sources) >= min_articles and (since is None or (s.last or "") >= since)]
    if as_json:
        render.print_json(out, [s.to_json() for s in found])
    else:
        render.stories(out, found, grouped=bool(groups.groups))


@app.command()
def summarize(
    topic: Annotated[str | None, typer.Option("--topic", "-t", help="Only what the articles say about this.")] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Summarize only this indexed file (repeatable).")
    ] = None,
    story: Annotated[
        str | None,
        typer.Option("--story", help="Summarize one story (an id from `rag stories`). Default: the only story, "
                     "or the largest when the index holds several."),
    ] = None,
    index: IndexOpt = DEFAULT_INDEX_DIR,
    embed_url: EmbedUrlOpt = None,
    model: ModelOpt = "default",
    as_json: JsonOpt = False,
    fmt: Annotated[Format, typer.Option(
        "--format", help="text (colored on a terminal), md (Markdown) or html (one self-contained page: "
        "each citation links to its article with the cited span highlighted).")] = Format.text,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, help="Write the md or html to this file instead of the terminal.")] = None,
    outlets: Annotated[Path | None, typer.Option(
        "--outlets", exists=True, dir_okay=False,
        help="Outlet groups for the html coverage bar (as for `rag stories`); default ./outlets.toml if there is one.")] = None,
    length: Annotated[
        Length, typer.Option("--length", help="short (about 5 sentences, an editor's roundup) or full.")
    ] = Length.full,
    llm_url: LlmUrlOpt = None,
) -> None:
    """A neutral summary of what the indexed articles report: what they agree on, where their
    accounts differ (each side attributed), and what only one reports. Every sentence is cited.

    Example: rag summarize --topic "Lachin checkpoint" --format html -o summary.html
    """
    from . import render
    from .index import atomic_write_text
    from .page import summary_page
    from .stories import Outlets, index_stories
    from .summarize import summarize as run_summarize

    if output is not None and (as_json or fmt is Format.text):
        fail(UsageError("--output writes a page or a document: add --format html or --format md"))
    caps = SHORT_SECTION_CAPS if length is Length.short else Settings.section_caps
    settings = Settings(index_dir=index, embed_url=embed_url, section_caps=caps)
    try:
        groups = _outlets(outlets) if fmt is Format.html else Outlets()  # only the page's bar uses them
        embedder, idx = _open_index(settings)
        if story or not (source or topic):
            found = index_stories(idx, settings.stories)
            if story:
                chosen = [s for s in found if s.id == story]
                if not chosen:
                    raise UsageError(f"no story {story} in {index}; `rag stories` lists them")
                source = chosen[0].sources
            elif len(found) > 1:  # one summary must not mix events
                source = found[0].sources
                others = ", ".join(f"{s.id} ({s.label}, {len(s.sources)})" for s in found[1:6])
                more = f" and {len(found) - 6} more" if len(found) > 6 else ""
                err.print(
                    f"[yellow]Notice:[/] the index holds {len(found)} stories; summarizing the largest, "
                    f"{found[0].id} ({escape(found[0].label)}, {len(found[0].sources)} articles). "
                    f"Others: {escape(others)}{more}. Choose one with --story ID.",
                    highlight=False, soft_wrap=True,
                )
        generator = _generator(model, settings, llm_url)
        with _progress("Writing") as on_step:
            result = run_summarize(idx, embedder, generator, settings, topic, source, on_step)
        documents = {s["source"]: idx.document(s["source"]) for s in result.sources} if fmt is Format.html else {}
    except RagError as e:
        fail(e)
    if as_json:
        render.print_json(out, result.to_json())
        return
    if fmt is Format.text:
        render.summary(out, result)
        return
    page = summary_page(result, documents, groups.group_of) if fmt is Format.html else render.summary_markdown(result)
    if output is None:
        out.file.write(page)
        return
    try:
        atomic_write_text(output, page)
    except OSError as e:
        fail(UsageError(f"cannot write {output}: {e.strerror or e}"))
    err.print(f"[green]Wrote[/] {escape(str(output))}", highlight=False, soft_wrap=True)


@app.command("eval")
def eval_(
    sets: Annotated[
        list[Path] | None,
        typer.Option("--set", help="Evaluation set(s) (JSONL; default: every eval/*.jsonl).", exists=True, dir_okay=False),
    ] = None,
    model: ModelOpt = "default",
    k: Annotated[int | None, typer.Option("--k", "-k", min=1, max=20, help="Passages given to the model.")] = None,
    as_json: JsonOpt = False,
    out_dir: Annotated[Path, typer.Option("--out", help="Where eval.json, report.md and metrics.png go.", file_okay=False)] = Path("eval-out"),
    compare: Annotated[
        Path | None, typer.Option("--compare", help="A previous eval.json: show what changed.", exists=True, dir_okay=False)
    ] = None,
    only: Annotated[str | None, typer.Option("--only", help="Run only 'questions' or 'summaries'.")] = None,
    corpus: Annotated[str | None, typer.Option("--corpus", help="Run only items over this corpus, e.g. seeds.")] = None,
    split: Annotated[str | None, typer.Option(
        "--split", help="Run only the 'dev' questions (tune on them) or the held-out 'test' ones.")] = None,
    embed_backend: EmbedBackendOpt = EmbedBackend.auto,
    llm_url: LlmUrlOpt = None,
) -> None:
    """Run an evaluation set through the real pipeline and score citations, answers, abstention
    and summaries. Prints a table; writes eval.json, report.md and metrics.png into --out.

    Example: rag eval --set eval/questions.jsonl --corpus seeds
    """
    import json

    from . import render, report
    from .evaluate import aggregate, aggregate_summaries, by_category, load_set, run_questions, run_summaries

    if split not in (None, "dev", "test"):
        fail(UsageError(f"--split must be 'dev' or 'test', not {split!r}"))
    if only not in (None, "questions", "summaries"):
        fail(UsageError(f"--only must be 'questions' or 'summaries', not {only!r}"))
    root = Path.cwd()
    paths = sets or sorted((root / "eval").glob("*.jsonl"))
    if not paths:
        fail(UsageError("no evaluation set: pass --set FILE or run from the repository (eval/*.jsonl)"))
    settings = Settings()
    try:
        questions, summaries = [], []
        for p in paths:
            qs, ss = load_set(p, root)
            questions += [q for q in qs if corpus in (None, q.corpus) and split in (None, q.split)]
            summaries += [s for s in ss if corpus in (None, s.corpus)]
        if only == "summaries":
            questions = []
        if only == "questions":
            summaries = []
        previous = json.loads(compare.read_text(encoding="utf-8"))["metrics"] if compare else None
        # the eval builds its own indexes: the backend a new index gets, or the one asked for
        embedder = _embedder(replace(settings, embed_backend=embed_backend.value, index_dir=out_dir / "indexes"), fresh=True)
        generator = _generator(model, settings, llm_url)
        cache = out_dir / "indexes"
        with _progress("Questions") as on_step:
            results = run_questions(questions, root, cache, embedder, generator, settings, k, on_step)
        with _progress("Summaries") as on_step:
            summary_rows = run_summaries(summaries, root, cache, embedder, generator, settings, on_step)
    except (RagError, json.JSONDecodeError, KeyError) as e:
        fail(e if isinstance(e, RagError) else UsageError(f"--compare: not an eval.json ({e})"))
    metrics = {**(aggregate(results) if results else {}), **aggregate_summaries(summary_rows)}
    run = {
        "model": generator.name, "sets": [str(p) for p in paths], "split": split or "all",
        "k": k or settings.answer_k, "metrics": metrics,
        "by_category": by_category(results),
        "questions": [{"id": r.item.id, "split": r.item.split, "question": r.item.question, "category": r.item.category,
                       "answerable": r.item.answerable, "answer": r.answer["answer"],
                       "citations": r.answer["citations"], "notes": r.answer["notes"],
                       "timings": r.answer["timings"], "scores": r.scores}
                      for r in results],
        "summaries": summary_rows,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "eval.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(report.markdown(run, previous), encoding="utf-8")
    report.chart(metrics, out_dir / "metrics.png", f"rag eval: {generator.name}")
    if as_json:
        render.print_json(out, run)
    else:
        render.eval_table(out, report.table_rows(metrics, previous), generator.name, out_dir)


@contextmanager
def _draft(enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """Stream the model's draft on a terminal; it is replaced by the verified answer."""
    if not (enabled and out.is_terminal):
        with status("Thinking…"):
            yield None
        return
    from rich.live import Live
    from rich.text import Text

    draft = Text(style="dim")
    with Live(draft, console=out, transient=True, refresh_per_second=12) as live:

        def on_token(piece: str) -> None:
            draft.append(piece)
            live.update(draft)

        yield on_token


app.add_typer(models_app, name="models")


def main() -> None:  # pragma: no cover - entry point for `python -m rag`
    try:
        app()
    except KeyboardInterrupt:
        err.print("Interrupted; the index is unchanged unless the run had finished.")
        sys.exit(130)
