"""A fake Ticketmaster Discovery API for testing code that uses it, with no network.

The fake serves real recorded Ticketmaster data and answers like the real API: the same JSON
shapes, relative ``_links`` without the key, the real error bodies (401 ``Invalid ApiKey``,
404 ``DIS1004``, 429 quota and spike-arrest faults), the ``Rate-Limit*`` headers, the 5/s and
daily limits, plus fault injection. It needs nothing beyond ``httpx`` and the standard library.

In-process, as an ``httpx`` transport (any host is accepted)::

    from ticketmaster_async.testing import FakeDiscoveryAPI

    api = FakeDiscoveryAPI()
    async with httpx.AsyncClient(base_url="https://x.test", transport=api.transport()) as http:
        r = await http.get("/discovery/v2/events.json", params={"apikey": "k", "city": "London"})
    api.fail_next(2, status=503)          # then watch your retries
    assert api.request_count == 1

Over real loopback sockets::

    async with FakeServer(api) as server:   # server.url == "http://127.0.0.1:<port>"
        ...

or from a shell: ``python -m ticketmaster_async.testing --port 8080`` (prints
``listening on http://127.0.0.1:8080`` and serves until Ctrl-C or SIGTERM).

Endpoints (``/discovery/v2/...``, with or without ``.json``): searches of ``events``,
``venues``, ``attractions`` and ``classifications``; ``suggest``; details of events, venues,
attractions, classifications and ``classifications/segments|genres|subgenres/{id}``;
``events/{id}/images``; plus Commerce offers and Top Picks. Every search parameter the client
describes is read with the client's own description (``ticketmaster_async._endpoints``): a
malformed value is a 400 in the ``errors[]`` envelope, an unknown parameter is ignored and named
in ``X-Unknown-Params``. Geo searches (``geoPoint`` geohash, ``radius``, ``unit``) measure the
great-circle distance to each venue and add ``distance``/``units`` to the results;
``localStartDateTime=FROM,TO`` compares venue-local wall times; ``includeTBA``/``includeTBD``
default to ``no`` when a date is sent; every documented ``sort`` works (ties by id, so pages
never repeat or skip); ``size * page`` must stay under 1000. What each parameter does is listed
in ``ticketmaster_async.testing._filters`` (``EVENT_FILTERS``...).

Scripting the catalogue (for watches and big catalogues)::

    api.add_event(raw, searchable=False)            # details yes, searches no (past events)
    api.update_event(event_id, status="cancelled", start=when, price_ranges=[...])
    api.remove_event(event_id)                      # details 404, searches leave it out
    ids = api.generate_events(5000, start=t0, end=t1, city="Fakeville")   # synthetic, fast

Well-known ids (stable; real data unless marked synthetic):

=========================  ====================================================================
``G5diZfkn0B-bh``          the documentation's example event: Radiohead, Madison Square Garden,
                           ``standard`` 80 USD; Commerce offers in USD (:data:`SANDBOX_EVENT_ID`)
``1FuYv9b00bZ7GeGe``       "Whitesnake, Foreigner + Europe", Birmingham (GB), status
                           ``cancelled`` (double L), ``standard`` 45.0–59.5 GBP and ``standard
                           including fees`` 51.95–68.0 GBP, no ``state`` on the venue
``1AMZA-pGkdxdIu7``        Alanis Morissette, Birmingham: ``standard`` and ``standard including
                           fees`` (GBP), ``onsale``
``1AdjZ4UGkBwb746``        Harry Styles, Birmingham: ``rescheduled``
``Z7r9jZ1Ad4Sf8``          "Countdown to Craziness", Durham (US): ``timeTBA`` with no
                           ``localTime``/``dateTime``, no ``priceRanges``
``vvG1YZ4JMnE9B1``         2020 NHL Winter Classic: ``noSpecificTime``
``G5v0Z98m24-oh``          Phoenix Suns vs. Brooklyn Nets, Phoenix, ``America/Phoenix``
``Z7r9jZ1Ad4s-N``          Brooklyn Nets vs. Phoenix Suns: no ``priceRanges``
``G5viZ4m1lu4br``          Luke Combs, Nashville: ``offsale``
``17AZv8G6CnMcD1x``        an event in Mexico City priced in MXN
``LvZ184j83k1A5TPn6ZZgc``  a Universe event with no venue at all
``vv17FZfdGkSrrMju``       Susquehanna Breakdown RV Pass (venue ``KovZpZAEA76A``, attraction
                           ``K8vZ917Kew0``: both also served from their recorded detail responses)
``KovZpZA7AAEA``           venue Madison Square Garden (:data:`SANDBOX_VENUE_ID`)
``KovZ9177W00``            venue Utilita Arena Birmingham (GB)
``K8vZ91713wV``            attraction Radiohead (:data:`SANDBOX_ATTRACTION_ID`)
``KZFzniwnSyZfZ7v7na``     classification segment "Arts & Theatre" (recorded detail response);
                           ``KZFzniwnSyZfZ7v7nJ`` Music, ``KZFzniwnSyZfZ7v7nE`` Sports
``SYNTHeLdn0001``–``4``    SYNTHETIC events in London (GB, GBP, dated 2031; one ``postponed``, one
                           ``canceled``, one ``timeTBA``), so that ``city=London`` and
                           ``keyword=rock`` find something
=========================  ====================================================================

Searches that return something: ``city=Birmingham`` (20 events, GB), ``city=Phoenix``,
``city=London`` (synthetic), ``keyword=rock`` (matches names and attraction names),
``keyword=Suns``, ``classificationName=Rock``, ``countryCode=GB``.
"""

from ._api import FakeDiscoveryAPI, RecordedRequest, SourceMode
from ._responses import CONTENT_TYPE, FakeResponse
from ._server import FakeServer, serve
from ._transport import FakeTransport

__all__ = [
    "CONTENT_TYPE",
    "SANDBOX_ATTRACTION_ID",
    "SANDBOX_EVENT_ID",
    "SANDBOX_VENUE_ID",
    "FakeDiscoveryAPI",
    "FakeResponse",
    "FakeServer",
    "FakeTransport",
    "RecordedRequest",
    "SourceMode",
    "serve",
]

#: An event with ``priceRanges`` and (with ``offers="ok"``) Commerce offers: the docs' example.
SANDBOX_EVENT_ID = "G5diZfkn0B-bh"
#: Madison Square Garden, the venue of :data:`SANDBOX_EVENT_ID`.
SANDBOX_VENUE_ID = "KovZpZA7AAEA"
#: Radiohead, the attraction of :data:`SANDBOX_EVENT_ID`.
SANDBOX_ATTRACTION_ID = "K8vZ91713wV"
