"""``python -m api`` is the ``crkg`` command."""

from api.cli import main

main()
