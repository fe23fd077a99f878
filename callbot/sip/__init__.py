"""SIP gateway: pjsua2 worker processes, their call-handler link, the Kamailio front (docs/sip.md).

Only the handler side is exported here, and lazily: `python -m callbot.sip.host` and
`python -m callbot.sip.worker` run those modules as `__main__`, and a package that had already imported
them would load them twice (runpy warns about it). `callbot.sip.worker` (which loads pjsua2) runs in its
own process.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TransferContext": "callbot.sip.context",
    "BaseCallHandler": "callbot.sip.host",
    "CallControl": "callbot.sip.host",
    "CallHandler": "callbot.sip.host",
    "HandlerFactory": "callbot.sip.host",
    "HandlerHost": "callbot.sip.host",
    "WorkerLink": "callbot.sip.host",
    "AudioIn": "callbot.sip.protocol",
    "CallEnded": "callbot.sip.protocol",
    "CallStarted": "callbot.sip.protocol",
    "DtmfIn": "callbot.sip.protocol",
    "OriginateResult": "callbot.sip.protocol",
    "PlaybackMark": "callbot.sip.protocol",
    "TransferStatus": "callbot.sip.protocol",
    "SessionCallHandler": "callbot.sip.session_adapter",
    "SipChannel": "callbot.sip.session_adapter",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'callbot.sip' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
