"""`python -m standoff.cli`: the `standoff` command."""

from . import main

main()
