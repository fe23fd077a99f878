"""The whole SIP side under its supervisor: two workers behind the Kamailio front, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from callbot.sip.demo import DemoFactory
from callbot.sip.fuzz import fuzz
from callbot.sip.host import HandlerHost
from callbot.sip.testing import (
    SCENARIOS,
    finish_sipp,
    free_port,
    free_port_block,
    invite_with_media_lines,
    prepare_sipp_dir,
    run_sipp,
    send_datagrams,
    short_socket_path,
    sip_options,
    sipp_args,
    sipp_media_ports,
    sipp_process,
    stop_process,
)

pytestmark = pytest.mark.slow


class Deployment:
    def __init__(
        self,
        host: HandlerHost,
        demo: DemoFactory,
        process: subprocess.Popen[bytes],
        run_dir: Path,
        front_port: int,
        log: Path,
    ) -> None:
        self.host = host
        self.demo = demo
        self.process = process
        self.run_dir = run_dir
        self.front_port = front_port
        self.log = log

    @property
    def front(self) -> str:
        return f"127.0.0.1:{self.front_port}"

    def status(self) -> dict:
        return json.loads((self.run_dir / "status.json").read_text())

    def restarts(self) -> dict[str, int]:
        return {name: entry["restarts"] for name, entry in self.status().items()}

    def calls(self, cwd: Path, count: int, duration_ms: int) -> list[str]:
        return sipp_args(
            "uac_limit.xml",
            remote=self.front,
            local_port=free_port(),
            media_port=sipp_media_ports(count),
            calls=count,
            rate=50,
            duration_ms=duration_ms,
        )


@contextlib.contextmanager
def supervised(
    work: Path, workers: int, front: dict[str, object] | None = None, **worker: object
) -> Iterator[Deployment]:
    """The supervisor with `workers` workers behind the front (`front`: its settings), calls handled by a
    demo host here; `worker`: settings of every worker."""
    work.mkdir(parents=True, exist_ok=True)
    demo = DemoFactory({})
    front_port = free_port()
    settings = {
        "workers": workers,
        "sip_port": front_port,
        "worker_base_port": free_port_block(2),
        "rtp_base_port": free_port_block(80),
        "rtp_ports_per_worker": 40,
        "run_dir": str(work / "run"),
        "drain_timeout_s": 10,
        "restart_backoff_s": 0.3,
        "worker": {"max_calls": 4, "pjsip_log_level": 1, **worker},
        **(front or {}),
    }
    with HandlerHost(short_socket_path("sip-front-test"), demo) as host:
        settings["handler_address"] = host.address
        config = work / "sip.yaml"
        config.write_text(yaml.safe_dump(settings))
        log = work / "supervisor.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "callbot.sip.supervisor", "--config", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            host.wait_for_workers(workers, 15)
            deadline = time.monotonic() + 10
            while sip_options(("127.0.0.1", front_port), 0.5) != 200:
                assert time.monotonic() < deadline, f"the front never answered:\n{log.read_text()[-3000:]}"
            time.sleep(1.2)  # one dispatcher probe round, so that every worker is known alive
            yield Deployment(host, demo, process, work / "run", front_port, log)
        finally:
            stop_process(process, timeout=20)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory):
    with supervised(tmp_path_factory.mktemp("sip-front"), 2) as running:
        yield running


@pytest.fixture
def sipp_dir(tmp_path: Path, deployment: Deployment) -> Path:
    deployment.demo.reset()
    return prepare_sipp_dir(tmp_path)


def worker_of(handler) -> str:
    return handler.control.link.worker_id


def test_six_simultaneous_calls_are_spread_over_both_workers_and_all_answered(
    deployment: Deployment, sipp_dir: Path
) -> None:
    run = run_sipp(deployment.calls(sipp_dir, 6, 2500), sipp_dir)

    assert run.returncode == 0, run.errors
    handlers = deployment.demo.wait_for_calls(6, 5)
    assert Counter(worker_of(h) for h in handlers) == {"sip-0": 3, "sip-1": 3}
    assert run.responses(503) == 0


def hostile_invites_then_a_normal_call(deployment: Deployment, sipp_dir: Path) -> None:
    """What a hostile peer did to workers (docs/sip.md): three INVITEs with 40 media lines 25 ms apart
    (they aborted a worker; three more with the SDP in a multipart body), then four late-offer INVITEs
    never answered (they held every call slot). Every process must stay up, the slots come back within
    40 s, and a normal call is then answered."""
    pids = {name: entry["pid"] for name, entry in deployment.status().items()}
    front = ("127.0.0.1", deployment.front_port)

    codes = send_datagrams(
        front,
        lambda port: [invite_with_media_lines(front, port, 40, multipart=i >= 3) for i in range(6)],
        gap_s=0.025,
        listen_s=1.5,
    )

    assert codes == [488] * 6  # three plain SDPs, three inside multipart bodies
    started = time.monotonic()
    late = run_sipp(
        sipp_args(
            "uac_late_offer_no_answer.xml",
            remote=deployment.front,
            local_port=free_port(),
            media_port=sipp_media_ports(4),
            calls=4,
            timeout_s=45,
        ),
        sipp_dir,
        timeout=50,
    )
    assert late.returncode == 0, late.errors  # each got a BYE from the gateway
    assert time.monotonic() - started < 40
    assert deployment.demo.handlers == {}  # no conversation ever started for them
    normal = run_sipp(deployment.calls(sipp_dir, 1, 1000), sipp_dir)
    assert normal.returncode == 0 and normal.responses(503) == 0, normal.errors
    assert len(deployment.demo.wait_for_calls(1, 5)) == 1
    assert deployment.restarts() == dict.fromkeys(pids, 0)
    assert {name: entry["pid"] for name, entry in deployment.status().items()} == pids


def test_hostile_invites_leave_both_workers_behind_the_front_alive_and_answering(
    deployment: Deployment, sipp_dir: Path
) -> None:
    hostile_invites_then_a_normal_call(deployment, sipp_dir)


def test_a_single_worker_is_behind_the_front_too_survives_hostile_invites_and_says_503_when_full(
    tmp_path: Path,
) -> None:
    metrics_port = free_port()
    with supervised(tmp_path / "one", 1, {"front_metrics_port": metrics_port}) as one:
        assert sorted(one.status()) == ["front", "worker-0"]
        hostile_invites_then_a_normal_call(one, prepare_sipp_dir(tmp_path / "sipp"))

        one.demo.reset()
        full = run_sipp(one.calls(prepare_sipp_dir(tmp_path / "full"), 5, 2500), tmp_path / "full")

        assert full.returncode == 0, full.errors  # the scenario checks Retry-After on the 503
        assert len(one.demo.wait_for_calls(4, 5)) == 4
        assert full.responses(503) >= 1 and full.responses(486) == 0

        # What the front refused never reached a worker: the front counted it, on its loopback port.
        refused = front_refusals(metrics_port)
        assert refused[("media_lines", "INVITE")] == 6
        assert refused[("all_workers_busy", "INVITE")] == full.responses(503)
        with pytest.raises(urllib.error.HTTPError) as forbidden:  # not on the SIP port's TCP socket
            urllib.request.urlopen(f"http://127.0.0.1:{one.front_port}/metrics", timeout=5)
        assert forbidden.value.code == 403
        # The HTTP listener needs Kamailio to accept TCP messages without Content-Length; SIP must not.
        with socket.create_connection(("127.0.0.1", one.front_port), timeout=5) as tcp:
            tcp.sendall(
                b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-nocl\r\n"
                b"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: nocl-1\r\n"
                b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n"
            )
            assert tcp.recv(2048).startswith(b"SIP/2.0 400 Content-Length Required")


def test_one_address_holds_at_most_calls_per_source_calls_and_gets_its_lines_back_as_they_end(
    tmp_path: Path,
) -> None:
    metrics_port = free_port()
    limits = {"calls_per_source": 2, "front_metrics_port": metrics_port}
    with supervised(tmp_path / "limited", 2, limits) as front:
        four = run_sipp(front.calls(prepare_sipp_dir(tmp_path / "four"), 4, 3000), tmp_path / "four")
        assert four.returncode == 0, four.errors  # the scenario checks Retry-After on the 503
        assert len(front.demo.wait_for_calls(2, 5)) == 2  # eight free lines, two for this address
        assert four.responses(503) == 2
        assert front_refusals(metrics_port)[("source_calls", "INVITE")] == 2

        # Their BYEs gave the lines back: the address may call again.
        front.demo.reset()
        two = run_sipp(front.calls(prepare_sipp_dir(tmp_path / "two"), 2, 1000), tmp_path / "two")
        assert two.returncode == 0, two.errors
        assert two.responses(503) == 0 and len(front.demo.wait_for_calls(2, 5)) == 2


def test_one_caller_number_holds_at_most_calls_per_caller_calls_other_numbers_are_free(
    tmp_path: Path,
) -> None:
    """Behind a trunk every call comes from one address: the limit that still tells callers apart is
    the number (the From user)."""
    metrics_port = free_port()
    limits = {"calls_per_caller": 1, "calls_per_source": 3, "front_metrics_port": metrics_port}
    with supervised(tmp_path / "numbers", 2, limits) as front:
        same = prepare_sipp_dir(tmp_path / "same")
        scenario = same / "uac_one_number.xml"
        scenario.write_text(
            (SCENARIOS / "uac_limit.xml").read_text().replace("load[call_number]", "+33612345678")
        )
        three = run_sipp(
            sipp_args(
                str(scenario),
                remote=front.front,
                local_port=free_port(),
                media_port=sipp_media_ports(3),
                calls=3,
                rate=50,
                duration_ms=2500,
            ),
            same,
        )
        assert three.returncode == 0, three.errors
        assert len(front.demo.wait_for_calls(1, 5)) == 1 and three.responses(503) == 2
        assert front_refusals(metrics_port)[("caller_calls", "INVITE")] == 2

        front.demo.reset()  # three other numbers at once: only the address's limit (3) applies
        others = run_sipp(front.calls(prepare_sipp_dir(tmp_path / "others"), 3, 1000), tmp_path / "others")
        assert others.returncode == 0, others.errors
        assert others.responses(503) == 0 and len(front.demo.wait_for_calls(3, 5)) == 3


def front_refusals(port: int) -> dict[tuple[str, str], int]:
    """The front's refusal counters from its /metrics, by (reason, method)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    counts: dict[tuple[str, str], int] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("callbot_front_refused_requests"):
                counts[(sample.labels["reason"], sample.labels["method"])] = int(sample.value)
    return counts


