"""The explorer page at ``/explorer``: its router, its built assets and the links to it."""
