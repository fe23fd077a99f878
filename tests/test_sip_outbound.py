"""Calls placed by callbot (call-backs): answered, busy, unanswered, undiallable, against SIPp callees."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from callbot.callbacks.dispatcher import DialRequest, DialResult
from callbot.dialog.actions import CallContext
from callbot.sip.demo import DemoFactory
from callbot.sip.dialer import SipDialer
from callbot.sip.host import HandlerHost
from callbot.sip.testing import (
    WorkerHandle,
    finish_sipp,
    free_port,
    free_port_block,
    prepare_sipp_dir,
    short_socket_path,
    sipp_args,
    sipp_process,
    worker_process,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo() -> DemoFactory:
    return DemoFactory({})


@pytest.fixture(scope="module")
def callee_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def host(demo: DemoFactory):
    with HandlerHost(short_socket_path("sip-outbound-test"), demo) as handler_host:
        yield handler_host


@pytest.fixture(scope="module")
def worker(host: HandlerHost, callee_port: int, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("sip-outbound")
    with worker_process(host, work, trunk_uri_template=f"sip:{{number}}@127.0.0.1:{callee_port}") as handle:
        yield handle


@pytest.fixture
def sipp_dir(tmp_path: Path, demo: DemoFactory) -> Path:
    demo.reset()
    return prepare_sipp_dir(tmp_path)


def callee(scenario: str, port: int, extra: tuple[str, ...] = ()) -> list[str]:
    return sipp_args(scenario, remote=None, local_port=port, media_port=free_port_block(8), extra=extra)


def test_a_number_is_dialled_through_the_trunk_and_the_answered_call_reaches_the_handler(
    worker: WorkerHandle, host: HandlerHost, demo: DemoFactory, callee_port: int, sipp_dir: Path
) -> None:
    with sipp_process(callee("uas_answer.xml", callee_port, ("-rtp_echo",)), sipp_dir) as uas:
        time.sleep(0.3)
        result = worker.link.originate(
            "0611223344",
            caller_id="0977665544",
            headers={"X-Callbot-Callback": "rappel-42"},
            metadata={"callback_id": 42},
        ).result(10)
        assert (result.answered, result.status_code) == (True, 200)
        (handler,) = demo.wait_for_calls(1, 5)
        assert handler.started.direction == "outbound"
        assert handler.started.callee == "0611223344"
        assert handler.started.metadata == {"callback_id": 42}
        assert handler.started.call_id == result.call_id
        time.sleep(1.5)
        handler.control.hangup("call-back done")
        assert handler.done.wait(5)
        run = finish_sipp(uas, sipp_dir)
    assert run.returncode == 0, run.errors
    invite = run.messages[run.messages.index("INVITE sip:") :].split("\n\n", 1)[0]
    assert invite.startswith("INVITE sip:0611223344@127.0.0.1:")
    assert "X-Callbot-Callback: rappel-42" in invite
    assert re.search(r"^From: <sip:0977665544@", invite, re.MULTILINE)
    assert handler.ended is not None and handler.ended.reason == "handler hangup: call-back done"
    heard = np.frombuffer(bytes(handler.heard), dtype="<i2").astype(float)
    assert np.sqrt(np.mean(heard**2)) > 300, "the callee's echo of the greeting never came back"


def test_a_busy_callee_is_reported_with_its_sip_status(
    worker: WorkerHandle, demo: DemoFactory, callee_port: int, sipp_dir: Path
) -> None:
    with sipp_process(callee("uas_busy.xml", callee_port), sipp_dir) as uas:
        time.sleep(0.3)
        result = worker.link.originate(f"sip:0611223344@127.0.0.1:{callee_port}").result(10)
        run = finish_sipp(uas, sipp_dir)
    assert (result.answered, result.status_code) == (False, 486)
    assert run.returncode == 0, run.errors
    assert demo.handlers == {}


def test_an_unanswered_call_is_cancelled_after_its_timeout(
    worker: WorkerHandle, demo: DemoFactory, callee_port: int, sipp_dir: Path
) -> None:
    with sipp_process(callee("uas_no_answer.xml", callee_port), sipp_dir) as uas:
        time.sleep(0.3)
        started = time.monotonic()
        result = worker.link.originate("0611223344", timeout_s=1.0).result(10)
        waited = time.monotonic() - started
        run = finish_sipp(uas, sipp_dir)
    assert (result.answered, result.status_code, result.reason) == (False, 408, "no answer")
    assert waited >= 1.0
    assert run.returncode == 0, run.errors  # the callee saw the CANCEL
    assert demo.handlers == {}


@pytest.mark.parametrize("target", ["not a number", "mailto:someone@example.org"])
def test_a_target_the_worker_cannot_dial_is_refused_without_sending_anything(
    worker: WorkerHandle, target: str
) -> None:
    result = worker.link.originate(target).result(5)
    assert (result.answered, result.status_code) == (False, 400)
    assert "cannot dial" in result.reason


def test_the_callback_dialer_holds_until_the_call_is_over_and_reports_failures_with_their_status(
    worker: WorkerHandle, host: HandlerHost, demo: DemoFactory, callee_port: int, sipp_dir: Path
) -> None:
    dialer = SipDialer(host, caller_id="0977665544", answer_timeout_s=5)
    request = DialRequest(
        callback_id=uuid.uuid4(),
        phone="+33611223344",
        queue="service_client",
        queue_uri="sip:service-client@pbx.example",
        attempt=1,
        due_at=datetime.now(UTC),
        caller="+33611223344",
        call_id="inbound-1",
        context=CallContext("+33611223344", "rappel", {"motif": "facture"}, (), "Rappel demandé."),
    )
    with sipp_process(callee("uas_answer.xml", callee_port, ("-rtp_echo",)), sipp_dir) as uas:
        time.sleep(0.3)
        with ThreadPoolExecutor(1) as pool:
            dialling = pool.submit(dialer.dial, request)
            (handler,) = demo.wait_for_calls(1, 5)
            assert handler.started.metadata["callback"] == request
            time.sleep(0.5)
            assert not dialling.done(), "dial() returned while the call was still up"
            handler.control.hangup("rappel effectué")
            answered = dialling.result(10)
        run = finish_sipp(uas, sipp_dir)
    assert answered == DialResult(True, 200, "handler hangup: rappel effectué")
    assert run.returncode == 0, run.errors
    assert f"X-Callbot-Callback: {request.callback_id}" in run.messages

    with sipp_process(callee("uas_busy.xml", callee_port), sipp_dir):
        time.sleep(0.3)
        busy = dialer.dial(request)
    assert busy == DialResult(False, 486, "Busy Here")
