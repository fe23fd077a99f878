"""What agents read of the call: the prompts the caller actually heard."""

from __future__ import annotations

from callbot.dialog.transcript import Transcript, mark_cut

GREETING = "Bonjour et bienvenue chez Maison Lumière. Que puis-je faire pour vous ?"


def test_a_prompt_cut_short_keeps_the_words_that_played() -> None:
    transcript = [f"Bot : {GREETING}", "Client : un conseiller"]
    mark_cut(transcript, GREETING, played_ms=1500, total_ms=6000)
    assert transcript[0] == "Bot (interrompu) : Bonjour et bienvenue…"


def test_a_prompt_never_played_is_marked_not_heard() -> None:
    transcript = [f"Bot : {GREETING}", "Bot : Que puis-je faire pour vous ?"]
    mark_cut(transcript, "Que puis-je faire pour vous ?", played_ms=0, total_ms=1500)
    assert transcript == [f"Bot : {GREETING}", "Bot (non entendu) : Que puis-je faire pour vous ?"]


def test_the_latest_line_of_a_repeated_prompt_is_the_one_marked() -> None:
    transcript = ["Bot : Pardon ?", "Client : euh", "Bot : Pardon ?"]
    mark_cut(transcript, "Pardon ?", played_ms=0, total_ms=500)
    assert transcript == ["Bot : Pardon ?", "Client : euh", "Bot (non entendu) : Pardon ?"]


def test_a_prompt_the_dialog_did_not_write_is_left_alone() -> None:
    transcript = ["Bot : Bonjour."]
    mark_cut(transcript, "Cet appel est susceptible d'être enregistré.", played_ms=0, total_ms=3000)
    assert transcript == ["Bot : Bonjour."]


def test_the_transcript_reads_keys_silences_and_who_spoke() -> None:
    transcript = Transcript()
    transcript.bot("Que puis-je faire pour vous ?")
    transcript.silence()
    assert not transcript.heard_someone
    transcript.keys("0")
    transcript.keys("458129")
    assert transcript.heard_someone
    assert transcript.lines == [
        "Bot : Que puis-je faire pour vous ?",
        "Client : [silence]",
        "Client : [touche 0]",
        "Client : [touches 458129]",
    ]
