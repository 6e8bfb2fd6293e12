"""Tables that fit a terminal's width, key/value blocks, and lines without trailing spaces.

A table fits by, in order: cutting its free-text columns (names, venues) with an ellipsis down
to a floor; dropping the columns a narrow terminal can spare; then letting ``rich`` wrap the
columns that may take several lines (a start time's date and hour). Columns that are neither
(ids, prices) are never cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

__all__ = ["COLUMN_GAP", "NO_VALUE", "Column", "Trimmed", "fitted_table", "key_values"]

NO_VALUE = "-"
#: Two spaces between columns, as ``rich`` draws a borderless table with one space of
#: padding on each side of a cell.
COLUMN_GAP = 2
HEADER_STYLE = "bold"


@dataclass(frozen=True)
class Column:
    """How one table column may give way on a narrow terminal.

    Args:
        header: the column's title.
        shrink_to: cut with an ellipsis (one line per row) down to this many characters;
            ``None``: never cut.
        wrap: may wrap at spaces onto further lines (after every shrinkable column is at its
            floor).
        drop: dropped, highest first, when the table cannot fit otherwise (0: never).
        right: aligned to the right (numbers).
    """

    header: str
    shrink_to: int | None = None
    wrap: bool = False
    drop: int = 0
    right: bool = False


def _narrowest(column: Column, natural: int, cells: Iterable[str], *, wrap: bool) -> int:
    if column.shrink_to is not None:
        return min(natural, column.shrink_to)
    if column.wrap and wrap:
        words = [word for cell in (column.header, *cells) for word in cell.split()]
        return max((cell_len(word) for word in words), default=1)
    return natural


def _layout(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], natural: list[int], width: int
) -> tuple[list[int], bool]:
    """Which columns to keep and whether the wrapping columns wrap: the first layout that
    fits, preferring to drop spare columns over wrapping (a row stays one line), and wrapping
    over losing more columns."""
    droppable = sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: -columns[i].drop)
    keep: list[int] = list(range(len(columns)))
    for wrap in (False, True):
        for dropped in range(len(droppable) + 1):
            keep = [i for i in range(len(columns)) if i not in droppable[:dropped]]
            least = sum(
                _narrowest(columns[i], natural[i], (row[i] for row in rows), wrap=wrap)
                for i in keep
            )
            if least + COLUMN_GAP * (len(keep) - 1) <= width:
                return keep, wrap
    return keep, True  # nothing fits: every spare column dropped, rich cuts the rest


def fitted_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], *, width: int) -> Table:
    """A borderless table of ``rows`` (text cells) no wider than ``width`` when possible.

    Raises:
        ValueError: a row has not one cell per column.
    """
    if any(len(row) != len(columns) for row in rows):
        raise ValueError("every row needs one cell per column")
    natural = [
        max([cell_len(column.header), *(cell_len(row[index]) for row in rows)])
        for index, column in enumerate(columns)
    ]
    keep, wrap = _layout(columns, rows, natural, width)
    floor = {
        i: _narrowest(columns[i], natural[i], (row[i] for row in rows), wrap=wrap) for i in keep
    }
    # The wrapping columns give way first (down to their longest word), then the shrinkable
    # ones, widest first.
    widths = {i: floor[i] if columns[i].wrap else natural[i] for i in keep}
    excess = sum(widths.values()) + COLUMN_GAP * (len(keep) - 1) - width
    while excess > 0:
        candidates = [i for i in keep if columns[i].shrink_to is not None and widths[i] > floor[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    # What the shrinking did not need goes back to the wrapping columns, so they wrap as
    # little as the width allows.
    for i in keep:
        if excess < 0 and columns[i].wrap and widths[i] < natural[i]:
            grow = min(natural[i] - widths[i], -excess)
            widths[i] += grow
            excess += grow
    table = Table(box=None, pad_edge=False, show_edge=False, header_style=HEADER_STYLE)
    for i in keep:
        column = columns[i]
        table.add_column(
            column.header,
            justify="right" if column.right else "left",
            no_wrap=not column.wrap,
            overflow="ellipsis" if column.shrink_to is not None else "fold",
            max_width=widths[i],
        )
    for row in rows:
        table.add_row(*(Text(row[i]) for i in keep))
    return table


def key_values(pairs: Sequence[tuple[str, str]]) -> Table:
    """``key  value`` lines with the values aligned; long or multi-line values wrap under
    their first line."""
    grid = Table.grid(padding=(0, COLUMN_GAP, 0, 0), pad_edge=False)
    grid.add_column(no_wrap=True, style=HEADER_STYLE)
    grid.add_column(overflow="fold")
    for key, value in pairs:
        grid.add_row(Text(key), Text(value or NO_VALUE))
    return grid


class Trimmed:
    """A renderable drawn without trailing spaces on its lines (``rich`` pads every table
    cell to its column's width; a pipe or a file should not get that padding)."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in console.render_lines(self.renderable, options, pad=False):
            segments = list(line)
            while segments and not segments[-1].control and not segments[-1].text.strip():
                segments.pop()
            if segments and not segments[-1].control:
                last = segments[-1]
                segments[-1] = Segment(last.text.rstrip(), last.style)
            yield from segments
            yield Segment.line()
