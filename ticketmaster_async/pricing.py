"""Turn the three price sources into :class:`TicketPrice` lists: pure functions, no I/O.

- :func:`prices_from_price_ranges`: Discovery ``priceRanges`` (``standard`` is the face value,
  ``standard including fees`` the total; one entry per pair).
- :func:`prices_from_offers`: a Commerce ``/commerce/v2/events/{id}/offers.json`` body, in the
  2016 recorded shape (``prices._embedded``, ``priceZones._embedded``, ``areas._embedded``,
  top-level ``_embedded`` offers) or the 2018 Swagger shape (top-level ``offers``,
  ``prices.data``, ``_embedded.priceZones.data``, ``_embedded.areas.data``).
- :func:`prices_from_top_picks`: a Top Picks ``/top-picks/v1/events/{id}`` body.
- :func:`merge_prices`: one list from all of them.

Every amount goes through :func:`~ticketmaster_async.models._base.parse_money` (numbers or decimal
strings, thousands separators and a currency sign or code tolerated; never negative, never float).
Currencies must be three ASCII letters and are kept verbatim. A malformed entry is dropped with a
WARNING on the ``ticketmaster_async`` logger saying what was wrong; the rest of the answer
survives. A body of the wrong type, or one with nothing priced, gives ``[]``: these functions
never raise on bad data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._constants import LOGGER_NAME
from .models._base import as_str, parse_float, parse_money
from .models.event import PriceRange
from .models.pricing import PriceSource, TicketPrice
from .models.pricing import TicketMarket as Market

__all__ = [
    "merge_prices",
    "prices_from_offers",
    "prices_from_price_ranges",
    "prices_from_top_picks",
]

logger = logging.getLogger(LOGGER_NAME)

_CURRENCY_CODE = re.compile(r"[A-Za-z]{3}")
#: ``"<type> including fees"``: the total-price twin of ``"<type>"``.
_INCLUDING_FEES = re.compile(r"(?P<base>.*?\S)\s+including\s+fees\s*", re.IGNORECASE | re.DOTALL)
#: Used when a Commerce or Top Picks offer has neither a description nor a name.
_UNNAMED_TICKET_TYPE = "unknown"
#: Joins the several area names a Commerce price zone covers (``"ORCH, CENTER, RC, LC"``).
_SECTION_SEPARATOR = ", "
#: Joins Top Picks ``descriptions[]`` (``"Full View"``).
_DESCRIPTION_SEPARATOR = "; "
_RESALE_SELECTION = "resale"


# --------------------------------------------------------------------------- shared helpers


@dataclass(frozen=True)
class _Amounts:
    """The money fields of one single-price entry (``price == min == max``)."""

    price: Decimal
    face_value: Decimal | None
    total: Decimal | None
    fees: Decimal | None
    includes_fees: bool


def _currency(value: Any) -> str:
    """``value`` verbatim if it is three ASCII letters, else ``ValueError``."""
    if isinstance(value, str) and _CURRENCY_CODE.fullmatch(value):
        return value
    raise ValueError(f"currency {value!r} is not a 3-letter code")


def _amount(value: Any, what: str) -> Decimal | None:
    """``None`` for a missing value, else the parsed amount; ``ValueError`` naming ``what``."""
    if value is None:
        return None
    try:
        return parse_money(value)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def _text(value: Any) -> str | None:
    """A non-blank string (numbers as text), verbatim; ``None`` otherwise."""
    text = as_str(value)
    return text if text is not None and text.strip() else None


def _get(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, Mapping) else None


def _members(node: Any) -> list[Mapping[str, Any]]:
    """The objects of a collection: a list, or ``{"_embedded": [...]}`` / ``{"data": [...]}``."""
    if isinstance(node, Mapping):
        node = node.get("_embedded", node.get("data"))
    if not isinstance(node, list):
        return []
    return [item for item in node if isinstance(item, Mapping)]


def _first_members(*nodes: Any) -> list[Mapping[str, Any]]:
    """The members of the first of ``nodes`` that has any (the two response shapes)."""
    for node in nodes:
        members = _members(node)
        if members:
            return members
    return []


def _attributes(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """JSON:API ``attributes``, or the object itself when it is flat."""
    attributes = item.get("attributes")
    return attributes if isinstance(attributes, Mapping) else item


def _related_ids(item: Mapping[str, Any], *relations: str) -> list[str]:
    """Ids under ``relationships.<relation>`` (``_embedded`` or ``data``), in order."""
    relationships = item.get("relationships")
    for relation in relations:
        ids = [
            ref_id
            for ref in _members(_get(relationships, relation))
            if (ref_id := as_str(ref.get("id"))) is not None
        ]
        if ids:
            return ids
    return []


def _by_id(items: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Index objects by their ``id`` (as text); the first of equal ids wins."""
    index: dict[str, Mapping[str, Any]] = {}
    for item in items:
        item_id = as_str(item.get("id"))
        if item_id is not None:
            index.setdefault(item_id, item)
    return index


