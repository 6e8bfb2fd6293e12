"""Tables that fit a width (:mod:`ticketmaster_async._cli.layout`): what gives way first,
what never does."""

from __future__ import annotations

import pytest

from ticketmaster_async._cli import layout

from .cli_support import rendered


def test_table_widths_come_from_content() -> None:
    table = layout.fitted_table(
        [layout.Column("A"), layout.Column("NUMBER", right=True)],
        [["wide cell", "1"], ["x", "12345678"]],
        width=80,
    )
    assert rendered(table) == [
        "A" + " " * 12 + "NUMBER",
        "wide cell" + " " * 9 + "1",
        "x" + " " * 10 + "12345678",
    ]


def test_table_cuts_shrinkable_columns_widest_first() -> None:
    columns = [
        layout.Column("NAME", shrink_to=4),
        layout.Column("CITY", shrink_to=4),
        layout.Column("ID"),
    ]
    rows = [["a rather long name", "Leeds", "ID12345"]]
    # 18 + 5 + 7 + 2 gaps = 34 wide; at 25 the name gives up 9 characters.
    assert rendered(layout.fitted_table(columns, rows, width=25), width=25) == [
        "NAME       CITY   ID",
        "a rather…  Leeds  ID12345",
    ]
    # At 19 the name is at its floor (4) and the city gives way too; the id never does.
    assert rendered(layout.fitted_table(columns, rows, width=19), width=19)[1] == (
        "a r…  Lee…  ID12345"
    )


def test_table_drops_spare_columns_before_wrapping() -> None:
    columns = [
        layout.Column("WHEN", wrap=True),
        layout.Column("NAME", shrink_to=4),
        layout.Column("AT", shrink_to=3, drop=1),
    ]
    rows = [["2021-03-11 18:00", "Show", "Birmingham"]]
    assert rendered(layout.fitted_table(columns, rows, width=40), width=40) == [
        "WHEN              NAME  AT",
        "2021-03-11 18:00  Show  Birmingham",
    ]
    # 16 + 4 + 3 + 4 = 27 > 25: AT goes, the row stays one line (16 + 4 + 2 = 22).
    assert rendered(layout.fitted_table(columns, rows, width=25), width=25) == [
        "WHEN              NAME",
        "2021-03-11 18:00  Show",
    ]
    # 22 > 21: WHEN wraps at its longest word, and AT comes back at its floor:
    # 10 + 4 + 3 + 4 = 21.
    assert rendered(layout.fitted_table(columns, rows, width=21), width=21) == [
        "WHEN        NAME  AT",
        "2021-03-11  Show  Bi…",
        "18:00",
    ]


def test_wrapping_columns_take_back_what_the_others_leave() -> None:
    columns = [layout.Column("WHEN", wrap=True), layout.Column("NAME", shrink_to=4)]
    rows = [["2021-03-11 18:00 GMT", "Show"]]
    # 20 + 4 + 2 > 24: WHEN wraps; at its floor (10) it would leave 8 columns unused, so
    # it takes them back: 18 wide, "2021-03-11 18:00" fits on its first line.
    assert rendered(layout.fitted_table(columns, rows, width=24), width=24) == [
        "WHEN                NAME",
        "2021-03-11 18:00    Show",
        "GMT",
    ]


def test_table_rejects_ragged_rows() -> None:
    with pytest.raises(ValueError, match="one cell per column"):
        layout.fitted_table([layout.Column("A"), layout.Column("B")], [["only one"]], width=80)


def test_key_values() -> None:
    block = layout.key_values([("a", "1"), ("long", "x\ny"), ("empty", "")])
    assert rendered(block) == ["a      1", "long   x", "       y", "empty  -"]
