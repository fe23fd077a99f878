"""`callbot queues check|status`: what ops run before going live, and to see what callers get now."""

from __future__ import annotations

from pathlib import Path

import pytest

from callbot.cli import main

QUEUES = """\
queues:
  service_client:
    sip_uri: sip:service-client@pbx.example.fr
    hours:
      lundi-vendredi: ["09:00-12:30", "14:00-18:00"]
      samedi: ["9h-12h"]
    max_wait_s: 300
    load:
      static: {agents_available: 2, calls_waiting: 9, avg_handle_s: 240}
  reclamations:
    sip_uri: sip:reclamations@pbx.example.fr
    hours: {lundi-vendredi: ["08:30-17:00"]}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "queues.yaml").write_text(QUEUES)
    settings = tmp_path / "callbot.yaml"
    settings.write_text(f"data_dir: {tmp_path}\nqueues: queues.yaml\n")
    return settings


def test_check_says_ok_with_the_queue_names(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "queues", "check"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"{config.parent / 'queues.yaml'}: ok (2 queues: service_client, reclamations)"


def test_check_names_the_line_and_the_fix_of_a_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(QUEUES.replace('lundi-vendredi: ["09:00', 'lundii-vendredi: ["09:00'))
    assert main(["queues", "check", str(broken)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{broken}:5: queues.service_client.hours.lundii-vendredi:")
    assert "did you mean 'lundi'" in out


def test_check_warns_about_a_flow_queue_the_file_forgets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partial = tmp_path / "partial.yaml"
    partial.write_text(QUEUES.split("  reclamations:")[0])
    assert main(["queues", "check", str(partial)]) == 0  # a warning, not an error
    assert "transfers to 'reclamations', which this file does not define" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("moment", "service_client", "reclamations"),
    [
        ("2026-11-24 10:00", "saturated 18 min -", "open"),  # 9 waiting × 240 s / 2 agents = 18 min > 5
        ("2026-11-24 13:00", "closed - 2026-11-24 14:00", "open"),  # lunch
        ("2026-12-25 10:00", "closed - 2026-12-26 09:00", "closed"),  # Noël, a Friday
    ],
)
def test_status_shows_what_a_caller_would_get_at_a_moment(
    config: Path, capsys: pytest.CaptureFixture[str], moment: str, service_client: str, reclamations: str
) -> None:
    assert main(["--config", str(config), "queues", "status", "--at", moment]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(f"at {moment} (Paris)")
    rows = {line.split()[0]: " ".join(line.split()[1:]) for line in lines[2:]}
    assert rows["service_client"].startswith(service_client)
    assert rows["reclamations"].split()[0] == reclamations
    if moment.startswith("2026-12-25"):
        assert rows["service_client"].endswith("closed: public holiday (Noël)")


def test_status_needs_a_queues_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "callbot.yaml"
    settings.write_text(f"data_dir: {tmp_path}\n")
    assert main(["--config", str(settings), "queues", "status"]) == 2
    assert "no queues file" in capsys.readouterr().err
