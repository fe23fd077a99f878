"""Picking a closed-set answer from phrase scores: a reading is as good as its best phrase, priors
discounted, taken when sure, asked back when it only leads."""

from __future__ import annotations

import math

from callbot.dialog.turns import RequestEndings
from callbot.session.closed_set import (
    ENDING_MAX_BELOW_HEARD,
    MIN_MARGIN,
    PRIOR_WEIGHT,
    SOUND_ALIKE_MAX_BELOW_HEARD,
    ClosedSetPick,
    ending_taken,
    pick,
)

STORES = {
    "Lyon.": "Lyon Part-Dieu",
    "Celui de Lyon.": "Lyon Part-Dieu",
    "Marseille.": "Marseille Vieux-Port",
    "Lille.": "Lille Grand Place",
}


def test_a_reading_is_as_good_as_its_best_phrase() -> None:
    found = pick(STORES, [-4.0, -1.2, -3.0, -3.5])
    assert found == ClosedSetPick("Lyon Part-Dieu", -1.2, 3.0 - 1.2)
    assert found.sure and found.leads


def test_a_phrase_the_model_favours_on_any_audio_is_discounted() -> None:
    """ "C'est." for "Lyon": Marseille scores a little better, but it scores well on line noise too."""
    scores = [-3.0, -3.6, -2.9, -4.0]
    assert pick(STORES, scores).reading == "Marseille Vieux-Port"
    priors = [-6.0, -6.5, -3.0, -6.0]
    found = pick(STORES, scores, priors)
    assert found is not None and found.reading == "Lyon Part-Dieu"
    assert found.score == -3.0  # its own score: how well the audio fits it, for the thresholds
    lille = -4.0 + PRIOR_WEIGHT * 6.0  # second once discounted; Marseille falls to third
    assert math.isclose(found.margin, (-3.0 + PRIOR_WEIGHT * 6.0) - lille)


def test_a_close_leader_is_only_asked_back_and_a_tie_not_even_that() -> None:
    close = pick(STORES, [-3.0, -3.3, -3.3, -6.0])
    assert close is not None and not close.sure and close.leads and close.margin < MIN_MARGIN
    tie = pick(STORES, [-3.0, -3.3, -3.0, -6.0])
    assert tie is not None and not tie.leads


def test_an_answer_read_back_before_use_is_taken_from_a_good_score_with_a_smaller_lead() -> None:
    """A call-back hour is read back with its day before anything is booked: that is its ask-back."""
    good = pick(STORES, [-2.5, -6.0, -2.85, -6.0])
    assert good is not None and not good.sure and good.sure_when_read_back
    poorer = pick(STORES, [-3.5, -6.0, -3.9, -6.0])
    assert poorer is not None and not poorer.sure_when_read_back
    near_tie = pick(STORES, [-2.5, -6.0, -2.7, -6.0])
    assert near_tie is not None and not near_tie.sure_when_read_back


def test_nothing_to_pick_from() -> None:
    assert pick({}, []) is None
    assert pick(STORES, [-1.0]) is None  # scores that do not match the phrases
    only = pick({"Lyon.": "Lyon Part-Dieu"}, [-1.0])
    assert only is not None and only.margin == math.inf and only.sure


def _store_endings(heard: str) -> RequestEndings:
    """ "Est-ce qu'il vous reste un lampadaire Arco au magasin" and the store endings a flow offers."""
    said = "Est-ce qu'il vous reste un lampadaire Arco au magasin {}."
    endings = {
        "de Lille": said.format("de Lille Grand Place"),
        "de la Grand-Place": said.format("de Lille Grand Place"),
        "de Lyon": said.format("de Lyon Part-Dieu"),
    }
    return RequestEndings("stores", said.format("")[:-2], heard, endings)


def test_a_store_ending_far_below_what_was_heard_is_taken_only_when_it_sounds_like_it() -> None:
    """ "… au magasin de Lille ?" came out "… de l'huile ?": Whisper scores its own words far above a
    name it does not know, but they sound alike; "de cuisine" forced onto Lille does not."""
    below = ENDING_MAX_BELOW_HEARD + 0.5
    assert below < SOUND_ALIKE_MAX_BELOW_HEARD
    lille = ClosedSetPick(_store_endings("").endings["de Lille"], -2.8, 1.1)
    assert ending_taken(lille, -2.8 + below, _store_endings("de l'huile"))
    assert not ending_taken(lille, -2.8 + below, _store_endings("de cuisine"))
    assert not ending_taken(lille, -2.8 + SOUND_ALIKE_MAX_BELOW_HEARD + 0.1, _store_endings("de l'huile"))
    # within the usual distance, what was heard need not sound like the store
    assert ending_taken(lille, -2.8 + ENDING_MAX_BELOW_HEARD - 0.1, _store_endings("de cuisine"))


def test_a_place_whisper_wrote_as_a_name_is_no_sound_alike() -> None:
    """ "de Versailles" sounds like "de Marseille", "de Lyons" like "de Lyon": a capitalised word is a
    place Whisper knows, what the caller said; only the usual distance applies."""
    below = ENDING_MAX_BELOW_HEARD + 0.5
    lyon = ClosedSetPick(_store_endings("").endings["de Lyon"], -2.8, 1.1)
    assert ending_taken(lyon, -2.8 + below, _store_endings("de lyons"))
    assert not ending_taken(lyon, -2.8 + below, _store_endings("de Lyons"))


def test_the_preposition_says_nothing_of_the_store() -> None:
    """ "du lion" and "de Lyon" sound alike once "du" and "de" are left out."""
    below = ENDING_MAX_BELOW_HEARD + 0.5
    lyon = ClosedSetPick(_store_endings("").endings["de Lyon"], -2.8, 1.1)
    assert ending_taken(lyon, -2.8 + below, _store_endings("du lion"))
    assert ending_taken(lyon, -2.8 + below, _store_endings("des lions"))


def test_a_sound_alike_ending_must_still_be_sure_and_sound_like_the_store_that_leads() -> None:
    lyon = ClosedSetPick(_store_endings("").endings["de Lyon"], -2.8, 1.1)
    assert not ending_taken(lyon, -0.3, _store_endings("de l'huile"))  # sounds like Lille, not Lyon
    unsure = ClosedSetPick(_store_endings("").endings["de Lille"], -2.8, MIN_MARGIN - 0.1)
    assert not ending_taken(unsure, -2.7, _store_endings("de l'huile"))