def _itemised(
    holder: Mapping[str, Any], lists: Sequence[str], amount_key: str, context: str
) -> Decimal | None:
    """Sum of ``holder[<list>][].<amount_key>`` over ``lists``.

    ``None`` when nothing is itemised, or when any amount is malformed (logged): a partial sum
    would understate the charges.
    """
    total = Decimal(0)
    itemised = False
    for name in lists:
        items = holder.get(name)
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, Mapping) or item.get(amount_key) is None:
                continue
            try:
                total += parse_money(item[amount_key])
            except ValueError as exc:
                logger.warning("%s: ignoring the itemised %s: %s", context, name, exc)
                return None
            itemised = True
    return total if itemised else None


def _single_amounts(
    face: Decimal | None, total: Decimal | None, itemised: Decimal | None, *, prefer_itemised: bool
) -> _Amounts:
    """Combine a face value, a total and itemised charges into one entry's money fields.

    Fees are ``total - face`` when both are known (or the itemised sum if ``prefer_itemised``),
    else the itemised sum. With only a total, the entry's price is that total
    (``includes_fees``). Raises ``ValueError`` when there is no price or the total is below the
    face value.
    """
    if face is None:
        if total is None:
            raise ValueError("neither a face value nor a total")
        return _Amounts(
            price=total, face_value=None, total=total, fees=itemised, includes_fees=True
        )
    if total is None:
        fees = itemised
    elif total < face:
        raise ValueError(f"total {total} is below the face value {face}")
    elif prefer_itemised and itemised is not None:
        fees = itemised
    else:
        fees = total - face
    return _Amounts(price=face, face_value=face, total=total, fees=fees, includes_fees=False)


def _ticket(
    amounts: _Amounts,
    *,
    ticket_type: str,
    currency: str,
    source: PriceSource,
    market: Market = "primary",
    section: str | None = None,
    offer_id: str | None = None,
    offer_name: str | None = None,
    price_zone: str | None = None,
    area: str | None = None,
    row: str | None = None,
    seats: list[str] | None = None,
    description: str | None = None,
    quality: float | None = None,
) -> TicketPrice:
    return TicketPrice(
        section=section,
        ticket_type=ticket_type,
        market=market,
        currency=currency,
        price=amounts.price,
        min=amounts.price,
        max=amounts.price,
        face_value=amounts.face_value,
        total=amounts.total,
        fees=amounts.fees,
        includes_fees=amounts.includes_fees,
        source=source,
        offer_id=offer_id,
        offer_name=offer_name,
        price_zone=price_zone,
        area=area,
        row=row,
        seats=seats,
        description=description,
        quality=quality,
    )


def _first_present(*values: Any) -> Any:
    """The first value that is not ``None`` (``None`` if all are)."""
    return next((value for value in values if value is not None), None)


def _offer_label(offer: Mapping[str, Any]) -> str:
    """Ticket type of an offer: its description (``"Standard Ticket"``), else its name."""
    return _text(offer.get("description")) or _text(offer.get("name")) or _UNNAMED_TICKET_TYPE


# --------------------------------------------------------------------------- priceRanges


@dataclass(frozen=True)
class _Range:
    label: str  # the type without " including fees", verbatim
    includes_fees: bool
    currency: str
    min: Decimal
    max: Decimal


def _parse_range(entry: PriceRange | Mapping[str, Any]) -> _Range | None:
    """Validate one ``priceRanges[]`` entry; ``None`` if it states no price at all."""
    if isinstance(entry, Mapping):
        fields = (entry.get("type"), entry.get("currency"), entry.get("min"), entry.get("max"))
    elif isinstance(entry, PriceRange):
        fields = (entry.type, entry.currency, entry.min, entry.max)
    else:
        raise ValueError(f"not a price range: {type(entry).__name__}")
    raw_type, raw_currency, raw_min, raw_max = fields
    label = _text(raw_type) if isinstance(raw_type, str) else None
    if label is None:
        raise ValueError(f"type {raw_type!r} is not a name")
    currency = _currency(raw_currency)
    low = _amount(raw_min, "min")
    high = _amount(raw_max, "max")
    if low is None:
        if high is None:
            return None
        low = high
    elif high is None:
        high = low
    if low > high:
        raise ValueError(f"min {low} > max {high}")
    twin = _INCLUDING_FEES.fullmatch(label)
    if twin is not None:
        return _Range(twin["base"], True, currency, low, high)
    return _Range(label, False, currency, low, high)


