"""What every resource of the client shares: sending a GET through the pipeline and turning its
answer into models (one object, one search page, every page of a search)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from .._constants import DEEP_PAGING_CAP, LOGGER_NAME, MAX_PAGE_SIZE
from .._constants import OPTIONAL_SOURCE_REFUSAL_TTL as FLAG_TTL
from .._endpoints import Endpoint
from .._exceptions import ConfigurationError, ResponseValidationError
from .._http import RawResponse, error_from_response
from .._json import loads as json_loads
from .._params import check_id, check_page
from .._pipeline import Answer
from ..models import Page
from ..models._base import TMModel, mark_fresh

if TYPE_CHECKING:
    from .._config import Settings
    from .._pipeline import Pipeline
    from .._redact import Redactor
    from .._store.base import Store

__all__ = ["M", "Resource", "as_int", "check_limit"]

logger = logging.getLogger(LOGGER_NAME)

M = TypeVar("M", bound=TMModel)
F = TypeVar("F", bound="TMModel | Page[Any]")
_BODY_START = 200


def as_int(value: Any, default: int) -> int:
    """``value`` if it is an int (not a bool), else ``default``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _errors(exc: ValidationError) -> str:
    return "; ".join(e["msg"] for e in exc.errors(include_url=False, include_input=False))


