"""The parts of the ``ticketmaster`` command line (the program itself is :mod:`..cli`).

``parser`` (the arguments) and ``logs`` (what reaches stderr) need only the standard library;
``render``, ``output``, ``commands`` and ``watch`` draw with ``rich`` (the ``cli`` extra) and
are imported only once :mod:`..cli` has checked that it is installed.
"""
