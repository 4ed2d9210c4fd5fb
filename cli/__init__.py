"""The ``crkg`` command line: the composition root, above every other package.

``cli.main`` builds the typer app from one module per command group (``neo4j``, ``init``,
``load``, ``algo``, ``serve``, ``demo``, ``token``, ``generate``, ``contract``); each makes the
settings, the driver and the repositories its command needs. Nothing imports ``cli``.
"""
