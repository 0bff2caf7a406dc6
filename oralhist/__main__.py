"""``python -m oralhist``: the same command as ``oralhist``."""

from oralhist.cli import main

main()