def _range_price(item: _Range) -> TicketPrice:
    """A ``priceRanges`` entry with no twin: face values, or totals if ``includes_fees``."""
    return TicketPrice(
        ticket_type=item.label,
        currency=item.currency,
        price=item.min,
        min=item.min,
        max=item.max,
        face_value=None if item.includes_fees else item.min,
        total=item.min if item.includes_fees else None,
        includes_fees=item.includes_fees,
        source="price_ranges",
    )


def prices_from_price_ranges(
    price_ranges: Sequence[PriceRange | Mapping[str, Any]],
) -> list[TicketPrice]:
    """One :class:`TicketPrice` per priced ``priceRanges`` entry, or per face/total pair.

    Args:
        price_ranges: ``Event.price_ranges`` (or the raw ``priceRanges`` JSON objects).

    Returns:
        Entries with ``source="price_ranges"``, ``market="primary"`` and no section. For one
        currency, ``X`` (face value) and ``X including fees`` (total) describe the same tickets
        and become one entry: ``price``/``min``/``max`` the face range, ``face_value`` the face
        minimum, ``total`` the total minimum and ``fees = total - face_value``. Several ``X``
        entries pair with the ``X including fees`` entries of that currency in order; leftovers
        stand alone (a lone ``X including fees`` gives ``includes_fees=True``, ``total=min`` and no
        face value). Types match case-insensitively; ``ticket_type`` is the type verbatim without
        `` including fees``. An entry with neither ``min`` nor ``max`` is skipped; with one of them,
        it is used for both. Malformed entries are dropped and logged. Never raises.
    """
    if not isinstance(price_ranges, Sequence) or isinstance(price_ranges, (str, bytes)):
        logger.warning(
            "ignoring price ranges: expected a list, got %s", type(price_ranges).__name__
        )
        return []
    # (currency, type) -> (face entries, total entries), in order of first appearance
    groups: dict[tuple[str, str], tuple[list[_Range], list[_Range]]] = {}
    for index, entry in enumerate(price_ranges):
        try:
            item = _parse_range(entry)
        except ValueError as exc:
            logger.warning("dropping price range #%d: %s", index, exc)
            continue
        if item is None:
            logger.debug("skipping price range #%d: no min or max", index)
            continue
        faces, totals = groups.setdefault((item.currency.upper(), item.label.lower()), ([], []))
        (totals if item.includes_fees else faces).append(item)

    prices: list[TicketPrice] = []
    for faces, totals in groups.values():
        paired = min(len(faces), len(totals))
        for face, total in zip(faces[:paired], totals[:paired], strict=True):
            if total.min < face.min:
                logger.warning(
                    "not pairing price ranges %r and %r %s: total %s is below the face value %s",
                    face.label,
                    f"{total.label} including fees",
                    face.currency,
                    total.min,
                    face.min,
                )
                prices += [_range_price(face), _range_price(total)]
                continue
            prices.append(
                TicketPrice(
                    ticket_type=face.label,
                    currency=face.currency,
                    price=face.min,
                    min=face.min,
                    max=face.max,
                    face_value=face.min,
                    total=total.min,
                    fees=total.min - face.min,
                    source="price_ranges",
                )
            )
        prices += [_range_price(item) for item in faces[paired:] + totals[paired:]]
    return prices


# --------------------------------------------------------------------------- Commerce offers


