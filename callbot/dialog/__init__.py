"""The dialog engine: call flows written in YAML by ops, French NLU, and the state machine that turns the
caller's turns into actions (say, listen, transfer, call back, hang up).

Names are imported on first use: importing `callbot.dialog.actions` (as the audio side does) must not pay
for pydantic, the YAML loader and the NLU.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callbot.dialog.conversation import CallbackTimeCheck, Conversation, QueueCheck, QueueUnavailable
    from callbot.dialog.flow import Flow, check_flow, flow_check_main, load_flow
    from callbot.dialog.issues import FlowError, FlowIssue

_LAZY: dict[str, str] = {
    "CallbackTimeCheck": "callbot.dialog.conversation",
    "Conversation": "callbot.dialog.conversation",
    "QueueCheck": "callbot.dialog.conversation",
    "QueueUnavailable": "callbot.dialog.conversation",
    "Flow": "callbot.dialog.flow",
    "check_flow": "callbot.dialog.flow",
    "flow_check_main": "callbot.dialog.flow",
    "load_flow": "callbot.dialog.flow",
    "FlowError": "callbot.dialog.issues",
    "FlowIssue": "callbot.dialog.issues",
}

__all__ = [
    "CallbackTimeCheck",
    "Conversation",
    "Flow",
    "FlowError",
    "FlowIssue",
    "QueueCheck",
    "QueueUnavailable",
    "check_flow",
    "default_flow_path",
    "flow_check_main",
    "load_flow",
]


def default_flow_path() -> Path:
    """The retail flow shipped with the package (callbot/flows/retail.yaml)."""
    return Path(__file__).resolve().parent.parent / "flows" / "retail.yaml"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'callbot.dialog' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
