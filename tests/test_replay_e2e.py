"""End to end: synthesised French callers (Pico, several voices, 8 kHz μ-law line) through the whole path.

VAD → the real recogniser (Whisper base from PyPI, the engine callbot falls back to without a Vosk French
model) → the default flow → Pico TTS, via `callbot replay`, exactly as QA runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from callbot.audio import read_wav
from callbot.config import Settings
from callbot.dialog import conversation
from callbot.replay import replay_call
from callbot.session.call_session import APOLOGY
from callbot.session.closed_set import ENDING_MAX_BELOW_HEARD
from callbot.session.stack import SpeechStack

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))
CALLS: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "calls" / "manifest.yaml").read_text())["calls"]
CALLERS: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "callers" / "manifest.yaml").read_text())[
    "utterances"
]


@pytest.fixture(scope="module")
def stack() -> SpeechStack:
    settings = Settings()
    settings.asr.engine = "whisper"
    return SpeechStack(settings)


def expected_outcome_type(call: dict[str, Any]) -> str:
    return {"schedule_callback": "callback", "transfer": "transfer", "hangup": "hangup"}[
        call["outcome"]["action"]
    ]


#: A recogniser limit, kept visible: in this voice (speed 84) Whisper base writes "Où en est ma
#: commande ?" as "On n'y m'a qu'un rang." once the line's hiss is subtracted, as on a live call (the
#: replay's digital silence between turns had kept the hiss from being measured, and the turn was heard
#: unsubtracted). The call still ends as it should: its next turn names the order, whose status is given.
DECISION_MISREADS = {"suivi_commande.wav"}


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            c,
            id=c["file"],
            marks=pytest.mark.xfail(reason="Whisper base misreads the first turn", strict=True),
        )
        if c["file"] in DECISION_MISREADS
        else pytest.param(c, id=c["file"])
        for c in CALLS
    ],
)
def test_a_recorded_call_replays_to_the_expected_decisions(stack: SpeechStack, call: dict[str, Any]) -> None:
    result = replay_call(stack, FIXTURES / "calls" / call["file"], now=NOW)
    heard = [t for t in result.turns if t.transcript]
    wanted = [t["intent"] for t in call["turns"] if t["intent"]]
    # "Non merci, au revoir" after "Autre chose ?" is read as the state's "non": the same goodbye.
    got = [
        "au_revoir" if t.intent == "non" and w == "au_revoir" else t.intent
        for t, w in zip([t for t in heard if t.intent], wanted, strict=False)
    ]
    assert got == wanted, f"transcripts: {[t.transcript for t in heard]}"
    assert result.outcome.type == expected_outcome_type(call)
    if result.outcome.type == "callback":
        spec = call["outcome"]["callback"]
        hour, minute = map(int, spec["time"].split(":"))
        expected = (NOW + timedelta(days=spec["day_offset"])).replace(hour=hour, minute=minute, second=0)
        assert result.outcome.callback_at == expected
    for turn in heard:
        assert turn.response_ms is not None and turn.response_ms > 0
    assert result.real_time_factor < 1.0, "replay runs faster than real time"


#: A known recogniser limit, kept visible: Whisper base reads this order number, said digit by digit on an
#: 8 kHz line, as another sentence ("Ma commande, c'est le cadre."). Callers can key the number in (the
#: flow says so); a Vosk French model is the engine for this.
WHISPER_MISREADS = {"suivi_commande_2.wav"}
REQUESTS = [
    pytest.param(u, id=u["file"], marks=pytest.mark.xfail(reason="Whisper base on 8 kHz digits", strict=True))
    if u["file"] in WHISPER_MISREADS
    else pytest.param(u, id=u["file"])
    for u in CALLERS
    if u["intent"] not in ("oui", "non")
]
ANSWERS = [u for u in CALLERS if u["intent"] in ("oui", "non")]


@pytest.mark.parametrize("utterance", REQUESTS)
def test_each_caller_request_is_understood(stack: SpeechStack, utterance: dict[str, Any]) -> None:
    result = replay_call(stack, FIXTURES / "callers" / utterance["file"], now=NOW)
    first = next(t for t in result.turns if t.transcript)
    assert first.intent == utterance["intent"], f"heard {first.transcript!r}"
    expected_order = (utterance.get("slots") or {}).get("numero_commande")
    if expected_order:
        assert first.slots.get("numero_commande") == expected_order


@pytest.mark.parametrize("utterance", ANSWERS, ids=[u["file"] for u in ANSWERS])
def test_each_yes_or_no_answers_a_confirmation(stack: SpeechStack, utterance: dict[str, Any]) -> None:
    """A bare oui/non means nothing in the menu: it is heard after "C'est bien ça ?". A short "oui" that
    the 8 kHz line turns into "Bonne..." is asked again with the keys, and confirms when it comes back
    the same; a "non" is never taken for a yes."""
    from callbot.audio import FrameResampler
    from callbot.dialog import Conversation
    from callbot.dialog.actions import ScheduleCallback
    from callbot.replay import load_caller_audio, split_caller_turns

    conversation = Conversation(stack.flow, now=lambda: NOW, caller="+33612345678")
    conversation.start()
    conversation.hear("je voudrais être rappelé demain à quinze heures")
    turn = split_caller_turns(stack, load_caller_audio(FIXTURES / "callers" / utterance["file"]))[0]
    recognizer = stack.engine.new_recognizer()
    recognizer.start_turn(conversation.hints)
    recognizer.accept(FrameResampler(8000, recognizer.sample_rate).process(turn.pcm))
    recognizer.pause()
    heard = recognizer.finish().text
    results = [conversation.hear(heard)]
    if any("tapez 1" in getattr(action, "text", "") for action in results[0].actions):
        results.append(conversation.hear(heard))  # the caller says it again
    booked = [a for r in results for a in r.actions if isinstance(a, ScheduleCallback)]
    if utterance["intent"] == "oui":
        assert len(booked) == 1, f"heard {heard!r}"
    else:
        assert not booked and not conversation.ended, f"heard {heard!r}"


def test_callbot_replay_json_reports_the_callback_of_the_next_day(tmp_path: Path) -> None:
    """The issue's acceptance case, through the command line QA uses."""
    events = tmp_path / "events.jsonl"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "callbot.cli",
            "replay",
            str(FIXTURES / "calls" / "rappel_demain_15h.wav"),
            "--json",
            "--asr",
            "whisper",
            "--now",
            "2026-11-23T10:30:00+01:00",
            "--events",
            str(events),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert [t["intent"] for t in report["turns"] if t["intent"]][-2:] == ["rappel", "oui"]
    assert report["outcome"] == {
        "type": "callback",
        "queue": report["outcome"].get("queue"),
        "callback_at": "2026-11-24T15:00:00+01:00",
    }
    for turn in report["turns"]:
        assert set(turn) >= {"start_ms", "end_ms", "transcript", "intent", "slots", "bot", "response_ms"}
    assert any(json.loads(line)["event"] == "callback" for line in events.read_text().splitlines())