class Resource:
    """The plumbing behind the client's methods; each resource module adds the methods of one
    part of the API. The client sets these attributes and owns their lifecycle."""

    settings: Settings
    _pipeline: Pipeline
    _store: Store
    _redactor: Redactor
    _clock: Callable[[], float]

    def _check_open(self) -> None:
        raise NotImplementedError

    def _decode(self, answer: Answer) -> Any:
        """The answer's body as JSON, or ResponseValidationError (not JSON, or nested too
        deep)."""
        try:
            return json_loads(answer.body)
        except ValueError as exc:
            raise ResponseValidationError(
                f"the API answered HTTP {answer.status} with a body that is not JSON",
                status_code=answer.status,
                body_start=self._redactor.excerpt(answer.body, _BODY_START),
            ) from exc

    def _shape_error(self, answer: Answer, what: str) -> ResponseValidationError:
        """The error for JSON that is not what the endpoint answers."""
        return ResponseValidationError(
            f"the API answered HTTP {answer.status} with JSON that is not {what}",
            status_code=answer.status,
            body_start=self._redactor.excerpt(answer.body, _BODY_START),
        )

    async def _get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        tags: Sequence[str] = (),
        refresh: bool = False,
        retry: bool = True,
    ) -> Answer:
        self._check_open()
        return await self._pipeline.get(path, params or {}, tags=tags, refresh=refresh, retry=retry)

    async def _flag(self, name: str) -> bool:
        """Whether the flag ``name`` is in force (a store failure reads as not set)."""
        try:
            return await self._store.flag_get(name, now=self._clock()) is not None
        except Exception as exc:
            logger.warning("could not read the flag %s: %s", name, exc)
            return False

    async def _remember_flag(self, name: str, reason: BaseException) -> None:
        """Set the flag ``name`` for ``FLAG_TTL`` (best effort)."""
        logger.info("%s (%s); remembered for %.0f h", name, reason, FLAG_TTL / 3600)
        try:
            await self._store.flag_set(name, until=self._clock() + FLAG_TTL)
        except Exception as exc:
            logger.warning("could not remember the flag %s: %s", name, exc)

    def _raise_not_found(self, answer: Answer, path: str) -> None:
        """A search answered 404: raise NotFoundError (searches have no ``None`` answer)."""
        if answer.status == 404:
            raise error_from_response(
                RawResponse(answer.status, {}, answer.body, 0.0),
                redactor=self._redactor,
                now=datetime.now(timezone.utc),
                path=path,
            )

    def _parse_one(self, model: type[M], answer: Answer) -> M:
        data = self._decode(answer)
        if not isinstance(data, dict):
            raise self._shape_error(answer, f"a {model.__name__} object")
        try:
            found = model.model_validate(data)
        except (ValidationError, RecursionError) as exc:
            raise self._shape_error(answer, f"a valid {model.__name__}") from exc
        return self._fresh(found, answer)

    @staticmethod
    def _fresh(found: F, answer: Answer) -> F:
        """``found`` marked with when the API produced it and whether it is a stale answer."""
        mark_fresh(
            found,
            fetched_at=datetime.fromtimestamp(answer.fetched_at, tz=timezone.utc),
            stale=answer.source == "stale",
        )
        return found

    def _seen_one(self, found: TMModel, answer: Answer) -> None:
        """A detail answer came from the network (resources that record what they see hook
        in here)."""

    def _seen_page(
        self,
        endpoint: Endpoint,
        values: Mapping[str, Any],
        params: Mapping[str, str],
        page: Page[Any],
        answer: Answer,
    ) -> None:
        """A search page came from the network (resources that record what they see, or warm
        the cache from it, hook in here)."""

    async def _get_detail(
        self,
        endpoint: Endpoint,
        resource_id: Any,
        options: Mapping[str, Any],
        *,
        method: str,
        what: str,
        tags: Callable[[str], Sequence[str]] | None = None,
    ) -> Answer | None:
        """The answer of a detail endpoint, or None when the API says 404."""
        resource_id = check_id(resource_id, what=what)
        params = endpoint.query(method, options)
        answer = await self._get(
            endpoint.url(resource_id),
            params,
            tags=tags(resource_id) if tags is not None else (),
            refresh=bool(options.get("refresh", False)),
        )
        return None if answer.status == 404 else answer

    async def _get_one(
        self,
        model: type[M],
        endpoint: Endpoint,
        resource_id: Any,
        options: Mapping[str, Any],
        *,
        method: str,
        what: str,
        tags: Callable[[str], Sequence[str]] | None = None,
    ) -> M | None:
        """One object from a detail endpoint, or None when the API says 404."""
        answer = await self._get_detail(
            endpoint, resource_id, options, method=method, what=what, tags=tags
        )
        if answer is None:
            return None
        found = self._parse_one(model, answer)
        if answer.source == "network":
            self._seen_one(found, answer)
        return found

    def _parse_list(
        self, model: type[M], raw_items: list[Any], answer: Answer, *, what: str
    ) -> list[M]:
        """The items ``model`` accepts; a malformed one is skipped with a WARNING."""
        items: list[M] = []
        for raw in raw_items:
            try:
                items.append(model.model_validate(raw))
            except (ValidationError, RecursionError) as exc:
                item_id = raw.get("id") if isinstance(raw, dict) else None
                reason = _errors(exc) if isinstance(exc, ValidationError) else "nested too deep"
                logger.warning("skipped a malformed %s (id %r): %s", what, item_id, reason)
        return items

    async def _search_page(
        self, model: type[M], endpoint: Endpoint, values: Mapping[str, Any], *, method: str
    ) -> Page[M]:
        """One page of a search endpoint."""
        params = endpoint.query(method, values)
        path = endpoint.url()
        answer = await self._get(path, params, refresh=bool(values.get("refresh", False)))
        self._raise_not_found(answer, path)
        page = self._parse_page(model, endpoint.name, answer, params)
        if answer.source == "network" and 200 <= answer.status < 300:
            self._seen_page(endpoint, values, params, page, answer)
        return page

    def _parse_page(
        self, model: type[M], embedded: str, answer: Answer, params: Mapping[str, str]
    ) -> Page[M]:
        data = self._decode(answer)
        if not isinstance(data, dict):
            raise self._shape_error(answer, "a search page")
        raw_items = data.get("_embedded", {})
        raw_items = raw_items.get(embedded) if isinstance(raw_items, dict) else None
        items = self._parse_list(
            model,
            raw_items if isinstance(raw_items, list) else [],
            answer,
            what=f"{model.__name__} in a search page",
        )
        raw_page = data.get("page")
        page: dict[str, Any] = raw_page if isinstance(raw_page, dict) else {}
        size = as_int(page.get("size"), int(params.get("size", len(items)) or 0))
        return self._fresh(
            Page[M](
                number=as_int(page.get("number"), int(params.get("page", 0))),
                size=size,
                total_elements=as_int(page.get("totalElements"), len(items)),
                total_pages=as_int(page.get("totalPages"), 1 if items else 0),
                items=items,
            ),
            answer,
        )

    async def _iterate(
        self,
        model: type[M],
        endpoint: Endpoint,
        values: dict[str, Any],
        *,
        method: str,
        limit: int | None,
        hint: str = "",
    ) -> AsyncIterator[M]:
        """Every item of a search, following pages, never past the deep-paging cap
        (``size * page < 1000``); one WARNING when the cap cuts results off."""
        check_limit(limit)
        if values.get("size") is None:
            values["size"] = min(MAX_PAGE_SIZE, limit) if limit else MAX_PAGE_SIZE
        size, page_number = check_page(values.get("size"), values.get("page"))
        endpoint.query(method, values)  # every check before the first request
        yielded = total = 0
        while limit is None or yielded < limit:
            if size * page_number >= DEEP_PAGING_CAP:
                _warn_capped(endpoint.name, yielded, total, hint)
                return
            values["page"] = page_number
            page = await self._search_page(model, endpoint, values, method=method)
            total = page.total_elements
            for item in page.items:
                yield item
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            if not page.items or page.number + 1 >= page.total_pages:
                return
            page_number += 1


def _warn_capped(kind: str, yielded: int, total: int, hint: str) -> None:
    left_out = total - yielded
    if left_out > 0:
        logger.warning(
            "%d of %d matching %s not returned: the API serves no result past the %dth%s",
            left_out,
            total,
            kind,
            DEEP_PAGING_CAP,
            hint,
        )


def check_limit(limit: Any) -> None:
    """``limit`` is None or an int >= 0, else ConfigurationError."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise ConfigurationError(f"limit must be an integer, got {limit!r}")
    if limit is not None and limit < 0:
        raise ConfigurationError(f"limit must be >= 0, got {limit}")
