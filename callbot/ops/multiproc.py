"""Where the gateway's processes keep their Prometheus values (see callbot/ops/metrics.py).

Kept apart from the metrics so that `serve` can set the folder before prometheus_client is imported:
the library picks its multiprocess mode once, from the environment, when its first value is made.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_multiprocess_dir(path: Path) -> Path:
    """Start from an empty folder (values of a previous run would be summed in) and point this process
    and the children it starts at it."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None
