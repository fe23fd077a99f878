"""`callbot replay --record-calls`: replayed calls get the call records a live call gets, so the
statistics can be checked on known recordings (Whisper, the retail flow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from callbot import cli

pytestmark = pytest.mark.slow

CALLS = Path(__file__).parent / "fixtures" / "calls"


def test_replayed_calls_are_recorded_and_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "callbot.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}))
    recordings = [str(CALLS / name) for name in ("horaires.wav", "conseiller.wav", "rappel_demain_15h.wav")]
    argv = ["--config", str(config), "replay", *recordings, "--asr", "whisper", "--json"]
    assert cli.main([*argv, "--now", "2026-11-23T10:30:00+01:00", "--record-calls", "--store-callbacks"]) == 0
    capsys.readouterr()

    assert cli.main(["--config", str(config), "calls", "stats", "--day", "2026-11-23", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["calls"] == 3
    assert stats["resolved_by_bot"] == 1  # the opening hours, then goodbye
    assert stats["transfers_by_queue"] == {"service_client": 1}
    assert stats["callbacks_booked"] == 1
    assert stats["containment"] == pytest.approx(1 / 3, abs=1e-4)

    assert (
        cli.main(["--config", str(config), "calls", "list", "--day", "2026-11-23", "--outcome", "bot"]) == 0
    )
    listing = capsys.readouterr().out
    assert "horaires au_revoir" in listing
    record_id = listing.splitlines()[1].split()[0]
    assert cli.main(["--config", str(config), "calls", "show", record_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["recording_path"] is None  # the caller's WAV is not the call's: a purge must not take it
    assert shown["end_reason"] == f"replay of {CALLS / 'horaires.wav'}"
    assert shown["transcript"][-1].startswith("Bot : Merci de votre appel")

    # A second replay of the same day adds to the figures, it does not replace them.
    again = ["--config", str(config), "replay", recordings[0], "--asr", "whisper", "--json", "--record-calls"]
    assert cli.main([*again, "--now", "2026-11-23T11:00:00+01:00"]) == 0
    capsys.readouterr()
    assert cli.main(["--config", str(config), "calls", "stats", "--day", "2026-11-23", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["calls"] == 4