class _SeatMap:
    """Price zones and areas of one offers body, with the section each zone covers."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        embedded = body.get("_embedded")
        self.zones = _by_id(
            _first_members(
                body.get("priceZones"),
                body.get("price-zones"),
                _get(embedded, "priceZones"),
                _get(embedded, "price-zones"),
            )
        )
        self.areas = _first_members(body.get("areas"), _get(embedded, "areas"))
        self.areas_by_id = _by_id(self.areas)
        self._sections: dict[str, tuple[str | None, str | None]] = {}

    def zone_currency(self, zone_id: str | None) -> Any:
        zone = self.zones.get(zone_id) if zone_id is not None else None
        return None if zone is None else _attributes(zone).get("currency")

    def section(self, zone_id: str | None) -> tuple[str | None, str | None]:
        """``(section, price-zone name)`` of a price zone; ``(None, None)`` if unknown.

        The section is the names of the areas the zone's relationships point to (else of the
        areas whose relationships point to the zone), else the zone's own name.
        """
        if zone_id is None or zone_id not in self.zones:
            return None, None
        if zone_id not in self._sections:
            zone = self.zones[zone_id]
            zone_name = _text(_attributes(zone).get("name"))
            area_ids = _related_ids(zone, "areas")
            if not area_ids:
                area_ids = [
                    area_id
                    for area in self.areas
                    if zone_id in _related_ids(area, "priceZones", "price-zones")
                    and (area_id := as_str(area.get("id"))) is not None
                ]
            names: list[str] = []
            for area_id in area_ids:
                area = self.areas_by_id.get(area_id)
                name = None if area is None else _text(_attributes(area).get("name"))
                if name is not None and name not in names:
                    names.append(name)
            section = _SECTION_SEPARATOR.join(names) if names else zone_name
            self._sections[zone_id] = (section, zone_name)
        return self._sections[zone_id]


def _offers_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Offers: top-level ``offers`` (2018), top-level ``_embedded`` list (2016) or
    ``_embedded.offers``."""
    embedded = body.get("_embedded")
    return _first_members(
        body.get("offers"),
        embedded if isinstance(embedded, list) else None,
        _get(embedded, "offers"),
    )


def prices_from_offers(body: Any) -> list[TicketPrice]:
    """One :class:`TicketPrice` for each Commerce offer and price zone.

    Args:
        body: the decoded JSON of ``/commerce/v2/events/{id}/offers.json``, either shape.

    Returns:
        Entries with ``source="offers"``, ``market="primary"`` (Commerce has no resale flag):
        ``section`` is the names of the areas the price zone covers, joined by ``", "`` (else the
        price-zone name, e.g. ``"Price Level 2"``); ``price_zone`` the zone name; ``ticket_type``
        the offer's ``description`` (``"Standard Ticket"``), else its ``name``, which is also
        kept as ``offer_name``; ``price == min == max == face_value`` is the ``value``; ``total``
        the ``total``; ``fees`` is ``total - value``, or, without a total, the sum of the
        itemised ``fees[].value`` and ``taxes[].value``. A price with a total but no value is
        stated as the total (``includes_fees``). The currency is the price's, else the offer's,
        else the price zone's. Malformed prices are dropped and logged. Never raises.
    """
    if not isinstance(body, Mapping):
        logger.warning(
            "ignoring Commerce offers: expected a JSON object, got %s", type(body).__name__
        )
        return []
    seat_map = _SeatMap(body)
    prices: list[TicketPrice] = []
    for offer in _offers_of(body):
        offer_id = as_str(offer.get("id"))
        attributes = _attributes(offer)
        offer_prices = attributes.get("prices")
        if not isinstance(offer_prices, list):
            logger.debug("Commerce offer %r has no prices", offer_id)
            continue
        for index, price in enumerate(offer_prices):
            context = f"Commerce offer {offer_id!r} price #{index}"
            if not isinstance(price, Mapping):
                logger.warning("dropping %s: not an object", context)
                continue
            zone_id = as_str(price.get("priceZone"))
            context = f"Commerce offer {offer_id!r} price zone {zone_id!r}"
            try:
                currency = _currency(
                    _first_present(
                        price.get("currency"),
                        attributes.get("currency"),
                        seat_map.zone_currency(zone_id),
                    )
                )
                face = _amount(price.get("value"), "face value")
                total = _amount(price.get("total"), "total")
                itemised = (
                    None
                    if total is not None
                    else _itemised(price, ("fees", "taxes"), "value", context)
                )
                amounts = _single_amounts(face, total, itemised, prefer_itemised=False)
            except ValueError as exc:
                logger.warning("dropping %s: %s", context, exc)
                continue
            section, zone_name = seat_map.section(zone_id)
            prices.append(
                _ticket(
                    amounts,
                    ticket_type=_offer_label(attributes),
                    currency=currency,
                    source="offers",
                    section=section,
                    offer_id=offer_id,
                    offer_name=_text(attributes.get("name")),
                    price_zone=zone_name,
                )
            )
    return prices


# --------------------------------------------------------------------------- Top Picks


def _pick_offer_id(ref: Any) -> str | None:
    if isinstance(ref, Mapping):
        return as_str(ref.get("offerId")) or as_str(ref.get("id"))
    return as_str(ref)


