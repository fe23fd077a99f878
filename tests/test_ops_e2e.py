"""Ops end to end: `callbot serve --http` with real SIPp callers, a real Prometheus scraping `/metrics`,
`callbot calls stats` over a mixed batch, and the ops page in headless Chromium.

One gateway for the module (Whisper, Pico, the retail flow). `/readyz` is polled from before the
gateway starts, so the test sees it refuse (503) while the conversation host loads its models.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from callbot.audio.wav import read_wav
from callbot.dialog import Conversation, default_flow_path, load_flow
from callbot.dialog.actions import Say
from callbot.dialog.nlu import PARIS
from callbot.session.call_session import RECORDING_NOTICE
from callbot.sip.testing import (
    SIPP_PCAPS,
    ServeHandle,
    SippRun,
    finish_sipp,
    free_port,
    free_port_block,
    line_pcap,
    prepare_sipp_dir,
    run_sipp,
    serve_process,
    sipp_args,
    sipp_process,
)
from callbot.tts import PromptCache, create_synthesizer

pytestmark = pytest.mark.slow

RATE = 8000
CALLER = "+33612345678"
CALLS_DIR = Path(__file__).parent / "fixtures" / "calls"
FLOW = load_flow(default_flow_path())
ARTIFACTS = Path(os.environ.get("CALLBOT_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts"))


# ------------------------------------------------------------------------------------------ gateway
@dataclass
class Gateway:
    serve: ServeHandle
    http: str  # base URL, ending in "/"
    readyz_seen: list[int | None]  # /readyz answers from before the start until the first 200
    config: Path


def http_get(url: str, timeout: float = 5.0) -> tuple[int | None, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return None, ""  # not listening yet


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    work = tmp_path_factory.mktemp("ops-e2e")
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    seen: list[int | None] = []
    stop = threading.Event()

    def poll_readyz() -> None:
        while not stop.is_set():
            status, _ = http_get(base + "readyz", timeout=1.0)
            seen.append(status)
            if status == 200:
                return
            time.sleep(0.05)

    poller = threading.Thread(target=poll_readyz, daemon=True)
    poller.start()
    try:
        with serve_process(work, settings={"http": {"listen": f"127.0.0.1:{port}"}}) as handle:
            poller.join(30)
            yield Gateway(handle, base, seen, work / "callbot.yaml")
    finally:
        stop.set()


@pytest.fixture(scope="module")
def opening_ms() -> int:
    """How long the bot talks from the answer until it listens: the recording notice, then the greeting."""
    prompts = PromptCache(create_synthesizer("pico"), RATE)
    said = Conversation(FLOW, now=lambda: datetime.now(PARIS), caller=CALLER).start().actions
    texts = [RECORDING_NOTICE, *(a.text for a in said if isinstance(a, Say))]
    return sum(len(prompts.get(text)) for text in texts) * 500 // RATE


def keys_caller(directory: Path) -> Path:
    """A SIPp working directory whose caller presses 0 (RFC 4733, SIPp's own capture)."""
    prepare_sipp_dir(directory)
    shutil.copy(SIPP_PCAPS / "dtmf_2833_0.pcap", directory / "caller.pcap")
    return directory


def silent_caller(directory: Path) -> Path:
    """A caller who says nothing (line noise only)."""
    prepare_sipp_dir(directory)
    line_pcap(directory / "caller.pcap", b"", 500)
    return directory


def hours_caller(directory: Path, onset_ms: int) -> tuple[Path, int]:
    """A caller asking the opening hours of the Lyon store once the greeting is over; returns the
    directory and when the caller stops talking (ms after the answer)."""
    prepare_sipp_dir(directory)
    calls = yaml.safe_load((CALLS_DIR / "manifest.yaml").read_text())["calls"]
    (entry,) = [c for c in calls if c["file"] == "horaires.wav"]
    start, end = entry["turns"][0]["speech_ms"]
    audio = read_wav(CALLS_DIR / "horaires.wav").channel(entry["caller_channel"])
    speech = audio[start * RATE // 500 : (end + 500) * RATE // 500]
    line_pcap(directory / "caller.pcap", speech, onset_ms)
    return directory, onset_ms + end - start + 500


def sipp_caller(
    gateway: Gateway, directory: Path, scenario: str, *, listen_ms: int | None = None, speak_after_ms: int = 0
) -> list[str]:
    return sipp_args(
        scenario,
        remote=gateway.serve.address,
        local_port=free_port(),
        media_port=free_port_block(8),
        duration_ms=listen_ms,
        keys={"speak_after_ms": str(speak_after_ms)},
        extra=["-cid_str", f"ops-{uuid.uuid4().hex[:12]}@127.0.0.1"],
        timeout_s=120,
    )


def call(gateway: Gateway, directory: Path, scenario: str, **options: Any) -> SippRun:
    run = run_sipp(sipp_caller(gateway, directory, scenario, **options), directory, timeout=130)
    assert run.returncode == 0, run.errors
    return run


def wait_for(what: str, check: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def api(gateway: Gateway, path: str) -> Any:
    status, body = http_get(gateway.http + path)
    assert status == 200, (status, body)
    return json.loads(body)


# ------------------------------------------------------------------------------------------ tests
def test_readyz_refuses_until_a_worker_is_connected_to_its_call_handler(gateway: Gateway) -> None:
    seen = gateway.readyz_seen
    assert seen[-1] == 200
    assert 503 in seen, seen  # the HTTP side was up while the host still loaded its models
    assert seen.index(503) < seen.index(200)
    assert http_get(gateway.http + "healthz")[0] == 200
    assert "ops page: " + gateway.http in gateway.serve.log_text()


def test_a_mixed_batch_is_counted_by_calls_stats_and_by_prometheus(
    gateway: Gateway, tmp_path: Path, opening_ms: int
) -> None:
    before = api(gateway, "api/calls?limit=1000")
    since = datetime.now(PARIS) - timedelta(seconds=1)

    call(gateway, keys_caller(tmp_path / "keys-1"), "uac_bot_transfer.xml", speak_after_ms=3000)
    call(gateway, keys_caller(tmp_path / "keys-2"), "uac_bot_transfer.xml", speak_after_ms=3000)
    call(gateway, silent_caller(tmp_path / "silent"), "uac_bot_caller.xml", listen_ms=2000)
    directory, stop_ms = hours_caller(tmp_path / "hours", opening_ms + 500)
    call(gateway, directory, "uac_bot_caller.xml", listen_ms=stop_ms + 9000)

    records = wait_for("4 call records", lambda: len(api(gateway, "api/calls?limit=1000")) == len(before) + 4)
    assert records
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "callbot.cli",
            "--config",
            str(gateway.config),
            "calls",
            "stats",
            "--json",
            "--from",
            since.isoformat(timespec="seconds"),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    ).stdout
    stats = json.loads(out)
    assert stats["calls"] == 4
    assert stats["transfers_by_queue"] == {"service_client": 2}
    assert stats["abandoned"] == 1
    assert stats["resolved_by_bot"] == 1
    assert stats["containment"] == 0.25
    assert stats["errors"] == 0
    hours = [c for c in api(gateway, "api/calls?limit=4") if c["outcome"] == "bot"]
    assert hours and hours[0]["intents"] == ["horaires"] and hours[0]["response_p95_ms"] > 0
    with urllib.request.urlopen(gateway.http + f"api/calls/{hours[0]['id']}/recording", timeout=10) as wav:
        assert wav.headers["Content-Type"] == "audio/wav" and wav.read(4) == b"RIFF"  # the ops page plays it

    with prometheus(tmp_path, gateway.http) as query:
        transferred = wait_for(
            "Prometheus to scrape the transfers",
            lambda: query('sum(callbot_transfers_total{queue="service_client"})') >= 2,
        )
        assert transferred
        assert query('sum(callbot_calls_total{outcome="transferred"})') >= 2
        assert query('sum(callbot_calls_total{outcome="abandoned"})') >= 1
        assert query("sum(callbot_calls_in_progress)") == 0
        assert query("sum(callbot_response_seconds_count)") >= 1
        assert query("sum(callbot_turn_compute_seconds_count)") >= 1
        assert query("callbot_sip_workers_connected") == 1


def test_the_ops_page_shows_a_live_call_then_the_finished_call_with_its_transcript(
    gateway: Gateway, tmp_path: Path
) -> None:
    directory = silent_caller(tmp_path / "held")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (
        chromium() as browser,
        sipp_process(
            sipp_caller(gateway, directory, "uac_bot_caller.xml", listen_ms=12000), directory
        ) as sipp,
    ):
        live = wait_for("the call on the live board", lambda: api(gateway, "api/live"))
        call_id = live[0]["call_id"]
        browser.get(gateway.http)
        row = browser.find_element("css selector", "#live tbody tr").text
        assert CALLER in row and "inbound" in row
        browser.save_screenshot(str(ARTIFACTS / "ops-page-live-call.png"))
        assert finish_sipp(sipp, directory, timeout=60).returncode == 0
    finished = wait_for(
        "the call's record", lambda: [c for c in api(gateway, "api/calls?limit=5") if c["call_id"] == call_id]
    )
    with chromium() as browser:
        browser.get(gateway.http)
        assert browser.find_element("id", "live").text == "No call now."
        first = browser.find_element("css selector", "#recent tbody tr")
        assert "abandoned" in first.text
        first.find_element("tag name", "summary").click()
        transcript = first.find_element("tag name", "pre").text
        assert transcript == "\n".join(finished[0]["transcript"]) and transcript.startswith("Bot : ")
        browser.save_screenshot(str(ARTIFACTS / "ops-page-finished-call.png"))
        flow = browser.find_element("css selector", "#flow-drawing").find_element("xpath", "..")
        flow.find_element("tag name", "summary").click()  # the flow's details, drawn offline
        drawing = browser.find_element("css selector", "#flow-drawing svg")
        assert drawing.size["width"] > 300 and drawing.size["height"] > 100
        browser.save_screenshot(str(ARTIFACTS / "ops-page-flow.png"))


# ------------------------------------------------------------------------------------------ tools
class chromium:
    """Headless Debian Chromium through its chromedriver (selenium)."""

    def __enter__(self) -> Any:
        webdriver = pytest.importorskip("selenium.webdriver")
        from selenium.webdriver.chrome.service import Service

        if not (shutil.which("chromium") and shutil.which("chromedriver")):
            pytest.skip("Debian's chromium and chromium-driver are needed")
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
        ):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        return self.driver

    def __exit__(self, *exc: object) -> None:
        self.driver.quit()


class prometheus:
    """Debian's Prometheus on 127.0.0.1, scraping `target`/metrics every second; yields a query function
    that returns an instant vector's single value (0 for an empty result)."""

    def __init__(self, work: Path, target: str) -> None:
        binary = shutil.which("prometheus") or "/usr/bin/prometheus"
        if not Path(binary).exists():
            pytest.skip("Debian's prometheus is needed")
        self.port = free_port()
        host = urllib.parse.urlsplit(target).netloc
        config = work / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "scrape_configs": [{"job_name": "callbot", "static_configs": [{"targets": [host]}]}],
                }
            )
        )
        self.argv = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={work / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        self.log = work / "prometheus.log"

    def __enter__(self) -> Any:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{self.port}"
        wait_for("Prometheus to start", lambda: http_get(base + "/-/ready")[0] == 200)

        def query(expression: str) -> float:
            status, body = http_get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
            assert status == 200, body
            result = json.loads(body)["data"]["result"]
            return float(result[0]["value"][1]) if result else 0.0

        return query

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def test_a_conversation_host_killed_under_a_call_leaves_an_error_record_and_is_restarted(
    gateway: Gateway, tmp_path: Path
) -> None:
    """Last in the module: the host restarts (and loads its models again) before the gateway is ready."""
    directory = silent_caller(tmp_path / "orphan")
    status_file = gateway.serve.data_dir / "sip" / "status.json"
    with sipp_process(
        sipp_caller(gateway, directory, "uac_bot_caller.xml", listen_ms=15000), directory
    ) as sipp:
        live = wait_for("the call on the live board", lambda: api(gateway, "api/live"))
        time.sleep(1.0)  # a refresh of its live state
        host_pid = json.loads(status_file.read_text())["handler-0"]["pid"]
        os.kill(host_pid, signal.SIGKILL)
        finish_sipp(sipp, directory, timeout=60)  # the worker hangs up the calls of a lost handler
    call_id = live[0]["call_id"]
    orphan = wait_for(
        "the orphaned call's record",
        lambda: [c for c in api(gateway, "api/calls?limit=5") if c["call_id"] == call_id],
    )
    assert orphan[0]["outcome"] == "error"
    assert orphan[0]["end_reason"] == "the conversation host died during the call"
    assert orphan[0]["transcript"] == [] or orphan[0]["transcript"][0].startswith("Client : ")
    assert api(gateway, "api/live") == []
    # The supervisor restarts the host; once its worker is back, the gateway is ready again.
    wait_for("the host to be back", lambda: http_get(gateway.http + "readyz")[0] == 200, timeout_s=120)
    metrics_text = http_get(gateway.http + "metrics")[1]
    assert 'callbot_process_restarts_total{process="handler-0"} 1.0' in metrics_text
    assert 'callbot_calls_total{direction="inbound",outcome="error"}' in metrics_text