def test_a_replayed_call_back_is_stored_and_listed_with_its_context(tmp_path: Path) -> None:
    """`--now` means "as if it were then" for every decision: the call-back is booked as it was on
    23 November (no apology, no transfer), and since its time has passed in real life it is stored
    `expired`, never to be dialled."""
    config = tmp_path / "callbot.yaml"
    config.write_text(f"data_dir: {tmp_path / 'var'}\n")
    base = [sys.executable, "-m", "callbot.cli", "--config", str(config)]
    replay = subprocess.run(
        [
            *base,
            "replay",
            str(FIXTURES / "calls" / "rappel_demain_15h.wav"),
            "--json",
            "--asr",
            "whisper",
            "--now",
            "2026-11-23T10:30:00+01:00",
            "--store-callbacks",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert replay.returncode == 0, replay.stderr
    report = json.loads(replay.stdout)
    assert report["outcome"]["type"] == "callback"
    assert report["outcome"]["callback_at"] == "2026-11-24T15:00:00+01:00"
    said = " ".join(turn["bot"] or "" for turn in report["turns"])
    assert APOLOGY not in said and "Je vous passe" not in said, said
    listing = subprocess.run([*base, "callbacks", "list"], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    [row] = [line.split() for line in listing.stdout.splitlines()[1:]]
    assert row[1:4] == ["2026-11-24", "15:00", "service_client"]
    assert row[5] == "expired"
    shown = subprocess.run([*base, "callbacks", "show", row[0]], capture_output=True, text=True, timeout=60)
    assert "intent:          rappel" in shown.stdout
    assert "creneau_rappel: 2026-11-24T15:00:00+01:00" in shown.stdout
    assert "decided as of 2026-11-23T10:3" in shown.stdout


#: A higher Pico voice whose names Whisper cuts into other words on the line.
HIGH_VOICE = (95, 106, 1.4)


def spoken_call(
    tmp_path: Path,
    *turns: str,
    voice: tuple[int, int, float] = (95, 100, 0.0),
    noise_dbfs: float | None = None,
) -> Path:
    """A call of these caller turns in one Pico voice (speed, pitch, gain in dB) through the fixtures'
    phone line (its usual line noise, or `noise_dbfs`), each followed by 2.5 s of line noise for the bot
    to answer in."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_caller_audio", FIXTURES / "make_caller_audio.py")
    assert spec is not None and spec.loader is not None
    line = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = line  # its dataclasses look their module up
    spec.loader.exec_module(line)
    speed, pitch, gain_db = voice
    caller = line.Voice(speed=speed, pitch=pitch, gain_db=gain_db)
    noise = {} if noise_dbfs is None else {"noise_dbfs": noise_dbfs}
    pcm = b"".join(
        line.render_utterance(text, caller, seed=seed, tail_ms=2500, **noise).pcm
        for seed, text in enumerate(turns, 1)
    )
    from callbot.audio import write_wav

    write_wav(tmp_path / "call.wav", pcm, 8000)
    return tmp_path / "call.wav"


def test_a_store_answer_free_decoding_misses_is_found_among_the_expected_ones(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "À Marseille" after "Pour quel magasin ?" comes out of Whisper as "Merci."; scored against the
    stores the question expects, Marseille is far ahead, and the caller gets Marseille's hours."""
    recording = spoken_call(tmp_path, "Quels sont vos horaires ?", "À Marseille")
    result = replay_call(stack, recording, now=NOW)
    [closed] = [e for e in result.events if e["event"] == "asr_closed_set"]
    assert closed["accepted"] and closed["reading"] == "Marseille Vieux-Port"
    assert "Marseille" in (result.turns[1].bot or "")


def test_a_store_named_by_its_district_is_found_among_the_expected_answers(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "Celui du Vieux-Port" comes out of Whisper as "C'est lui du vie à tort."; the closed set holds
    the data's aliases in the frames callers use, so the district leads to its store (the city names
    alone put another store ahead)."""
    recording = spoken_call(tmp_path, "Quels sont vos horaires ?", "Celui du Vieux-Port")
    result = replay_call(stack, recording, now=NOW)
    [closed] = [e for e in result.events if e["event"] == "asr_closed_set"]
    assert closed["reading"] == "Marseille Vieux-Port"  # taken, or asked back: "…, c'est bien ça ?"
    assert "Marseille Vieux-Port" in (result.turns[1].bot or "")


def test_thursday_heard_as_je_dis_still_books_the_call_back_on_thursday(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """Whisper base writes "jeudi" said on the line as "Je dis à 14h30": where a day fits (before a time,
    or alone at the end) it is read as Thursday, and the call-back is booked then."""
    recording = spoken_call(tmp_path, "Je voudrais être rappelé", "Jeudi à quatorze heures trente", "Oui")
    result = replay_call(stack, recording, now=NOW)
    assert "je dis" in result.turns[1].transcript.lower()
    assert result.outcome.type == "callback"
    assert result.outcome.callback_at == datetime(2026, 11, 26, 14, 30, tzinfo=ZoneInfo("Europe/Paris"))


def test_a_time_primed_into_whisper_is_heard_with_its_day(
    stack: SpeechStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the call-back time is asked, Whisper's prompt ends with a time ("Rappelez-moi mercredi à 14
    heures, ou vendredi à 10h30."): "Mercredi à quinze heures trente" is written "Mercredi à 15h30." (on
    some CPUs "Mertredi à 15h30.", a long weekday a letter off, still Wednesday) and booked then. Without
    that primer the same audio came out "Merci dix à quinze heures prendre." or "Merci d'y à 15h30.", and
    today was read back."""
    recording = spoken_call(tmp_path, "Je voudrais être rappelé", "Mercredi à quinze heures trente", "Oui")
    primed = replay_call(stack, recording, now=NOW)
    listens = [e for e in primed.events if e["event"] == "listen"]
    assert listens[1]["primer"] == conversation.SLOT_PRIMERS["datetime"]
    assert "primer" not in listens[0] and "primer" not in listens[2]  # the menu; the read-back's yes or no
    assert primed.outcome.type == "callback"
    assert primed.outcome.callback_at == datetime(2026, 11, 25, 15, 30, tzinfo=ZoneInfo("Europe/Paris"))
    monkeypatch.setattr(conversation, "SLOT_PRIMERS", {})
    unprimed = replay_call(stack, recording, now=NOW)
    assert not unprimed.turns[1].transcript.lower().startswith("mercredi")
    assert unprimed.outcome.callback_at != primed.outcome.callback_at


def test_an_hour_free_decoding_misses_is_found_among_the_day_s_times(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """Once the day is known ("Jeudi 26 novembre, d'accord. À quelle heure ?"), "À dix-sept heures" that
    Whisper writes "Adic c'est peur." is scored against that day's bookable times: 17 h is clearly ahead,
    read back, and booked on the caller's yes."""
    recording = spoken_call(tmp_path, "Je voudrais être rappelé", "Jeudi", "À dix-sept heures", "Oui")
    result = replay_call(stack, recording, now=NOW)
    [closed] = [e for e in result.events if e["event"] == "asr_closed_set"]
    assert closed["accepted"] and closed["reading"] == "le 26 novembre à 17 h"
    assert result.outcome.type == "callback"
    assert result.outcome.callback_at == datetime(2026, 11, 26, 17, 0, tzinfo=ZoneInfo("Europe/Paris"))


def test_an_hour_misheard_as_a_goodbye_or_another_request_is_found_among_the_day_s_times(
    stack: SpeechStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Vers seize heures", once the day is asked for its hour. With the time primed, Whisper wrote
    "Vers tes heures." and its next reading "Vertez-les heures." sounds like a question about opening
    hours: while a value is asked, a reading that only changes the subject gives way to a sure answer
    of the closed set. Without the primer, Whisper wrote "Merci, au revoir." (the domain prompt ends
    with it): while the hour is asked, a bare goodbye is not taken as understood (it would only be asked
    back), so the day's times are scored too. Either way 16 h is read back. What free decoding writes
    for this audio differs between CPUs (int8 kernels): on some neither reading comes out, and the
    closed set finds 16 h all the same; tests/test_session.py pins both rules with scripted readings."""
    recording = spoken_call(tmp_path, "Je voudrais être rappelé", "Jeudi", "Vers seize heures")
    primed = replay_call(stack, recording, now=NOW)
    monkeypatch.setattr(conversation, "SLOT_PRIMERS", {})
    unprimed = replay_call(stack, recording, now=NOW)
    for result in (primed, unprimed):
        [closed] = [e for e in result.events if e["event"] == "asr_closed_set"]
        assert closed["accepted"] and closed["reading"] == "le 26 novembre à 16 h"
        assert (result.turns[2].bot or "").startswith("Je vous rappelle jeudi 26 novembre à 16 h")
        assert result.outcome.type != "hangup"


def test_a_goodbye_heard_before_any_answer_is_asked_back(stack: SpeechStack, tmp_path: Path) -> None:
    """Whisper writes "au revoir" for words it did not hear ("À quatorze heures" → "À qu'est-ce au
    revoir"): a caller who got no answer yet is asked before the call ends, and a yes ends it."""
    recording = spoken_call(tmp_path, "Merci, au revoir.", "Oui.")
    result = replay_call(stack, recording, now=NOW)
    assert result.turns[0].bot == "Vous souhaitez terminer l'appel, c'est bien ça ?"
    assert result.outcome.type == "hangup" and len(result.turns) == 2


def test_a_product_name_free_decoding_misses_is_found_among_the_product_names(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "Le plafonnier Halo" after "Quel produit cherchez-vous ?" comes out of Whisper as "Le performiel."
    in this voice: scored against the product names, the plafonnier leads, and the bot takes it or asks
    it back. (In the default voice, "Le plafondie à l'eau" now sounds like it without scoring.)"""
    recording = spoken_call(
        tmp_path,
        "Je voudrais savoir si un article est disponible.",
        "Le plafonnier Halo",
        voice=HIGH_VOICE,
    )
    result = replay_call(stack, recording, now=NOW)
    [closed] = [e for e in result.events if e["event"] == "asr_closed_set"]
    assert closed["reading"] == "le plafonnier Halo"
    bot = result.turns[1].bot or ""
    assert bot.startswith("Dans quel magasin") or bot == "Le plafonnier Halo, c'est bien ça ?"


def test_a_product_word_all_its_aliases_share_names_the_product(stack: SpeechStack, tmp_path: Path) -> None:
    """ "C'est l'ampoule à filament" comes out of Whisper as "C'est l'enthous la filament.": "filament"
    belongs to one product only (its aliases all have it), so that first reading names the bulb and the
    store is asked (before, only a later reading of the N-best did)."""
    recording = spoken_call(
        tmp_path,
        "Bonjour, j'aimerais contrôler le stock d'un de vos articles",
        "C'est l'ampoule à filament",
        voice=HIGH_VOICE,
    )
    result = replay_call(stack, recording, now=NOW)
    assert result.turns[1].slots.get("produit") == "ampoule_filament"
    assert (result.turns[1].bot or "").startswith("Dans quel magasin")
    # Whisper's first reading named it: no other reading was needed, no name scored against the audio.
    second_turn = [e for e in result.events if e["t_ms"] >= result.turns[1].end_ms]
    assert not [e for e in second_turn if e["event"] in ("asr_rescored", "asr_closed_set")]


def test_a_store_whisper_cuts_into_other_words_is_found_by_its_sound(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "Le magasin du Vieux-Port" while the store is asked comes out of Whisper as "Le magasin du
    live-port" (on other CPUs "Le magasin du report"), which a bare "magasin" made a stock request of:
    while a store is asked, "magasin" frames the answer and a new request that barely passes lets the
    other readings be tried; "… du vieux report" sounds like the Vieux-Port, "… du vieux port" is it."""
    recording = spoken_call(
        tmp_path, "Quels sont vos horaires ?", "Le magasin du Vieux-Port, s'il vous plaît", voice=HIGH_VOICE
    )
    result = replay_call(stack, recording, now=NOW)
    assert result.turns[1].slots.get("magasin") == "marseille_vieux_port"
    assert "Marseille Vieux-Port est ouvert" in (result.turns[1].bot or "")


def test_a_store_lost_at_the_end_of_the_request_is_found_among_the_store_endings(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "Je voudrais l'adresse du magasin de Lille" comes out of Whisper as "Je voudrais l'attresse de
    Maquassin de lui.": "attresse" is the address (a consonant's voicing lost on the line), and the
    store endings scored after "Je voudrais l'attresse de Maquassin" put "de Lille" clearly first, so
    the caller gets Lille's address instead of "Quel magasin ?"."""
    recording = spoken_call(tmp_path, "Je voudrais l'adresse du magasin de Lille", voice=(100, 93, 0.0))
    result = replay_call(stack, recording, now=NOW)
    [heard] = [e["text"] for e in result.events if e["event"] == "asr_final"]
    assert "lille" not in heard.lower()  # free decoding lost the store
    [ending] = [e for e in result.events if e["event"] == "asr_store_ending"]
    assert ending["accepted"] and ending["reading"].endswith("de Lille Grand Place.")
    assert ending["heard"] == "de lui" and ending["score"] >= ending["heard_score"] - ENDING_MAX_BELOW_HEARD
    assert result.turns[0].intent == "adresse_magasin"
    assert "21 place du Général-de-Gaulle" in (result.turns[0].bot or "")


def test_a_day_lost_at_the_end_of_an_hours_question_is_found_among_the_days(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "… est-ce que le magasin de Lille est ouvert dimanche ?" comes out of Whisper without its day
    ("… ouvert du monde ?" on a development call): the days scored after the question's words put
    "dimanche" clearly first, and the caller hears Sunday's hours, not today's."""
    recording = spoken_call(
        tmp_path, "Alors voilà, est-ce que le magasin de Lille est ouvert dimanche ?", voice=(94, 90, 0.0)
    )
    result = replay_call(stack, recording, now=NOW)
    [heard] = [e["text"] for e in result.events if e["event"] == "asr_final"]
    assert "dimanche" not in heard.lower()  # free decoding lost the day
    [day] = [e for e in result.events if e["event"] == "asr_day_in_request"]
    assert day["accepted"] and "dimanche" in day["reading"]
    assert "fermé le dimanche 29 novembre" in (result.turns[0].bot or "")


def test_a_follow_up_on_the_order_looked_up_asks_it_back_instead_of_the_number(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """After an order's status, "Et elle arrive quand exactement ?" asks back the order the call looked
    up, and a spoken yes gives its status again: the caller never says the number twice."""
    recording = spoken_call(
        tmp_path,
        "Où en est ma commande quatre cinq huit un deux neuf ?",
        "Et elle arrive quand exactement ?",
        "Oui.",
    )
    result = replay_call(stack, recording, now=NOW)
    assert result.turns[0].slots.get("numero_commande") == "458129"
    assert (result.turns[1].bot or "").startswith("S'agit-il toujours de la commande 458129 ?")
    assert "Votre commande 458129 est expédiée" in (result.turns[2].bot or "")


def test_an_order_number_misheard_by_a_digit_or_two_is_asked_back_as_the_known_order(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "Quatre, cinq, huit, un, deux, neuf" comes out of Whisper as "4, 108, 1, 2, 9." (no order has
    4108129): the known orders a digit or two away, scored after the answer's own words as callers
    say them, put 458129 clearly first and not far below what was heard, so the bot asks "La commande
    458129, c'est bien ça ?" and a yes gives its status, instead of "Je ne trouve aucune commande"."""
    recording = spoken_call(
        tmp_path,
        "Je voudrais suivre ma commande.",
        "Quatre, cinq, huit, un, deux, neuf.",
        "Oui, c'est ça.",
        voice=(100, 93, 0.0),
    )
    result = replay_call(stack, recording, now=NOW)
    heard = [e["text"] for e in result.events if e["event"] == "asr_final"][1]
    assert "458129" not in heard.replace(", ", "").replace(" ", "")  # free decoding lost a digit
    [near] = [e for e in result.events if e["event"] == "asr_order_near"]
    assert near["accepted"] and near["reading"].endswith("458129.")
    assert result.turns[1].bot == "La commande 458129, c'est bien ça ?"
    assert (result.turns[2].bot or "").startswith("Votre commande 458129 est expédiée.")


def test_an_order_number_heard_cut_by_a_word_is_asked_back_as_the_known_order(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "… de la commande quatre, six, un, deux, zéro, sept" comes out of Whisper on a noisy line as "…
    de la commande 4, puis 1, 2, 0, 7.": two runs of digits, no order number at all. Read without the
    word, 41207 is a digit from 461207; scored against the audio, that order is asked back, instead of
    "Je n'ai pas saisi le numéro"."""
    recording = spoken_call(
        tmp_path,
        "Je voudrais des nouvelles de la commande quatre, six, un, deux, zéro, sept",
        "Oui, c'est ça.",
        voice=(95, 115, 0.0),
        noise_dbfs=-46.0,
    )
    result = replay_call(stack, recording, now=NOW)
    heard = next(e["text"] for e in result.events if e["event"] == "asr_final")
    assert "461207" not in heard.replace(", ", "").replace(" ", "")  # free decoding lost the six
    [near] = [e for e in result.events if e["event"] == "asr_order_near"]
    assert near["accepted"] and near["reading"].endswith("461207.")
    assert result.turns[0].bot == "La commande 461207, c'est bien ça ?"
    assert (result.turns[1].bot or "").startswith("Votre commande 461207 est livrée.")


def test_an_order_number_heard_a_digit_short_is_asked_back_as_the_known_order(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "C'est le quatre, cinq, huit, un, trois, zéro" comes out as "C'est le cas 1, 8, 1, 3, 0.": five
    digits, too few for an order number. 458130 is two digits from 18130 and the audio says it."""
    recording = spoken_call(
        tmp_path,
        "Je voudrais suivre ma commande.",
        "C'est le quatre, cinq, huit, un, trois, zéro",
        "Oui, c'est ça.",
        voice=(88, 115, 0.0),
        noise_dbfs=-46.0,
    )
    result = replay_call(stack, recording, now=NOW)
    heard = [e["text"] for e in result.events if e["event"] == "asr_final"][1]
    assert "458130" not in heard.replace(", ", "").replace(" ", "")  # free decoding lost a digit
    [near] = [e for e in result.events if e["event"] == "asr_order_near"]
    assert near["accepted"] and near["reading"].endswith("458130.")
    assert result.turns[1].bot == "La commande 458130, c'est bien ça ?"
    assert "Votre commande 458130" in (result.turns[2].bot or "")


def test_a_stock_question_heard_without_its_product_and_its_store_gets_both_back(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "Est-ce qu'il vous reste un lampadaire Arco au magasin de Lille ?" comes out as "… un lampe à
    des rarcoes au magasin de l'huile ?": the products said in place of "lampe à des rarcoes" (the
    known "lampe" alone is no place) put the lampadaire clearly first, then the store endings put
    Lille first, and the caller gets the answer instead of two questions."""
    recording = spoken_call(tmp_path, "Est-ce qu'il vous reste un lampadaire Arco au magasin de Lille ?")
    result = replay_call(stack, recording, now=NOW)
    [heard] = [e["text"] for e in result.events if e["event"] == "asr_final"]
    assert "lampadaire" not in heard.lower() and "lille" not in heard.lower()  # free decoding lost both
    [product] = [e for e in result.events if e["event"] == "asr_product_in_request"]
    assert product["accepted"] and product["after"] == "Est-ce qu'il vous reste"  # "lampe à des rarcoes" too
    [store] = [e for e in result.events if e["event"] == "asr_store_ending"]
    assert store["accepted"] and store["reading"].endswith("de Lille Grand Place.")
    assert (result.turns[0].slots.get("produit"), result.turns[0].slots.get("magasin")) == (
        "lampadaire_arco",
        "lille_grand_place",
    )
    assert "le lampadaire Arco est en stock au magasin Lille Grand Place" in (result.turns[0].bot or "")


def test_a_store_heard_as_other_words_inside_the_request_is_found(stack: SpeechStack, tmp_path: Path) -> None:
    """ "Le magasin du Vieux-Port est ouvert jusqu'à quelle heure ?" comes out of Whisper as "Le magasin
    du vie report est ouvert …" on this voice: the stores said after "Le magasin" put the Vieux-Port
    clearly first, and the caller gets its hours instead of "Pour quel magasin ?"."""
    recording = spoken_call(
        tmp_path, "Le magasin du Vieux-Port est ouvert jusqu'à quelle heure ?", voice=(100, 93, 0.0)
    )
    result = replay_call(stack, recording, now=NOW)
    [heard] = [e["text"] for e in result.events if e["event"] == "asr_final"]
    assert "vieux-port" not in heard.lower().replace(" ", "-")  # free decoding lost the store
    [store] = [e for e in result.events if e["event"] == "asr_store_ending"]
    assert store["accepted"] and store["after"] == "Le magasin"
    assert result.turns[0].intent == "horaires"
    assert result.turns[0].slots.get("magasin") == "marseille_vieux_port"
    assert "Marseille Vieux-Port" in (result.turns[0].bot or "")


def test_a_keyword_cut_across_two_words_is_heard(stack: SpeechStack, tmp_path: Path) -> None:
    """ "Alors voilà, je voudrais savoir où en est ma livraison" comes out of Whisper as "… vous prendre
    mes malives raisons." on this voice and noisy line: "malives raisons" holds the sounds of
    "livraison", so the caller is taken for order tracking instead of "Pardon, je n'ai pas compris"."""
    recording = spoken_call(
        tmp_path,
        "Alors voilà, je voudrais savoir où en est ma livraison",
        voice=(96, 101, 1.7),
        noise_dbfs=-46.0,
    )
    result = replay_call(stack, recording, now=NOW)
    [heard] = [e["text"] for e in result.events if e["event"] == "asr_final"]
    assert "livraison" not in heard.lower()  # free decoding cut the keyword
    assert result.turns[0].intent == "suivi_commande"


#: Voices in which the pause before the last digit of "… quatre, sept, un, neuf, quatre, deux" is longer
#: than the end of a turn.
PAUSED_NUMBER_VOICES = ((92, 98, 0.0), (94, 98, 1.8), (92, 100, 1.8))


def test_an_order_number_read_out_with_a_pause_before_its_last_digit_is_heard_whole(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "… la commande quatre, sept, un, neuf, quatre, deux": in these voices the pause before "deux" is
    longer than the end of a turn. The words so far stop inside the number, so the bot waits; "deux"
    goes on with the same turn, and the whole number is read together. How Whisper writes the digits
    differs between CPUs and line-noise estimates (one voice of four lost a digit once the hiss was
    measured without the replay's digital silence): every voice must be held and continued, and two at
    least read whole."""
    whole = 0
    for voice in PAUSED_NUMBER_VOICES:
        recording = spoken_call(
            tmp_path,
            "Alors voilà, je voudrais des nouvelles de la commande quatre, sept, un, neuf, quatre, deux",
            voice=voice,
            noise_dbfs=-60.0,
        )
        result = replay_call(stack, recording, now=NOW)
        events = [e["event"] for e in result.events if e["event"] in ("turn_held", "speech_continued")]
        assert events[:2] == ["turn_held", "speech_continued"], voice
        if result.turns[0].slots == {"numero_commande": "471942"}:
            assert "471942" in (result.turns[0].bot or "")
            whole += 1
    assert whole >= 2


#: Voices whose "… me rappeler mercredi à seize heures ?" Whisper writes with the time as other words:
#: "… me rappeler tout bien à ses œufs." (the day and the hour lost), "… mercredi à ses œufres." (the hour).
CALL_BACK_TIME_VOICES = ((92, 105, 0.0, -47.0), (89, 107, 1.0, -46.0))


def test_a_call_back_time_heard_as_other_words_after_the_verb_is_scored_there(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """The days are scored after "me rappeler", and the hours after the day found or heard: Wednesday is
    read back with its hour when one is clearly ahead, else "Mercredi 25 novembre, d'accord. À quelle
    heure ?", instead of "Quand souhaitez-vous être rappelé ?" (or today, for a bare hour). What free
    decoding writes differs between CPUs: each voice must reach Wednesday, and one at least must have
    had its time scored."""
    scored = 0
    for speed, pitch, gain, noise in CALL_BACK_TIME_VOICES:
        recording = spoken_call(
            tmp_path,
            "Alors voilà, est-ce qu'on pourrait me rappeler mercredi à seize heures ?",
            voice=(speed, pitch, gain),
            noise_dbfs=noise,
        )
        result = replay_call(stack, recording, now=NOW)
        assert result.turns[0].intent == "rappel"
        assert (result.turns[0].bot or "").startswith(
            (
                "Je vous rappelle mercredi 25 novembre à 16 h",
                "Mercredi 25 novembre, d'accord. À quelle heure ?",
            )
        )
        scored += any(e["event"] == "asr_time_in_request" and e["accepted"] for e in result.events)
    assert scored


def test_a_near_tie_of_two_requests_lets_the_next_reading_decide(stack: SpeechStack, tmp_path: Path) -> None:
    """ "Je voudrais savoir si un produit est en stock" comes out of Whisper as "… est en stop.", which
    scores a complaint 0.536 and a stock question 0.534: a near-tie is not taken as understood, and the
    second reading of the N-best ("… en stock.") is."""
    recording = spoken_call(
        tmp_path, "Bonjour, je voudrais savoir si un produit est en stock", voice=(103, 101, 0.5)
    )
    result = replay_call(stack, recording, now=NOW)
    assert result.turns[0].intent == "disponibilite"
    assert result.turns[0].bot.startswith("Quel produit cherchez-vous")


def test_a_call_back_asked_for_with_the_verb_half_heard_is_understood(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "J'aimerais être rappelé demain" comes out of Whisper as "J'aimerais se rater demain." on this
    voice: after its pronoun, "rater" is the "rappeler" the line swallowed, and tomorrow is kept."""
    recording = spoken_call(tmp_path, "J'aimerais être rappelé demain", voice=(103, 105, -1.8))
    result = replay_call(stack, recording, now=NOW)
    assert result.turns[0].intent == "rappel"
    assert result.turns[0].bot.startswith("Demain, mardi 24 novembre, d'accord. À quelle heure ?")


def test_a_store_the_model_favours_on_any_audio_does_not_win_a_short_answer(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "Lille" alone comes out of Whisper as "Oui."; scored raw, "Marseille." led (it scores well on any
    short sound) and was asked back; with each phrase's score on line noise discounted, Lille leads."""
    recording = spoken_call(tmp_path, "Quels sont vos horaires ?", "Lille", voice=(98, 107, 0.5))
    result = replay_call(stack, recording, now=NOW)
    [closed] = [e for e in result.events if e["event"] == "asr_closed_set"]
    assert closed["reading"] == "Lille Grand Place"
    assert "Lille Grand Place" in result.turns[1].bot


def test_an_order_number_no_order_has_is_asked_again_and_found(stack: SpeechStack, tmp_path: Path) -> None:
    """A number that matches no order and is not near one (misheard, or mistyped by the caller) is asked
    for once more, digit by digit, before a person is offered: the second try finds the order. (A number
    a digit or two from an order gets that order asked back first.)"""
    recording = spoken_call(
        tmp_path,
        "Ma commande porte le numéro neuf cent douze mille trois cent quarante, où en est-elle ?",
        "Quatre, cinq, huit, un, trois, zéro.",
    )
    result = replay_call(stack, recording, now=NOW)
    first, second = result.turns[0], result.turns[1]
    assert (first.bot or "").startswith("Je ne trouve aucune commande avec le numéro 9")
    assert "Redites-moi le numéro chiffre par chiffre" in (first.bot or "")
    heard = first.slots["numero_commande"]  # what was heard stays in the call's record
    assert heard != "458130" and f"le numéro {heard}." in (first.bot or "")
    assert (second.bot or "").startswith("Votre commande 458130 est en cours de préparation.")


def test_a_replay_can_answer_what_the_recording_did_not_plan_for(stack: SpeechStack) -> None:
    """`replay_call(answer=...)`: the hook hears each bot reply with the index of the recording's next
    turn, and what it returns is played as a caller turn before the recording goes on (the scripted
    callers of bench/task_success.py answer "c'est bien ça ?" this way)."""
    extra = (FIXTURES / "callers").glob("*.wav")
    interjection = next(p for p in sorted(extra) if "au_revoir" in p.name)
    asked: list[tuple[str, int]] = []

    def answer(bot: str, next_turn: int) -> bytes | None:
        asked.append((bot, next_turn))
        return read_wav(interjection).pcm if len(asked) == 1 else None

    result = replay_call(stack, FIXTURES / "calls" / "horaires.wav", now=NOW, answer=answer)
    assert asked[0][1] == 1 and "Lyon Part-Dieu" in asked[0][0]  # after the request, before the goodbye
    assert result.outcome.type == "hangup" and result.outcome.reason == "intent:au_revoir"
    assert len(asked) == 1  # the call ended on the interjected goodbye: the recording's was never needed


def test_closed_set_priors_are_scored_before_the_first_call(stack: SpeechStack, monkeypatch) -> None:
    """`serve` warms the priors of every store, product and hour phrase once at start-up; a call's
    closed set then scores only the caller's audio."""
    assert stack.warm_closed_sets() > 50
    engine = stack.engine

    def no_more_scoring(audio, phrases):
        raise AssertionError(f"scored again: {phrases[:3]}")

    monkeypatch.setattr(engine, "score", no_more_scoring)
    assert len(engine.prior(["À 14h30.", "À quatorze heures trente.", "Lyon"])) == 3


def test_a_store_ending_that_sounds_like_what_was_heard_is_taken_further_below_it(
    stack: SpeechStack, tmp_path: Path
) -> None:
    """ "Bonjour, est-ce qu'il vous reste un lampadaire Arco au magasin de Lille ?" comes out "… au
    magasin de l'huile ?": Whisper scores its own words far above a city it does not know (more than
    the 2.0 a store forced onto other words may be below them), but "l'huile" sounds like "Lille", so
    the store is taken and the caller gets the answer instead of "Dans quel magasin ?"."""
    recording = spoken_call(
        tmp_path, "Bonjour, est-ce qu'il vous reste un lampadaire Arco au magasin de Lille ?"
    )
    result = replay_call(stack, recording, now=NOW)
    [store] = [e for e in result.events if e["event"] == "asr_store_ending"]
    assert store["accepted"] and store["reading"].endswith("de Lille Grand Place.")
    # On this machine "de l'huile", 2.26 below: taken for its sound alone (the rule is pinned by
    # tests/test_closed_set.py; another CPU's int8 decoding may write other words).
    assert "lille" not in store["heard"].lower()
    assert result.turns[0].slots.get("magasin") == "lille_grand_place"
    assert "Lille Grand Place" in (result.turns[0].bot or "")


def test_a_one_word_store_answer_is_found_on_a_second_look(stack: SpeechStack, tmp_path: Path) -> None:
    """ "Lyon" said alone to "Pour quel magasin ?" comes out "C'est.", and the store phrases scored on
    Whisper's usual 6 s window put no store clearly first (Marseille barely ahead, on the development
    calls); the turn is short, so it is scored again with the encoder on the full 30 s window, where
    Lyon is clearly first, and the caller gets Lyon's hours."""
    recording = spoken_call(tmp_path, "Quels sont vos horaires ?", "Lyon")
    result = replay_call(stack, recording, now=NOW)
    [_, heard] = [e["text"] for e in result.events if e["event"] == "asr_final"]
    assert "lyon" not in heard.lower()  # free decoding lost the store
    [closed] = [e for e in result.events if e["event"] == "asr_closed_set"]
    assert closed["accepted"] and closed["reading"] == "Lyon Part-Dieu"
    # On this machine the first scoring put no store clearly first and the second look took Lyon (the
    # rule is pinned by tests/test_session.py; another CPU's int8 scores may differ).
    assert closed["second_look"] is None or "kept_the_first" not in closed["second_look"]
    assert result.turns[1].slots.get("magasin") == "lyon_part_dieu"
    assert "Lyon Part-Dieu est ouvert" in (result.turns[1].bot or "")


def test_a_call_whose_first_turn_is_misread_still_gets_the_order_status(stack: SpeechStack) -> None:
    """The call of DECISION_MISREADS: its first turn is not understood, its second names the order."""
    result = replay_call(stack, FIXTURES / "calls" / "suivi_commande.wav", now=NOW)
    assert result.outcome.type == "hangup"
    assert any("458129" in (turn.bot or "") for turn in result.turns)
