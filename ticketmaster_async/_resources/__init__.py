"""The client's methods, one module per part of the API (the client composes them)."""