def prices_from_top_picks(body: Any) -> list[TicketPrice]:
    """One :class:`TicketPrice` for each Top Picks pick and each of its offers.

    Args:
        body: the decoded JSON of ``/top-picks/v1/events/{id}``.

    Returns:
        Entries with ``source="top_picks"``; ``market="resale"`` when the pick's ``selection``
        is ``"resale"`` (any case), else ``"primary"``. ``section`` is the pick's ``section``,
        else its area name (kept as ``area``); ``row``, ``seats``, ``quality`` and the
        ``descriptions`` (joined by ``"; "``) when present. From the offer
        (``_embedded.offer[]``, matched by ``offerId``): ``ticket_type`` its description, else
        its name (kept as ``offer_name``); ``price == min == max == face_value`` the
        ``faceValue``; ``total`` the ``totalPrice``; ``fees`` the sum of ``charges[].amount``,
        else ``total - face_value``. Picks naming an unknown offer and malformed offers are
        dropped and logged. Never raises.
    """
    if not isinstance(body, Mapping):
        logger.warning("ignoring Top Picks: expected a JSON object, got %s", type(body).__name__)
        return []
    picks = body.get("picks")
    if not isinstance(picks, list):
        logger.debug("Top Picks response has no picks")
        return []
    embedded = body.get("_embedded")
    offers: dict[str, Mapping[str, Any]] = {}
    for embedded_offer in _first_members(_get(embedded, "offer"), _get(embedded, "offers")):
        embedded_id = _pick_offer_id(embedded_offer)
        if embedded_id is not None:
            offers.setdefault(embedded_id, embedded_offer)

    prices: list[TicketPrice] = []
    for index, pick in enumerate(picks):
        if not isinstance(pick, Mapping):
            logger.warning("dropping Top Picks pick #%d: not an object", index)
            continue
        refs = pick.get("offers")
        if not isinstance(refs, list):
            logger.debug("Top Picks pick #%d has no offers", index)
            continue
        selection = pick.get("selection")
        market: Market = (
            "resale"
            if isinstance(selection, str) and selection.strip().lower() == _RESALE_SELECTION
            else "primary"
        )
        area = _text(_get(pick.get("area"), "name"))
        raw_seats = pick.get("seats")
        seats = (
            [seat for seat in map(as_str, raw_seats) if seat is not None]
            if isinstance(raw_seats, list)
            else []
        )
        raw_descriptions = pick.get("descriptions")
        descriptions = (
            [text for text in map(_text, raw_descriptions) if text is not None]
            if isinstance(raw_descriptions, list)
            else []
        )
        for ref in refs:
            offer_id = _pick_offer_id(ref)
            context = f"Top Picks pick #{index} offer {offer_id!r}"
            offer = offers.get(offer_id) if offer_id is not None else None
            if offer is None:
                logger.warning("dropping %s: no such offer in _embedded.offer", context)
                continue
            try:
                currency = _currency(offer.get("currency"))
                face = _amount(offer.get("faceValue"), "face value")
                total = _amount(offer.get("totalPrice"), "total price")
                itemised = _itemised(offer, ("charges",), "amount", context)
                amounts = _single_amounts(face, total, itemised, prefer_itemised=True)
            except ValueError as exc:
                logger.warning("dropping %s: %s", context, exc)
                continue
            prices.append(
                _ticket(
                    amounts,
                    ticket_type=_offer_label(offer),
                    currency=currency,
                    source="top_picks",
                    market=market,
                    section=_text(pick.get("section")) or area,
                    offer_id=offer_id,
                    offer_name=_text(offer.get("name")),
                    area=area,
                    row=_text(pick.get("row")),
                    seats=seats or None,
                    description=_DESCRIPTION_SEPARATOR.join(descriptions) or None,
                    quality=parse_float(pick.get("quality")),
                )
            )
    return prices


# --------------------------------------------------------------------------- merging


def _frozen(value: Any) -> Hashable:
    """A hashable stand-in for a dumped model value: dicts and lists become tuples."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(key), _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    try:
        hash(value)
    except TypeError:  # e.g. a set kept among a model's extra fields
        return repr(value)
    hashable: Hashable = value
    return hashable


def merge_prices(*groups: Iterable[TicketPrice]) -> list[TicketPrice]:
    """One list from several: concatenated in order, exact duplicates dropped, then sorted.

    Args:
        groups: lists of prices, e.g. offers, top picks, price ranges (the client's order).

    Returns:
        The first of every set of equal entries (every field equal, amounts compared as numbers),
        stably sorted by source (in the order each source first appears), then currency, then
        price.
    """
    seen: set[Hashable] = set()
    merged: list[TicketPrice] = []
    for group in groups:
        for price in group:
            identity = _frozen(price.model_dump())
            if identity in seen:
                continue
            seen.add(identity)
            merged.append(price)
    source_rank: dict[str, int] = {}
    for price in merged:
        source_rank.setdefault(price.source, len(source_rank))
    return sorted(
        merged, key=lambda price: (source_rank[price.source], price.currency, price.price)
    )
