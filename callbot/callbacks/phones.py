"""Which numbers callbot may call back, written in E.164.

A call-back is an outbound call paid by the contact centre: a caller (or a script) that gives a premium-rate
or foreign number would turn the bot into a toll-fraud tool. So numbers are checked, normalised to E.164
(`+33612345678`) and kept to the numbers billed as national (metropolitan France and the overseas
departments) unless configured.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from callbot.callbacks.models import CallbackRefused

_OVERSEAS = frozenset({"GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"})  # share France's 0 trunk prefix
FRENCH_REGIONS = frozenset({"FR", "NC", "PF", "WF"} | _OVERSEAS)
#: Where a call-back goes by default: metropolitan France and the overseas departments and
#: collectivities whose numbers (+590, +594, +596, +262, +269) French operators bill as national.
#: New Caledonia (+687), French Polynesia (+689), Wallis and Futuna (+681) and Saint-Pierre-et-Miquelon
#: (+508) are international calls: refused unless configured.
NATIONAL_RATE_REGIONS = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "BL", "MF"})
_REFUSED_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.UAN: "a service number",
    PhoneNumberType.PAGER: "a pager number",
}


@dataclass(frozen=True)
class PhonePolicy:
    """`default_region` reads national numbers ("06 12 34 56 78"); `regions` are those we call back."""

    default_region: str = "FR"
    regions: Collection[str] = NATIONAL_RATE_REGIONS

    def normalise(self, raw: str | None) -> str:
        """E.164 text, or CallbackRefused('invalid_phone' / 'phone_not_allowed')."""
        if raw is None or not raw.strip():
            raise CallbackRefused("invalid_phone", "no phone number to call back (none given, no caller id)")
        try:
            number = phonenumbers.parse(raw, self.default_region)
        except NumberParseException:
            raise CallbackRefused("invalid_phone", f"'{raw}' is not a phone number") from None
        if not phonenumbers.is_valid_number(number) and self.default_region == "FR":
            # Overseas numbers are dialled in the national format from mainland France (0692…, 0590…).
            for overseas_region in sorted(_OVERSEAS):
                overseas = phonenumbers.parse(raw, overseas_region)
                if phonenumbers.is_valid_number(overseas):
                    number = overseas
                    break
        if not phonenumbers.is_valid_number(number):
            raise CallbackRefused("invalid_phone", f"'{raw}' is not a valid phone number")
        region = phonenumbers.region_code_for_number(number)
        if region not in self.regions:
            raise CallbackRefused(
                "phone_not_allowed",
                f"'{raw}' is a number in {region}; call-backs go to {', '.join(sorted(self.regions))}",
            )
        kind = phonenumbers.number_type(number)
        if kind in _REFUSED_TYPES:
            raise CallbackRefused(
                "phone_not_allowed", f"'{raw}' is {_REFUSED_TYPES[kind]}; it is not called back"
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
