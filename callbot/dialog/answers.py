"""The answers data file (stores, opening hours, orders, stock) and the lookups a flow's `answer:` runs.

Ops update this file far more often than the flow itself (a bank holiday, a new order batch for a demo,
stock levels), so it is validated as strictly as the flow, with the same one-line errors. Lookups return
ready-to-say French fragments (`{answer.today}` → "ouvert aujourd'hui de 10 h à 20 h") so that prompts stay
short and readable in the flow file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from callbot.dialog import french
from callbot.dialog.issues import FlowIssue, issues_from_validation, known_names, unknown_name_fix
from callbot.dialog.nlu.normalize import normalize
from callbot.dialog.yaml_lines import LocatedYaml, YamlProblem, load_located

Weekday = Literal["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
OrderStatus = Literal[
    "en_preparation", "expediee", "en_livraison", "livree", "retardee", "annulee", "prete_en_magasin"
]
Lookup = Literal["store_hours", "store_address", "order_status", "product_stock"]

CLOSED_WORDS = ("fermé", "ferme", "closed")
_CLOCK = r"(\d{1,2})\s*(?:h|:)\s*(\d{2})?"
_RANGE = re.compile(rf"^\s*{_CLOCK}\s*(?:-|–|—|à)\s*{_CLOCK}\s*$")
_RANGE_SPLIT = re.compile(r"\s*(?:,|;|\bet\b)\s*")

OpeningRanges = tuple[tuple[time, time], ...]


def parse_opening(text: str) -> OpeningRanges:
    """'10:00-20:00', '9 h 30 – 19 h', '10:00-13:00, 14:00-19:00' or 'fermé' → ranges (empty = closed)."""
    cleaned = text.strip().lower()
    if cleaned in CLOSED_WORDS:
        return ()
    ranges: list[tuple[time, time]] = []
    for part in _RANGE_SPLIT.split(cleaned):
        found = _RANGE.match(part)
        if found is None:
            raise ValueError(
                f"cannot read opening hours '{text}' — write them like 10:00-20:00, "
                "10:00-13:00, 14:00-19:00, or fermé"
            )
        h1, m1, h2, m2 = (int(g) if g else 0 for g in found.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"'{part}' is not a time of day — hours go from 0 to 24, minutes 0 to 59")
        start, end = time(h1, m1), time(23, 59) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValueError(f"'{part}' closes before it opens — write the opening time first")
        if ranges and start < ranges[-1][1]:
            raise ValueError(f"'{text}' has overlapping ranges — list them in order, without overlap")
        ranges.append((start, end))
    return tuple(ranges)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DayException(_Strict):
    """A day with unusual hours: bank holiday, inventory, Christmas Eve."""

    hours: str
    reason: str | None = None

    @field_validator("hours")
    @classmethod
    def _readable_hours(cls, value: str) -> str:
        parse_opening(value)
        return value

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        # `2026-12-25: fermé` is the short form of `{hours: fermé}`.
        return {"hours": value} if isinstance(value, str) else value


class Store(_Strict):
    name: str = Field(min_length=1)
    aliases: list[str] = []
    address: str = Field(min_length=1)
    postcode: str
    city: str = Field(min_length=1)
    phone: str
    hours: dict[Weekday, str]
    exceptions: dict[date, DayException] = {}

    @field_validator("postcode")
    @classmethod
    def _five_digits(cls, value: str) -> str:
        if not re.fullmatch(r"\d{5}", value.strip()):
            raise ValueError(
                f"postcode '{value}' is not five digits — write it between quotes, e.g. \"75001\""
            )
        return value.strip()

    @field_validator("phone")
    @classmethod
    def _french_number(cls, value: str) -> str:
        digits = re.sub(r"[\s.\-]", "", value)
        if not re.fullmatch(r"0[1-9]\d{8}", digits):
            raise ValueError(
                f"phone '{value}' is not a French number — write ten digits, e.g. 01 42 60 38 15"
            )
        return value

    @field_validator("hours")
    @classmethod
    def _every_day(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [day for day in french.WEEKDAYS if day not in value]
        if missing:
            raise ValueError(
                f"no hours for {french.join(missing)} — add one line per day, e.g. dimanche: fermé"
            )
        for text in value.values():
            parse_opening(text)
        return value


class Order(_Strict):
    status: OrderStatus
    placed_on: date | None = None
    delivery_date: date | None = None
    carrier: str | None = None
    store: str | None = None
    items: list[str] = []
    note: str | None = None

    @model_validator(mode="after")
    def _status_needs(self) -> Order:
        if self.status in ("expediee", "en_livraison") and not self.carrier:
            raise ValueError(f"status {self.status} needs a carrier — add carrier: e.g. Colissimo")
        if self.status == "prete_en_magasin" and not self.store:
            raise ValueError("status prete_en_magasin needs the store — add store: e.g. lyon_part_dieu")
        return self


class Product(_Strict):
    name: str = Field(min_length=1)
    aliases: list[str] = []
    price: Annotated[float, Field(ge=0)] | None = None
    stock: dict[str, Annotated[int, Field(ge=0)]]


#: How many known orders near a number heard are offered at most (`AnswersData.orders_near`; how near is
#: the flow's `settings.near_order_digits`).
ORDERS_NEAR = 4


class AnswersData(_Strict):
    """The content of the answers data file (`data:` in the flow)."""

    chain: str = Field(min_length=1)
    stores: dict[str, Store] = Field(min_length=1)
    orders: dict[str, Order] = {}
    products: dict[str, Product] = {}

    def names(self, source: str) -> dict[str, str]:
        """Spoken name or alias (as written) → key, for `match_entity` on an entity slot's list."""
        entries: Mapping[str, Store | Product] = self.stores if source == "stores" else self.products
        table: dict[str, str] = {}
        for key, entry in entries.items():
            for name in (entry.name, *entry.aliases):
                table.setdefault(name, key)
        return table

    def orders_near(self, number: str, most_edits: int, limit: int = ORDERS_NEAR) -> list[str]:
        """The known order numbers a digit or two from `number` (a digit misheard, one too many or one
        lost: "4108129" for "458129"), nearest first, at most `limit`; not `number` itself. The
        recogniser's digits on a phone line are often this far off (the development calls' commonest
        failure); the session scores these against the turn's audio (`Conversation.order_in_the_turn`).
        rapidfuzz keeps it fast on a large order table."""
        found = process.extract(
            number, list(self.orders), scorer=Levenshtein.distance, score_cutoff=most_edits, limit=limit + 1
        )
        return [order for order, edits, _ in sorted(found, key=lambda hit: hit[1]) if order != number][:limit]

    def store_cities(self) -> dict[str, str]:
        """Each store's city → the store's name: how callers most often answer "Pour quel magasin ?"."""
        return {store.city: store.name for store in self.stores.values()}

    def store_answers(self) -> dict[str, str]:
        """What a caller answers to "Pour quel magasin ?" → the store's name: the closed set a recogniser
        scores an answer against. The city and the names the data gives (its name, its aliases), bare,
        and the city or an alias with an article in the frames callers put them in ("Celui de Lyon",
        "Le magasin du Vieux-Port"). A form two stores share (two stores in Lyon) is left out: it picks
        no store."""
        said: list[tuple[str, list[str]]] = []
        for store in self.stores.values():
            forms = [store.city, store.name, *store.aliases]
            framed = [
                frame.format(french.of(form))
                for form in forms
                if _takes_frame(form, store.city)
                for frame in _FRAMES
            ]
            said.append((store.name, [*forms, *framed]))
        return _naming_one_store(said)

    def store_tails(self) -> dict[str, str]:
        """How a request ends on a store ("… au magasin de Lille", "… celui du Vieux-Port") → the
        store's name: "de" before the city, the store's name and the names the data gives that are
        said as they are (capitalised, or with their article). A form two stores share is left out."""
        said: list[tuple[str, list[str]]] = []
        for store in self.stores.values():
            forms = [store.city, store.name, *store.aliases]
            # "Part-Dieu" is said with its article when the data gives one: "de la Part-Dieu" only.
            with_article = {
                normalize(french.ARTICLE.sub("", form)) for form in forms if french.ARTICLE.match(form)
            }
            said.append(
                (
                    store.name,
                    [
                        french.of(form)
                        for form in forms
                        # nor is "rue de Rivoli" said "de rue de Rivoli"
                        if normalize(form) not in with_article
                        and (form[:1].isupper() or french.ARTICLE.match(form))
                    ],
                )
            )
        return _naming_one_store(said)

    def display(self, source: str, key: str) -> str:
        entries: Mapping[str, Store | Product] = self.stores if source == "stores" else self.products
        entry = entries.get(key)
        return entry.name if entry is not None else key