def test_a_thousand_malformed_datagrams_restart_nothing_and_calls_are_answered_after(tmp_path: Path) -> None:
    """The bounded fuzz of docs/sip.md: 1,000 datagrams of nine categories (callbot/sip/fuzz.py), 2 ms
    apart, at the front; every process keeps its pid and a normal call is answered within 40 s (calls
    answered by the fuzz and never acknowledged hold their slot until PJSIP gives up, 32 s: a deployment
    of its own, so that no other test finds them)."""
    with supervised(tmp_path / "fuzzed", 2) as deployment:
        fuzz_then_a_normal_call(deployment, prepare_sipp_dir(tmp_path / "sipp"))


def fuzz_then_a_normal_call(deployment: Deployment, sipp_dir: Path) -> None:
    pids = {name: entry["pid"] for name, entry in deployment.status().items()}

    figures = fuzz(("127.0.0.1", deployment.front_port), 1000)

    print("fuzz figures:", figures)
    answers = figures["answers"]
    assert figures["sent"] == 1000
    assert isinstance(answers, dict) and {400, 488, 513} <= set(answers)
    started = time.monotonic()
    while True:
        deployment.demo.reset()
        normal = run_sipp(deployment.calls(sipp_dir, 1, 500), sipp_dir)
        if normal.returncode == 0 and normal.responses(503) == 0:
            break
        assert time.monotonic() - started < 40, normal.errors
        time.sleep(1)
    assert len(deployment.demo.wait_for_calls(1, 5)) == 1
    assert deployment.restarts() == dict.fromkeys(pids, 0)
    assert {name: entry["pid"] for name, entry in deployment.status().items()} == pids


