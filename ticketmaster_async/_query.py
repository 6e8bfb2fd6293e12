"""How an endpoint description turns keyword values into the API's query: the
:class:`Endpoint` and the rules between its parameters."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._constants import LOCAL_RANGE_FROM, LOCAL_RANGE_TO
from ._exceptions import ConfigurationError
from ._params import LocalTime, Param, check_page

__all__ = ["DistanceSortNeedsNear", "Endpoint", "LocalRange", "Needs", "Ordered", "Rule"]


class Rule(Protocol):
    """A check between parameters, and how some of them are sent together."""

    @property
    def sends(self) -> frozenset[str]:
        """Keywords this rule sends itself (the endpoint does not send them one by one)."""

    def check(self, values: Mapping[str, Any]) -> None:
        """Raise ConfigurationError when the checked values do not fit together."""

    def apply(self, values: Mapping[str, Any], query: dict[str, str]) -> None:
        """Add what this rule sends to the query."""


@dataclass(frozen=True)
class Ordered:
    """``first`` must not come after ``second``."""

    first: str
    second: str
    sends: frozenset[str] = frozenset()

    def check(self, values: Mapping[str, Any]) -> None:
        low, high = values.get(self.first), values.get(self.second)
        if low is not None and high is not None and low > high:
            raise ConfigurationError(
                f"{self.first} {low.isoformat()} is after {self.second} {high.isoformat()}"
            )

    def apply(self, values: Mapping[str, Any], query: dict[str, str]) -> None:
        return None


@dataclass(frozen=True)
class Needs:
    """``name`` only means something with ``required``."""

    name: str
    required: str
    sends: frozenset[str] = frozenset()

    def check(self, values: Mapping[str, Any]) -> None:
        if values.get(self.name) is not None and values.get(self.required) is None:
            raise ConfigurationError(f"{self.name} needs {self.required}")

    def apply(self, values: Mapping[str, Any], query: dict[str, str]) -> None:
        return None


@dataclass(frozen=True)
class DistanceSortNeedsNear:
    """A ``distance,...`` sort needs a point to measure from."""

    sends: frozenset[str] = frozenset()

    def check(self, values: Mapping[str, Any]) -> None:
        sort = values.get("sort")
        if isinstance(sort, str) and sort.startswith("distance") and values.get("near") is None:
            raise ConfigurationError(f"sort {sort!r} needs near=(latitude, longitude)")

    def apply(self, values: Mapping[str, Any], query: dict[str, str]) -> None:
        return None


@dataclass(frozen=True)
class LocalRange:
    """``local_start`` / ``local_end`` are sent together as ``localStartDateTime=FROM,TO``; a
    missing side is a wide bound (``LOCAL_RANGE_FROM`` / ``LOCAL_RANGE_TO``)."""

    start: str = "local_start"
    end: str = "local_end"
    api: str = "localStartDateTime"
    sends: frozenset[str] = frozenset({"local_start", "local_end"})

    def check(self, values: Mapping[str, Any]) -> None:
        Ordered(self.start, self.end).check(values)

    def apply(self, values: Mapping[str, Any], query: dict[str, str]) -> None:
        low, high = values.get(self.start), values.get(self.end)
        if low is None and high is None:
            return
        low_text = LocalTime().encode(low) if low is not None else LOCAL_RANGE_FROM
        high_text = LocalTime().encode(high) if high is not None else LOCAL_RANGE_TO
        query[self.api] = f"{low_text},{high_text}"


# -- endpoints ---------------------------------------------------------------------------------


def _described(filters: type) -> tuple[dict[str, Param], frozenset[str]]:
    """The ``Param`` of every key of a filters TypedDict, and the keys without one (options)."""
    params: dict[str, Param] = {}
    options: set[str] = set()
    for name, hint in typing.get_type_hints(filters, include_extras=True).items():
        found = [meta for meta in getattr(hint, "__metadata__", ()) if isinstance(meta, Param)]
        if found:
            params[name] = found[0]
        else:
            options.add(name)
    return params, frozenset(options)


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: its path, its parameters and the rules between them.

    Args:
        name: a short name (``events``); also the ``_embedded`` key of a search page.
        path: the path below the API root; ``{id}`` for a detail endpoint.
        filters: the TypedDict of its keyword filters.
        positional: the positional parameters, in order (``query``, ``city``).
        rules: checks between parameters.
        paged: whether ``size`` and ``page`` are always sent (search endpoints).
    """

    name: str
    path: str
    filters: type
    positional: tuple[tuple[str, Param], ...] = ()
    rules: tuple[Rule, ...] = ()
    paged: bool = False
    params: dict[str, Param] = field(init=False, repr=False, compare=False)
    options: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        described, options = _described(self.filters)
        object.__setattr__(self, "params", {**dict(self.positional), **described})
        object.__setattr__(self, "options", options)

    def check_names(self, method: str, values: Mapping[str, Any]) -> None:
        """TypeError for a keyword this endpoint does not take (before any request)."""
        unknown = sorted(set(values) - set(self.params) - self.options)
        if unknown:
            raise TypeError(f"{method}() got unexpected keyword argument(s): {', '.join(unknown)}")

    def query(self, method: str, values: Mapping[str, Any]) -> dict[str, str]:
        """The API query for these keyword values (positional ones included by name).

        Raises:
            TypeError: an unknown keyword.
            ConfigurationError: a bad value, values that do not fit together, or
                ``extra_params`` naming ``apikey`` or a parameter a keyword sets.
        """
        self.check_names(method, values)
        checked = {
            name: self.params[name].kind.check(value, what=name)
            for name, value in values.items()
            if name in self.params and value is not None
        }
        for rule in self.rules:
            rule.check(checked)
        sent_by_rules = frozenset().union(*(rule.sends for rule in self.rules))
        query: dict[str, str] = {}
        for name, value in checked.items():
            if name not in sent_by_rules:
                param = self.params[name]
                query[param.api] = param.kind.encode(value)
        for rule in self.rules:
            rule.apply(checked, query)
        if self.paged:
            size, page = check_page(checked.get("size"), checked.get("page"))
            query["size"], query["page"] = str(size), str(page)
        query.update(self._extra(values.get("extra_params")))
        return query

    def _extra(self, extra: Any) -> dict[str, str]:
        if extra is None:
            return {}
        if not isinstance(extra, Mapping):
            raise ConfigurationError(f"extra_params must be a mapping, got {type(extra).__name__}")
        reserved = {param.api.lower(): name for name, param in self.params.items()}
        out: dict[str, str] = {}
        for key, value in extra.items():
            if not isinstance(key, str) or not key.strip() or not isinstance(value, str):
                raise ConfigurationError("extra_params must map non-empty names to strings")
            if key.lower() == "apikey":
                raise ConfigurationError("extra_params may not set apikey: the client sends it")
            if key.lower() in reserved:
                raise ConfigurationError(
                    f"extra_params may not set {key!r}: use the {reserved[key.lower()]}= keyword"
                )
            out[key] = value
        return out

    def url(self, resource_id: str | None = None) -> str:
        """The path of this endpoint (with the id of a detail endpoint)."""
        return self.path.format(id=resource_id) if resource_id is not None else self.path
