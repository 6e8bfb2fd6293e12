"""``python -m ticketmaster_async``: the ``ticketmaster`` command line (see :mod:`.cli`)."""

from ticketmaster_async.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