def test_a_killed_worker_does_not_disturb_the_other_workers_calls_and_comes_back(
    deployment: Deployment, sipp_dir: Path
) -> None:
    with sipp_process(deployment.calls(sipp_dir, 6, 4000), sipp_dir) as callers:
        handlers = deployment.demo.wait_for_calls(6, 5)
        time.sleep(0.5)
        victim = next(link for link in deployment.host.connected_links() if link.worker_id == "sip-0")
        victim_pid = victim.hello.pid if victim.hello else 0
        os.kill(victim_pid, signal.SIGKILL)
        run = finish_sipp(callers, sipp_dir)

    for handler in handlers:
        assert handler.done.wait(5)
    survivors = [h for h in handlers if worker_of(h) == "sip-1"]
    lost = [h for h in handlers if worker_of(h) == "sip-0"]
    assert len(survivors) == 3 and len(lost) == 3
    for handler in survivors:
        assert handler.ended is not None and handler.ended.reason == "remote hangup"
        assert handler.ended.duration_ms >= 3900 and handler.frames >= 190
    assert all(h.ended is not None and h.ended.reason == "worker lost" for h in lost)
    assert run.returncode != 0  # the killed worker's three callers lost their calls

    deadline = time.monotonic() + 10
    while deployment.status()["worker-0"]["pid"] in (None, victim_pid):
        assert time.monotonic() < deadline, "the supervisor did not restart the killed worker"
        time.sleep(0.1)
    assert deployment.status()["worker-0"]["restarts"] == 1
    deployment.host.wait_for_workers(2, 10)

    deployment.demo.reset()
    again = run_sipp(deployment.calls(sipp_dir, 4, 500), sipp_dir)
    assert again.returncode == 0, again.errors
    assert len(deployment.demo.handlers) == 4