ENTITY_SOURCES: tuple[str, ...] = ("stores", "products")

#: How callers frame a store's city or district when asked which store ("Celui de Lyon").
_FRAMES = ("Celui {}", "Le magasin {}")


def _naming_one_store(said: list[tuple[str, list[str]]]) -> dict[str, str]:
    """Each store's phrases (store name, phrases) → phrase → the store it names: one spelling per way of
    saying it ("Grand Place" and "Grand-Place" sound the same), and a phrase two stores share (two
    stores in Lyon) left out: it names neither."""
    named: dict[str, str] = {}
    shared: set[str] = set()
    for store, phrases in said:
        spellings: dict[str, str] = {}
        for phrase in phrases:
            spellings.setdefault(normalize(phrase), phrase)
        for phrase in spellings.values():
            if named.get(phrase, store) != store:
                shared.add(phrase)
            named[phrase] = store
    return {phrase: store for phrase, store in named.items() if phrase not in shared}


def _takes_frame(form: str, city: str) -> bool:
    """The city, or an alias that starts with its article ("le Vieux-Port"): the forms said after
    "celui de" as they are. A bare district ("Rivoli", "rue de Rivoli") is scored bare only."""
    return form == city or french.ARTICLE.match(form) is not None


def load_answers(path: Path, display_path: str) -> tuple[AnswersData | None, list[FlowIssue]]:
    """Read and check a data file. Returns the data (None when unusable) and every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [FlowIssue(display_path, None, "data file not found", "fix data: in the flow file")]
    except (OSError, UnicodeDecodeError) as error:
        return None, [FlowIssue(display_path, None, f"cannot read data file: {error}", "save it as UTF-8")]
    try:
        source = load_located(text)
    except YamlProblem as problem:
        return None, [FlowIssue(display_path, problem.line, problem.message, problem.fix)]
    if not isinstance(source.data, dict):
        return None, [
            FlowIssue(
                display_path,
                1,
                "the data file must be a block of 'key: value' lines",
                "start with chain:, stores:, orders: and products:",
            )
        ]
    try:
        data = AnswersData.model_validate(source.data)
    except ValidationError as error:
        return None, issues_from_validation(error, source, display_path, AnswersData)
    issues = _cross_check(data, source, display_path)
    return (None if any(issue.severity == "error" for issue in issues) else data), issues


def _cross_check(data: AnswersData, source: LocatedYaml, display_path: str) -> list[FlowIssue]:
    issues: list[FlowIssue] = []
    stores = list(data.stores)
    for number in data.orders:
        if not re.fullmatch(r"\d{6,10}", number):
            issues.append(
                FlowIssue(
                    display_path,
                    source.line_of(("orders", number)),
                    f"order number '{number}' is not 6 to 10 digits",
                    "write the number callers read from their confirmation e-mail, digits only",
                )
            )
    for number, order in data.orders.items():
        if order.store is not None and order.store not in data.stores:
            issues.append(
                FlowIssue(
                    display_path,
                    source.line_of(("orders", number, "store")),
                    f"unknown store '{order.store}' in order {number}",
                    unknown_name_fix("store", order.store, stores, "stores:"),
                )
            )
    for key, product in data.products.items():
        for store in product.stock:
            if store not in data.stores:
                issues.append(
                    FlowIssue(
                        display_path,
                        source.line_of(("products", key, "stock", store)),
                        f"unknown store '{store}' in the stock of {key}",
                        unknown_name_fix("store", store, stores, "stores:"),
                    )
                )
    for section in ENTITY_SOURCES:
        issues.extend(_ambiguous_names(data, section, source, display_path))
    return issues


def _ambiguous_names(
    data: AnswersData, section: str, source: LocatedYaml, display_path: str
) -> list[FlowIssue]:
    """Two stores (or products) answering to the same name would make the bot pick one at random."""
    entries: Mapping[str, Store | Product] = data.stores if section == "stores" else data.products
    owner: dict[str, str] = {}
    issues: list[FlowIssue] = []
    for key, entry in entries.items():
        for index, name in enumerate((entry.name, *entry.aliases)):
            folded = name.strip().lower()
            if folded in owner and owner[folded] != key:
                line = source.line_of(
                    (section, key, "aliases", index - 1) if index else (section, key, "name")
                )
                issues.append(
                    FlowIssue(
                        display_path,
                        line,
                        f"'{name}' names both {owner[folded]} and {key}",
                        "keep each name or alias on one entry only",
                    )
                )
            owner.setdefault(folded, key)
    return issues


# ---------------------------------------------------------------------------------------------- lookups


@dataclass(frozen=True, slots=True)
class LookupSpec:
    """What a lookup needs (slot kinds) and which `{answer.field}` it fills, found or not."""

    inputs: Mapping[str, tuple[str, str | None]]  # parameter → (slot type, entity source)
    fields: tuple[str, ...]
    not_found_fields: tuple[str, ...]
    not_found_means: str
    optional_inputs: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    #: Nothing found means the input itself is wrong (a misheard number), not an answer about it (a
    #: product out of stock): the value is shown to the agent among those tried.
    not_found_means_wrong_input: bool = False


LOOKUPS: dict[str, LookupSpec] = {
    "store_hours": LookupSpec(
        inputs={"store": ("entity", "stores")},
        fields=("store", "city", "day", "today", "now", "week"),
        not_found_fields=(),
        not_found_means="never (every store has hours)",
        optional_inputs={"day": ("date", None)},
    ),
    "store_address": LookupSpec(
        inputs={"store": ("entity", "stores")},
        fields=("store", "address", "postcode", "city", "phone"),
        not_found_fields=(),
        not_found_means="never",
    ),
    "order_status": LookupSpec(
        inputs={"order": ("order_number", None)},
        fields=("order", "status", "details", "carrier", "delivery_date"),
        not_found_fields=("order",),
        not_found_means="no order has this number",
        not_found_means_wrong_input=True,
    ),
    "product_stock": LookupSpec(
        inputs={"product": ("entity", "products"), "store": ("entity", "stores")},
        fields=("product", "store", "quantity", "price", "elsewhere"),
        not_found_fields=("product", "store", "price", "elsewhere"),
        not_found_means="the product is out of stock in that store",
    ),
}


@dataclass(frozen=True, slots=True)
class Answer:
    """The result of a lookup: whether it found something, and the fragments for `{answer.field}`."""

    found: bool
    fields: Mapping[str, str]
    note: str  # the outcome in a few words for the agents' summary, e.g. "expédiée", "introuvable"


def run_lookup(lookup: str, data: AnswersData, inputs: Mapping[str, str], now: datetime) -> Answer:
    """Answer `lookup` from `data`; `inputs` are the lookup's parameters (store key, order number…)."""
    if lookup == "store_hours":
        day = date.fromisoformat(inputs["day"]) if inputs.get("day") else now.date()
        return _store_hours(data, inputs["store"], now, day)
    if lookup == "store_address":
        return _store_address(data, inputs["store"])
    if lookup == "order_status":
        return _order_status(data, inputs["order"], now)
    if lookup == "product_stock":
        return _product_stock(data, inputs["product"], inputs["store"])
    raise ValueError(f"unknown lookup {lookup!r} (known: {known_names(LOOKUPS)})")


