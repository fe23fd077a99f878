"""The `callbot` command as ops and QA use it: one-line errors, exit codes, no tracebacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from callbot.dialog import default_flow_path

FLOWS = default_flow_path().parent


def callbot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callbot.cli", *args], capture_output=True, text=True, input=stdin, timeout=120
    )


def broken_copy_of_the_default_flow(tmp_path: Path) -> Path:
    shutil.copy(FLOWS / "retail-data.yaml", tmp_path / "retail-data.yaml")
    text = (FLOWS / "retail.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    line = next(i for i, line in enumerate(lines) if line.strip() == "goto: horaires")
    lines[line] = lines[line].replace("goto: horaires", "goto: horaire")
    flow = tmp_path / "flow.yaml"
    flow.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return flow


def test_flow_check_names_the_file_the_line_and_the_fix(tmp_path: Path) -> None:
    flow = broken_copy_of_the_default_flow(tmp_path)
    broken_line = next(
        i for i, line in enumerate(flow.read_text().splitlines(), 1) if "goto: horaire" in line
    )
    result = callbot("flow", "check", str(flow))
    assert result.returncode == 1
    error = result.stdout.splitlines()[0]
    assert error.startswith(f"{flow}:{broken_line}: unknown state 'horaire'")
    assert "did you mean 'horaires'" in error
    assert "Traceback" not in result.stdout + result.stderr


def test_flow_check_accepts_the_default_flow() -> None:
    result = callbot("flow", "check", str(FLOWS / "retail.yaml"))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("ok (0 warnings)")


def test_a_broken_flow_stops_replay_with_one_line_not_a_traceback(tmp_path: Path) -> None:
    flow = broken_copy_of_the_default_flow(tmp_path)
    wav = Path(__file__).parent / "fixtures" / "callers" / "oui_1.wav"
    result = callbot("replay", str(wav), "--flow", str(flow))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "unknown state 'horaire'" in result.stderr
    assert "Traceback" not in result.stderr


def test_replay_refuses_a_file_that_is_not_a_recording(tmp_path: Path) -> None:
    not_wav = tmp_path / "call.wav"
    not_wav.write_text("hello")
    result = callbot("replay", str(not_wav), "--asr", "whisper")
    assert result.returncode == 2
    assert "not a WAV file" in result.stderr and "Traceback" not in result.stderr


def test_chat_lets_ops_try_the_flow_by_typing() -> None:
    result = callbot("chat", "--now", "2026-11-23T10:30:00+01:00", stdin="je veux parler à un conseiller\n")
    assert result.returncode == 0
    assert "bot> Bonjour et bienvenue" in result.stdout
    assert "[transfer to service_client" in result.stdout


def test_models_list_shows_what_is_installed() -> None:
    result = callbot("models", "list")
    assert result.returncode == 0
    assert "vosk-model-small-fr-0.22" in result.stdout and "whisper-base" in result.stdout