def test_sigterm_lets_calls_finish_turns_new_ones_away_then_stops_everything(
    deployment: Deployment, sipp_dir: Path, tmp_path: Path
) -> None:
    pids = [entry["pid"] for entry in deployment.status().values()]
    assert all(pids) and len(pids) == 3
    late_dir = prepare_sipp_dir(tmp_path / "late")
    with sipp_process(deployment.calls(sipp_dir, 1, 2500), sipp_dir) as current:
        deployment.demo.wait_for_calls(1, 5)
        deployment.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        late = run_sipp(deployment.calls(late_dir, 1, 500), late_dir)
        finished = finish_sipp(current, sipp_dir)

    assert late.returncode == 0 and late.responses(503) >= 1, late.errors
    assert "Retry-After:" in late.messages
    assert finished.returncode == 0, finished.errors
    assert deployment.process.wait(20) == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_single_worker_with_its_own_handler_process_runs_without_the_front_when_told(
    tmp_path: Path,
) -> None:
    sip_port = free_port()
    heard = tmp_path / "heard"
    settings = {
        "workers": 1,
        "sip_port": sip_port,
        "rtp_base_port": free_port_block(40),
        "rtp_ports_per_worker": 40,
        "run_dir": str(tmp_path / "run"),
        "handler_factory": "callbot.sip.demo:build_demo_factory",
        "handler_options": {"heard_dir": str(heard)},
        "drain_timeout_s": 5,
        "front": "never",
    }
    config = tmp_path / "sip.yaml"
    config.write_text(yaml.safe_dump(settings))
    log = tmp_path / "supervisor.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "callbot.sip.supervisor", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while sip_options(("127.0.0.1", sip_port), 0.5) != 200:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        status = json.loads((tmp_path / "run" / "status.json").read_text())
        assert sorted(status) == ["handler-0", "worker-0"]  # no Kamailio when told so
        sipp_dir = prepare_sipp_dir(tmp_path / "sipp")
        args = sipp_args(
            "uac_limit.xml",
            remote=f"127.0.0.1:{sip_port}",
            local_port=free_port(),
            media_port=free_port_block(8),
            duration_ms=1500,
        )
        deadline = time.monotonic() + 10
        while True:  # the worker answers OPTIONS before its handler process is connected
            run = run_sipp(args, sipp_dir)
            if run.responses(503) == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert run.returncode == 0 and run.responses(503) == 0, run.errors
        deadline = time.monotonic() + 5
        while not list(heard.glob("*.wav")):
            assert time.monotonic() < deadline, "the handler process never saw the call end"
            time.sleep(0.1)
    finally:
        assert stop_process(process, timeout=20) == 0, log.read_text()[-3000:]


