"""Image: one entry of an event's, venue's or attraction's ``images``, and how to pick one."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import StrictStr

from ._base import TMModel

__all__ = ["Image", "best_image"]


class Image(TMModel):
    """One image the API offers, in one size.

    ``ratio`` is the API's aspect name (``"16_9"``, ``"3_2"``, ``"4_3"``, …); ``fallback`` is
    true for Ticketmaster's generic category artwork used when the event has no image of its
    own. An entry without a string ``url`` is malformed and dropped from its list.
    """

    url: StrictStr
    ratio: str | None = None
    width: int | None = None
    height: int | None = None
    fallback: bool = False
    attribution: str | None = None


def _width(image: Image) -> int:
    return image.width or 0


def best_image(
    images: Sequence[Image], ratio: str | None = "16_9", *, min_width: int = 0
) -> Image | None:
    """The image to show, chosen in three steps.

    1. The widest non-fallback image of ``ratio`` (any ratio when ``ratio`` is ``None``) at least
       ``min_width`` wide; else
    2. the widest non-fallback image of any ratio at least ``min_width`` wide; else
    3. the widest image of all.

    An image of unknown width counts as 0 wide. Among equally wide images the first listed wins.

    Returns:
        The chosen image; ``None`` only when ``images`` is empty.
    """
    own = [i for i in images if not i.fallback and _width(i) >= min_width]
    of_ratio = [i for i in own if ratio is None or i.ratio == ratio]
    for pool in (of_ratio, own, images):
        if pool:
            return max(pool, key=_width)
    return None
