"""SHA-256 of a file and of a whole model folder.

An archive is gone once unpacked, so a folder gets its own digest (`tree_sha256`): that is what lets
`verify` tell whether an installed model still holds the files it was installed with.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20
#: Files callbot writes next to a model (install records, caches): not part of the model's digest.
IGNORED_PREFIXES = (".", "__pycache__")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_files(root: Path) -> list[Path]:
    """Regular files under `root`, sorted by relative path, without callbot's own records."""
    files = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(IGNORED_PREFIXES) for part in relative.parts):
            continue
        if path.is_file():
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def tree_sha256(root: Path) -> str:
    """Digest of a folder: SHA-256 over "relative/path NUL file-sha256 LF" for every file, sorted."""
    digest = hashlib.sha256()
    for path in tree_files(root):
        digest.update(f"{path.relative_to(root).as_posix()}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()