def _ranges_text(ranges: OpeningRanges) -> str:
    return french.join([f"de {french.clock(start)} à {french.clock(end)}" for start, end in ranges])


def opening_on(store: Store, day: date) -> tuple[OpeningRanges, DayException | None]:
    """The store's hours on `day`, exceptions first."""
    exception = store.exceptions.get(day)
    if exception is not None:
        return parse_opening(exception.hours), exception
    return parse_opening(store.hours[french.WEEKDAYS[day.weekday()]]), None  # type: ignore[index]


def _day_text(store: Store, day: date, today: date) -> str:
    """'ouvert aujourd'hui de 10 h à 20 h', 'exceptionnellement fermé le vendredi 25 décembre (Noël)'."""
    ranges, exception = opening_on(store, day)
    reason = f" ({exception.reason})" if exception is not None and exception.reason else ""
    prefix = "exceptionnellement " if exception else ""
    when = french.on_date(day, today)
    if not ranges:
        return f"{prefix}fermé {when}{reason}"
    return f"{prefix}ouvert {when} {_ranges_text(ranges)}{reason}"


def _now_text(store: Store, now: datetime) -> str:
    ranges, _ = opening_on(store, now.date())
    current = now.time()
    for start, end in ranges:
        if start <= current < end:
            return f"ouvert en ce moment, jusqu'à {french.clock(end)}"
    for start, _end in ranges:
        if current < start:
            return f"fermé en ce moment, il ouvre à {french.clock(start)}"
    for ahead in range(1, 15):
        day = date.fromordinal(now.date().toordinal() + ahead)
        later, _ = opening_on(store, day)
        if later:
            when = "demain" if ahead == 1 else french.full_date(day, now.date())
            return f"fermé en ce moment, il rouvre {when} à {french.clock(later[0][0])}"
    return "fermé en ce moment"


