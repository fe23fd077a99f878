"""Registration to a SIP trunk with digest authentication, against a SIPp registrar on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from callbot.sip.demo import DemoFactory
from callbot.sip.host import HandlerHost
from callbot.sip.testing import (
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


def registrar(port: int) -> list[str]:
    return sipp_args("uas_registrar.xml", remote=None, local_port=port, media_port=free_port_block(8))


@pytest.mark.parametrize(("password", "accepted"), [("s3cret", True), ("wrong", False)])
def test_the_worker_registers_with_the_trunk_answering_the_digest_challenge(
    tmp_path: Path, password: str, accepted: bool
) -> None:
    port = free_port()
    sipp_dir = prepare_sipp_dir(tmp_path / "sipp")
    demo = DemoFactory({})
    with (
        sipp_process(registrar(port), sipp_dir) as uas,
        HandlerHost(short_socket_path("sip-register-test"), demo) as host,
        worker_process(
            host,
            tmp_path / "worker",
            trunk_registrar=f"sip:127.0.0.1:{port}",
            trunk_username="callbot-trunk",
            trunk_password=password,
        ),
    ):
        run = finish_sipp(uas, sipp_dir, timeout=20)
    assert run.returncode == 0, run.errors or run.stdout
    assert run.messages.count("REGISTER sip:127.0.0.1") >= 2, "challenged, then registered again"
    assert ("SIP/2.0 200 OK" in run.messages) is accepted
    assert ("SIP/2.0 403 Forbidden" in run.messages) is not accepted
