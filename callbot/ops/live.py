"""Live calls, shared between the conversation hosts and the HTTP side of `serve`.

Each host writes one small JSON file per call in progress (`<pid>-<call>.json`, replaced atomically,
removed when the call ends); the ops page reads the folder. Files of a host that died are ignored, so a
crash never leaves a ghost call on the page.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from callbot.sip.protocol import call_file_stem


class LiveCallBoard:
    """The folder of live-call files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, call_id: str) -> Path:
        return self.directory / f"{os.getpid()}-{call_file_stem(call_id)}.json"

    def update(self, call_id: str, state: dict[str, Any]) -> None:
        """Write the call's current state (never raises: the page is not worth a call)."""
        path = self._path(call_id)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, path)
        except OSError:
            pass

    def remove(self, call_id: str) -> None:
        with contextlib.suppress(OSError):
            self._path(call_id).unlink(missing_ok=True)

    def calls(self) -> list[dict[str, Any]]:
        """Every call in progress, oldest first."""
        found = [state for _path, state in self._entries(alive=True)]
        return sorted(found, key=lambda call: str(call.get("started_at", "")))

    def orphans(self) -> list[tuple[Path, dict[str, Any]]]:
        """Calls whose conversation host died under them: (file, last known state). The caller removes
        the file once it has dealt with the call (`forget`)."""
        return self._entries(alive=False)

    def forget(self, path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)

    def _entries(self, *, alive: bool) -> list[tuple[Path, dict[str, Any]]]:
        found: list[tuple[Path, dict[str, Any]]] = []
        if not self.directory.is_dir():
            return found
        for path in self.directory.glob("*.json"):
            pid = path.name.partition("-")[0]
            if not pid.isdigit() or process_alive(int(pid)) != alive:
                continue
            with contextlib.suppress(OSError, ValueError):
                found.append((path, json.loads(path.read_text(encoding="utf-8"))))
        return found


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
