"""What a caller hears when a call-back cannot be booked: one French sentence per refusal code.

Kept apart from the store (SQLAlchemy) so that a conversation can say a refusal without importing it.
"""

from __future__ import annotations

_REFUSAL_FR: dict[str, str] = {
    "past": "Ce moment est déjà passé.",
    "too_soon": "C'est un peu trop tôt pour organiser le rappel.",
    "too_far": "Nous ne programmons pas de rappel aussi loin.",
    "closed": "Nos conseillers ne sont pas disponibles à ce moment-là.",
    "holiday": "Ce jour-là est férié, nos conseillers ne sont pas disponibles.",
    "full": "Ce créneau est déjà complet.",
    "slot_full": "Ce créneau est déjà complet.",
    "phone_limit": "Plusieurs rappels sont déjà prévus pour ce numéro ce jour-là.",
    "phone_pending": "Plusieurs rappels sont déjà prévus pour ce numéro.",
    "callbacks_full": "Nous ne pouvons plus programmer de rappel à ce moment-là.",
    "day_full": "Nous ne pouvons plus programmer de rappel ce jour-là.",
    "caller_id_required": "Votre numéro n'est pas présenté : je ne peux pas programmer de rappel.",
    "invalid_phone": "Ce numéro ne semble pas valide.",
    "phone_not_allowed": "Nous ne pouvons pas rappeler ce numéro.",
    "unknown_queue": "Je ne peux pas programmer ce rappel.",
}


def refusal_sentence(code: str) -> str:
    """The French sentence for a refusal code (`CallbackRefused.code`), alone (no slots offered)."""
    return _REFUSAL_FR.get(code, "Je ne peux pas programmer ce rappel.")
