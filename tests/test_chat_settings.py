"""`callbot chat` rehearses what `serve` would do: the same queues (hours) before a transfer, and a
caller id by default — at 3 a.m. on a Sunday a closed queue is explained and a call-back offered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

SUNDAY_3AM = "2026-11-22T03:00:00+01:00"
MONDAY_10AM = "2026-11-23T10:00:00+01:00"


def chat(tmp_path: Path, now: str, *lines: str, queues: bool = True) -> subprocess.CompletedProcess[str]:
    settings: dict[str, object] = {"data_dir": str(tmp_path / "data")}
    if queues:
        (tmp_path / "queues.yaml").write_text(
            yaml.safe_dump(
                {
                    "queues": {
                        name: {"sip_uri": f"sip:{name}@pbx", "hours": {"lundi-vendredi": ["09:00-18:00"]}}
                        for name in ("service_client", "reclamations")
                    }
                }
            )
        )
        settings["queues"] = str(tmp_path / "queues.yaml")
    config = tmp_path / "callbot.yaml"
    config.write_text(yaml.safe_dump(settings))
    return subprocess.run(
        [sys.executable, "-m", "callbot.cli", "--config", str(config), "chat", "--now", now],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_closed_queue_is_explained_and_a_call_back_offered_instead_of_a_transfer(tmp_path: Path) -> None:
    result = chat(tmp_path, SUNDAY_3AM, "je veux parler à un conseiller")
    assert result.returncode == 0, result.stderr
    assert "[transfer to" not in result.stdout
    assert "Je vous propose d'être rappelé" in result.stdout
    assert "queues from" in result.stderr


def test_an_open_queue_takes_the_transfer(tmp_path: Path) -> None:
    result = chat(tmp_path, MONDAY_10AM, "je veux parler à un conseiller")
    assert "[transfer to service_client" in result.stdout


def test_without_a_queues_file_chat_says_every_queue_is_taken_as_open(tmp_path: Path) -> None:
    result = chat(tmp_path, SUNDAY_3AM, "je veux parler à un conseiller", queues=False)
    assert "[transfer to service_client" in result.stdout
    assert "every queue is taken as open" in result.stderr
    assert "caller id +33612345678" in result.stderr


def test_a_call_back_outside_the_queues_hours_is_refused_as_on_a_live_call(tmp_path: Path) -> None:
    result = chat(tmp_path, MONDAY_10AM, "rappelez-moi dimanche à trois heures du matin")
    assert result.returncode == 0, result.stderr
    assert "Nos conseillers ne sont pas disponibles à ce moment-là" in result.stdout
    assert "Je vous rappelle dimanche" not in result.stdout
    unchecked = chat(tmp_path, MONDAY_10AM, "rappelez-moi dimanche à trois heures du matin", queues=False)
    assert "Je vous rappelle dimanche 29 novembre à 3 h" in unchecked.stdout
