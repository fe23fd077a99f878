"""The model manifest: which speech models callbot knows, where they come from, how to check them.

The manifest is data (`models/manifest.yaml` in the source tree) so that ops can add a model without a code
change: entries in `<models dir>/manifest.yaml` add to, or replace, the built-in ones.

Where models live (the *models dir*), first match wins:
1. the `models_dir` argument (the CLI's `--models-dir`);
2. `$CALLBOT_MODELS_DIR`;
3. `<checkout>/models` when callbot runs from a source checkout (the folder that holds the manifest);
4. `~/.local/share/callbot/models`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

ENV_MODELS_DIR = "CALLBOT_MODELS_DIR"
MANIFEST_NAME = "manifest.yaml"
_CHECKOUT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
BUILTIN_MANIFEST = _CHECKOUT_MODELS_DIR / MANIFEST_NAME

Source = Literal["url", "pypi"]
ChecksumOf = Literal["archive", "file", "tree"]


class ModelError(Exception):
    """A model problem explained in one line, with what to do about it."""


@dataclass(frozen=True)
class ModelSpec:
    """One manifest entry."""

    name: str
    engine: str
    language: str
    sample_rate: int
    source: Source
    licence: str
    description: str = ""
    #: Where the model comes from: a download URL (source "url") or the pip requirement(s) (source "pypi").
    url: str | None = None
    pip: tuple[str, ...] = ()
    #: Folder under the models dir that an archive installs into (source "url").
    install_dir: str | None = None
    #: For a model shipped inside a Python package: "<module>/<path inside it>" of the model folder.
    package_dir: str | None = None
    #: For a model split across wheels: the parts (joined in order), the joined file name and other files.
    parts: tuple[str, ...] = ()
    joined_file: str | None = None
    copy_files: tuple[str, ...] = ()
    sha256: str | None = None
    #: What `sha256` is the digest of: the downloaded archive, one model file, or the whole folder.
    sha256_of: ChecksumOf = "archive"
    checksum_note: str = ""
    size_bytes: int | None = None
    approx_size: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pip_command(self) -> str:
        return "pip install " + " ".join(self.pip)


def default_models_dir() -> Path:
    """The models dir when none is given (see the module docstring for the order)."""
    env = os.environ.get(ENV_MODELS_DIR)
    if env:
        return Path(env).expanduser()
    if BUILTIN_MANIFEST.is_file():
        return _CHECKOUT_MODELS_DIR
    return Path.home() / ".local" / "share" / "callbot" / "models"


def resolve_models_dir(models_dir: Path | str | None) -> Path:
    return Path(models_dir).expanduser() if models_dir is not None else default_models_dir()


def load_manifest(models_dir: Path | str | None = None) -> dict[str, ModelSpec]:
    """Built-in manifest overlaid with `<models dir>/manifest.yaml`, keyed by model name, in file order."""
    entries: dict[str, dict[str, Any]] = {}
    sources = [BUILTIN_MANIFEST, resolve_models_dir(models_dir) / MANIFEST_NAME]
    found = False
    for path in dict.fromkeys(p.resolve() for p in sources):
        if path.is_file():
            found = True
            entries.update(_read_entries(path))
    if not found:
        raise ModelError(
            f"no model manifest found (looked for {sources[0]} and {sources[1]}); "
            f"set ${ENV_MODELS_DIR} to a folder holding {MANIFEST_NAME}"
        )
    return {name: _spec(name, raw) for name, raw in entries.items()}


def get_spec(name: str, models_dir: Path | str | None = None) -> ModelSpec:
    manifest = load_manifest(models_dir)
    if name not in manifest:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(manifest)}")
    return manifest[name]


def _read_entries(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc).splitlines()[0]
        raise ModelError(f"{path}: cannot read the model manifest: {reason}") from exc
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise ModelError(f"{path}: a model manifest needs a top-level 'models:' mapping of name → fields")
    for name, raw in models.items():
        if not isinstance(raw, dict):
            raise ModelError(f"{path}: model {name!r} must be a mapping of fields")
    return {str(name): dict(raw) for name, raw in models.items()}


_LIST_FIELDS = {"pip", "parts", "copy_files"}
_KNOWN_FIELDS = set(ModelSpec.__dataclass_fields__) - {"name", "extra"}


def _spec(name: str, raw: dict[str, Any]) -> ModelSpec:
    for required in ("engine", "language", "sample_rate", "source", "licence"):
        if raw.get(required) in (None, ""):
            raise ModelError(f"model {name!r} in the manifest lacks the field {required!r}")
    if raw["source"] not in ("url", "pypi"):
        raise ModelError(f"model {name!r}: source must be 'url' or 'pypi', not {raw['source']!r}")
    if raw["source"] == "url" and not (raw.get("url") and raw.get("install_dir")):
        raise ModelError(f"model {name!r}: a 'url' model needs 'url' and 'install_dir'")
    if raw["source"] == "pypi" and not raw.get("pip"):
        raise ModelError(f"model {name!r}: a 'pypi' model needs 'pip' (the requirement to install)")
    sha = raw.get("sha256")
    if sha is not None and (len(str(sha)) != 64 or not all(c in "0123456789abcdef" for c in str(sha))):
        raise ModelError(f"model {name!r}: sha256 must be 64 lowercase hex digits or null, got {sha!r}")
    known = {}
    for key, value in raw.items():
        if key in _LIST_FIELDS:
            value = tuple(value.split() if isinstance(value, str) else value or ())
        if key in _KNOWN_FIELDS:
            known[key] = value
    extra = {k: v for k, v in raw.items() if k not in _KNOWN_FIELDS}
    known["sample_rate"] = int(raw["sample_rate"])
    known["licence"] = str(raw["licence"])
    return ModelSpec(name=name, extra=extra, **known)