def week_text(store: Store) -> str:
    """'du lundi au samedi de 10 h à 20 h, et le dimanche de 11 h à 18 h' (consecutive equal days grouped)."""
    groups: list[tuple[list[str], OpeningRanges]] = []
    for day in french.WEEKDAYS:
        ranges = parse_opening(store.hours[day])  # type: ignore[index]
        if groups and groups[-1][1] == ranges:
            groups[-1][0].append(day)
        else:
            groups.append(([day], ranges))

    def days(names: list[str]) -> str:
        if len(names) == 1:
            return f"le {names[0]}"
        if len(names) == 2:
            return f"le {names[0]} et le {names[1]}"
        return f"du {names[0]} au {names[-1]}"

    open_parts = [f"{days(names)} {_ranges_text(ranges)}" for names, ranges in groups if ranges]
    closed = [name for names, ranges in groups if not ranges for name in names]
    text = french.join(open_parts, last="et") if open_parts else "fermé toute la semaine"
    if closed and open_parts:
        text += f" ; fermé {french.join([f'le {name}' for name in closed])}"
    return text


def _store_hours(data: AnswersData, key: str, now: datetime, day: date) -> Answer:
    store = data.stores[key]
    fields = {
        "store": store.name,
        "city": store.city,
        "day": _day_text(store, day, now.date()),
        "today": _day_text(store, now.date(), now.date()),
        "now": _now_text(store, now),
        "week": week_text(store),
    }
    return Answer(True, fields, "")


