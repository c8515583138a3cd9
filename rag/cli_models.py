"""`rag models ...`: list, verify and pull the models in models.txt."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .errors import RagError

models_app = typer.Typer(no_args_is_help=True, help="List, verify and download models (models.txt).")
out = Console()
err = Console(stderr=True)


def _fail(e: RagError) -> None:
    err.print(f"[bold red]Error:[/] {e}", highlight=False, soft_wrap=True)
    raise typer.Exit(e.exit_code)


@models_app.command("list")
def list_models(
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")] = False,
) -> None:
    """Show every catalogue model: role, size, and whether it is installed here.

    Example: rag models list
    """
    from .models import default_models_dir, load_catalogue, model_status

    try:
        rows = [model_status(spec, default_models_dir()) for spec in load_catalogue()]
    except RagError as e:
        _fail(e)
    if as_json:
        import json

        data = [
            {"name": r.spec.name, "role": r.spec.role, "installed": r.installed, "size": r.spec.size,
             "ctx": r.spec.ctx, "license": r.spec.license, "source": r.spec.source,
             "path": str(r.path) if r.path else None, "detail": r.detail}
            for r in rows
        ]
        out.file.write(json.dumps(data, indent=2) + "\n")
        return
    table = Table("name", "role", "size", "installed", "where")
    for r in rows:
        size = f"{r.spec.size / 1e9:.2f} GB" if r.spec.size else "-"
        mark = "[green]yes[/]" if r.installed else "[red]no[/]"
        table.add_row(r.spec.name, r.spec.role, size, mark, r.detail)
    out.print(table)


@models_app.command()
def verify(
    name: Annotated[str | None, typer.Argument(help="Model name or role; all installed models if omitted.")] = None,
) -> None:
    """Re-hash model files against the catalogue's sha256 (assembling them if needed).

    Example: rag models verify default
    """
    from .models import default_models_dir, find_model, load_catalogue, model_status, verify_model

    failed = False
    try:
        catalogue = load_catalogue()
        specs = [find_model(name, catalogue)] if name else [
            s for s in catalogue if model_status(s, default_models_dir()).installed
        ]
    except RagError as e:
        _fail(e)
    for spec in specs:
        try:
            out.print(verify_model(spec, default_models_dir()), highlight=False)
        except RagError as e:
            err.print(f"[bold red]FAILED[/] {e}", highlight=False, soft_wrap=True)
            failed = True
    raise typer.Exit(1 if failed else 0)


@models_app.command("pull")
def pull_model(
    name: Annotated[str, typer.Argument(help="Model name from models.txt.")],
) -> None:
    """Download (or assemble) a model into the model cache, resuming and verifying it.

    Example: rag models pull qwen2.5-3b
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    from .models import default_models_dir, find_model, load_catalogue, pull

    try:
        spec = find_model(name, load_catalogue())
        with Progress(
            f"[bold]{spec.name}", BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
            console=err, transient=True, disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task(spec.name, total=spec.size)
            path = pull(spec, default_models_dir(), lambda done, total: bar.update(task, completed=done, total=total))
    except RagError as e:
        _fail(e)
    out.print(f"{spec.name}: verified, at {path}", highlight=False)
