"""Command-line flags generated from the endpoint descriptions: one flag per parameter.

Every keyword of an endpoint becomes ``--keyword-with-dashes`` (plus the spellings its
:class:`~._params.Param` lists in ``cli``, such as ``--country`` or ``--from``); its help is the
parameter's documentation and its value is read by the parameter's kind. A new parameter in
:mod:`._endpoints` is a new flag without any change here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection
from typing import Any

from ._exceptions import ConfigurationError
from ._params import Choice, Flag, Kind, TriState
from ._query import Endpoint

__all__ = ["add_filter_flags", "filter_values", "flag_names", "value_reader"]

#: Choices spelled out in the usage line; longer lists go to the help text.
_LISTED_CHOICES = 4


def flag_names(name: str, extra: Collection[str] = ()) -> list[str]:
    """``--start-date`` for ``start_date``, then the extra spellings."""
    return [f"--{name.replace('_', '-')}", *extra]


def value_reader(kind: Kind) -> Callable[[str], Any]:
    """An argparse ``type`` that reads a word as ``kind`` does; a bad value is a usage error."""

    def read(text: str) -> Any:
        try:
            value = kind.from_text(text)
            kind.check(value, what="value")  # a bad value is a usage error, said at once
        except ConfigurationError as exc:
            message = str(exc).removeprefix("value").lstrip(": ")
            raise argparse.ArgumentTypeError(message) from None
        return value

    read.__name__ = type(kind).__name__.lower()
    return read


def add_filter_flags(
    parser: argparse.ArgumentParser,
    endpoint: Endpoint,
    *,
    skip: Collection[str] = (),
    title: str = "filters",
) -> None:
    """Add a flag for every parameter of ``endpoint`` (but those in ``skip``)."""
    group = parser.add_argument_group(title)
    for name, param in endpoint.params.items():
        if name in skip:
            continue
        kind = param.kind
        options: dict[str, Any] = {
            "dest": name,
            "default": argparse.SUPPRESS,
            "help": f"{param.doc} (sent as {param.api})",
            "metavar": kind.metavar,
            "type": value_reader(kind),
        }
        if isinstance(kind, Choice) and len(kind.values) <= _LISTED_CHOICES:
            options["metavar"] = "{" + ",".join(kind.values) + "}"
        elif isinstance(kind, Choice):
            options["metavar"] = name.upper()
            options["help"] += f"; one of: {' '.join(kind.values)}"
        elif isinstance(kind, (Flag, TriState)):
            options["nargs"] = "?"
            options["const"] = True
        group.add_argument(*flag_names(name, param.cli), **options)


def filter_values(
    args: argparse.Namespace, endpoint: Endpoint, *, skip: Collection[str] = ()
) -> dict[str, Any]:
    """The filters given on the command line (but those in ``skip``), as keyword arguments of
    the client's methods."""
    return {
        name: getattr(args, name)
        for name in endpoint.params
        if name not in skip and hasattr(args, name)
    }
