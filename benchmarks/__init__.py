"""Benchmarks of ticketmaster_async: ratios measured side by side (``python -m benchmarks``).

See ``benchmarks/README.md`` for what each figure means and how to run them.
"""
