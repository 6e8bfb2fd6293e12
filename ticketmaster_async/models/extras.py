"""The small objects events and venues carry: promoters, products, outlets, markets, box office,
age restrictions and accessibility."""

from __future__ import annotations

from pydantic import StrictStr

from ._base import TMModel

__all__ = [
    "Accessibility",
    "AgeRestrictions",
    "BoxOffice",
    "Market",
    "Outlet",
    "Product",
    "Promoter",
]


class AgeRestrictions(TMModel):
    """An event's ``ageRestrictions``; fields the API adds later stay reachable via ``.raw``."""

    _API_PATHS = {"legal_age_enforced": ("legalAgeEnforced",)}

    legal_age_enforced: bool | None = None


class Accessibility(TMModel):
    """An event's ``accessibility``: notes and the limit on accessible tickets per order."""

    _API_PATHS = {"ticket_limit": ("ticketLimit",)}

    info: str | None = None
    ticket_limit: int | None = None


class Promoter(TMModel):
    """An event's promoter (``promoter``, ``promoters[]``)."""

    id: str
    name: str | None = None
    description: str | None = None


class Product(TMModel):
    """Something sold alongside an event (``products[]``): parking, a VIP package, …"""

    id: str
    name: str | None = None
    url: str | None = None
    type: str | None = None


class Outlet(TMModel):
    """Another place that sells the event's tickets (``outlets[]``)."""

    url: StrictStr
    type: str | None = None


class Market(TMModel):
    """A venue's Ticketmaster market (``markets[]``); the id is a string in real data."""

    id: str
    name: str | None = None


class BoxOffice(TMModel):
    """A venue's ``boxOfficeInfo``: free-text details, each ``None`` when not given."""

    _API_PATHS = {
        "phone": ("phoneNumberDetail",),
        "open_hours": ("openHoursDetail",),
        "accepted_payment": ("acceptedPaymentDetail",),
        "will_call": ("willCallDetail",),
    }

    phone: str | None = None
    open_hours: str | None = None
    accepted_payment: str | None = None
    will_call: str | None = None
