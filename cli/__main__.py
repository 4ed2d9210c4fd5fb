"""``python -m cli``: the same as the ``crkg`` console script."""

from cli.main import main

main()
