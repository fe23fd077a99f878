"""SIP gateway: pjsua2 worker processes, their call-handler link, the Kamailio front (docs/sip.md).

Only the handler side is imported here; `callbot.sip.worker` (which loads pjsua2) runs in its own process.
"""

from callbot.sip.context import TransferContext
from callbot.sip.host import (
    BaseCallHandler,
    CallControl,
    CallHandler,
    HandlerFactory,
    HandlerHost,
    WorkerLink,
)
from callbot.sip.protocol import (
    AudioIn,
    CallEnded,
    CallStarted,
    DtmfIn,
    OriginateResult,
    PlaybackMark,
    TransferStatus,
)
from callbot.sip.session_adapter import SessionCallHandler, SipChannel

__all__ = [
    "AudioIn",
    "BaseCallHandler",
    "CallControl",
    "CallEnded",
    "CallHandler",
    "CallStarted",
    "DtmfIn",
    "HandlerFactory",
    "HandlerHost",
    "OriginateResult",
    "PlaybackMark",
    "SessionCallHandler",
    "SipChannel",
    "TransferContext",
    "TransferStatus",
    "WorkerLink",
]