def _store_address(data: AnswersData, key: str) -> Answer:
    store = data.stores[key]
    fields = {
        "store": store.name,
        "address": store.address,
        "postcode": store.postcode,
        "city": store.city,
        "phone": store.phone,
    }
    return Answer(True, fields, "")


_STATUS_WORDS: dict[str, str] = {
    "en_preparation": "en cours de préparation",
    "expediee": "expédiée",
    "en_livraison": "en cours de livraison",
    "livree": "livrée",
    "retardee": "retardée",
    "annulee": "annulée",
    "prete_en_magasin": "prête à être retirée",
}


def _order_status(data: AnswersData, number: str, now: datetime) -> Answer:
    order = data.orders.get(number)
    if order is None:
        return Answer(False, {"order": number}, "introuvable")
    today = now.date()
    status = _STATUS_WORDS[order.status]
    when = french.on_date(order.delivery_date, today) if order.delivery_date else ""
    if order.status == "prete_en_magasin" and order.store:
        status += f" au magasin {data.display('stores', order.store)}"
    details = _order_details(order, when, today)
    if order.note:
        details = f"{details} {order.note}".strip()
    fields = {
        "order": number,
        "status": status,
        "details": details,
        "carrier": order.carrier or "",
        "delivery_date": when,
    }
    return Answer(True, fields, _STATUS_WORDS[order.status])


def _order_details(order: Order, when: str, today: date) -> str:
    past = order.delivery_date is not None and order.delivery_date < today
    carrier = order.carrier or "le transporteur"
    if order.status == "en_preparation":
        return f"La livraison est prévue {when}." if when else "Vous recevrez un e-mail dès son expédition."
    if order.status in ("expediee", "en_livraison"):
        if not when:
            return f"Elle a été confiée à {carrier}."
        if past:
            return f"Elle a été confiée à {carrier} ; la livraison était prévue {when}."
        return f"Elle a été confiée à {carrier}, pour une livraison prévue {when}."
    if order.status == "livree":
        return f"Elle a été livrée {when}." if when else ""
    if order.status == "retardee":
        return f"La nouvelle date de livraison prévue est {when}." if when else ""
    return ""


def _product_stock(data: AnswersData, product_key: str, store_key: str) -> Answer:
    product = data.products[product_key]
    store = data.stores[store_key]
    quantity = product.stock.get(store_key, 0)
    others = [data.stores[key].name for key, count in product.stock.items() if key != store_key and count > 0]
    elsewhere = (
        f"Il en reste {french.join([f'à {name}' for name in others])}."
        if others
        else "Aucun autre magasin n'en a en stock pour le moment."
    )
    fields = {
        "product": product.name,
        "store": store.name,
        "quantity": str(quantity),
        "price": french.euros(product.price) if product.price is not None else "",
        "elsewhere": elsewhere,
    }
    return Answer(quantity > 0, fields, "en stock" if quantity else "en rupture")