def test_a_worker_on_loopback_registers_and_dials_out_through_the_front(tmp_path: Path) -> None:
    """Behind the front a worker's SIP listens on 127.0.0.1 only: its REGISTER and its call-back INVITE
    leave through the front (the REGISTER naming the front as the contact, the INVITE record-routed so
    that the callee's ACK and BYE come back), with the trunk password handed over by environment."""
    registrar_port, callee_port = free_port(), free_port()
    registrar_dir, callee_dir = (
        prepare_sipp_dir(tmp_path / "registrar"),
        prepare_sipp_dir(tmp_path / "callee"),
    )
    registrar_args = sipp_args(
        "uas_registrar.xml", remote=None, local_port=registrar_port, media_port=free_port_block(8)
    )
    callee_args = sipp_args(
        "uas_answer.xml",
        remote=None,
        local_port=callee_port,
        media_port=free_port_block(8),
        extra=["-rtp_echo"],
    )
    trunk = {
        "trunk_registrar": f"sip:127.0.0.1:{registrar_port}",
        "trunk_username": "callbot-trunk",
        "trunk_password": "s3cret",
        "trunk_uri_template": f"sip:{{number}}@127.0.0.1:{callee_port}",
    }
    with (
        sipp_process(registrar_args, registrar_dir) as registrar,
        supervised(tmp_path / "out", 1, **trunk) as one,
    ):
        registered = finish_sipp(registrar, registrar_dir, timeout=20)
        with sipp_process(callee_args, callee_dir) as callee:
            time.sleep(0.3)
            (link,) = one.host.connected_links()
            result = link.originate(
                "0611223344", caller_id="0977665544", headers={"X-Callbot-Callback": "rappel-7"}
            ).result(10)
            (handler,) = one.demo.wait_for_calls(1, 5)
            time.sleep(1.0)
            handler.control.hangup("call-back done")
            assert handler.done.wait(5)
            called = finish_sipp(callee, callee_dir)
        assert "s3cret" not in (one.run_dir / "worker-0.json").read_text()

    assert registered.returncode == 0 and "SIP/2.0 200 OK" in registered.messages, registered.errors
    assert f"@127.0.0.1:{one.front_port}" in registered.messages.split("REGISTER sip:")[-1].split("\n\n")[0]
    assert (result.answered, result.status_code) == (True, 200)
    assert called.returncode == 0, called.errors  # the callee got its ACK and the BYE through the front
    invite = called.messages[called.messages.index("INVITE sip:") :].split("\n\n", 1)[0]
    assert f"Record-Route: <sip:127.0.0.1:{one.front_port};" in invite and "\nRoute:" not in invite
