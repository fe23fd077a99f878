"""Picking a closed-set answer from phrase scores: a reading is as good as its best phrase, priors
discounted, taken when sure, asked back when it only leads."""

from __future__ import annotations

import math

from callbot.session.closed_set import MIN_MARGIN, PRIOR_WEIGHT, ClosedSetPick, pick

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
