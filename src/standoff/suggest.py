"""The words for an id that is not defined: `unknown issue 'tarifs'; did you mean 'tariffs'?
(defined: tariffs, deal)`, the one wording every file, formula and command uses (`unknown`,
`suggest`), and the defined id most likely meant (`closest`).

It imports nothing of the package, so that the checks of a case, of its reference class and of
its formulas can all use it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def unknown(kind: str, ident: object, known: Iterable[str]) -> str:
    """`unknown issue 'tarifs'; did you mean 'tariffs'? (defined: tariffs, deal)`: every id a
    file or a formula names that is not defined says so in these words (see `suggest`)."""
    return f"unknown {kind} {ident!r}{suggest(kind, ident, known)}"


def suggest(kind: str, ident: object, known: Iterable[str], listed: str = "defined") -> str:
    """What follows "unknown KIND 'x'": `; did you mean 'y'?` with the id most likely meant
    (`closest`), then the ids defined (`(defined: a, b)`, `listed` naming them), or, when there
    are more than ten, their count, after the three nearest where none is close enough to name."""
    names = list(dict.fromkeys(known))
    close = closest(ident, names)
    message = f"; did you mean {close!r}?" if close is not None else ""
    if not names:
        return message + f" (no {kind} is defined)"
    if len(names) <= 10:
        return message + f" ({listed}: {', '.join(names)})"
    if close is None:
        message += f"; the nearest: {', '.join(_by_likeness(str(ident), names)[:3])}"
    return message + f" ({len(names)} are defined)"


_WORD_BREAKS = str.maketrans({c: " " for c in "_-.:/ "})


def closest(ident: object, known: Iterable[str]) -> str | None:
    """The defined id most likely meant by `ident`, or None: the same id in other capitals
    (`Xi` for `xi`), a close spelling (`tarifs`), or an id that is one word of the other
    (`xi` for `xi_jinping` or `president_xi`, `walk_away` for `walk_away_2019`)."""
    text = str(ident)
    names = list(dict.fromkeys(known))
    folded = {n.casefold(): n for n in names}
    if text.casefold() in folded:
        return folded[text.casefold()]
    close = difflib.get_close_matches(text.casefold(), list(folded), n=1, cutoff=0.6)
    if close:
        return folded[close[0]]
    words = set(text.casefold().translate(_WORD_BREAKS).split())
    for name in _by_likeness(text, names):
        theirs = set(name.casefold().translate(_WORD_BREAKS).split())
        if words and theirs and (theirs <= words or words <= theirs):
            return name
    return None


def _by_likeness(text: str, names: list[str]) -> list[str]:
    """`names`, the most like `text` first (difflib's ratio, ignoring capitals)."""
    key = text.casefold()
    return sorted(names, key=lambda n: -difflib.SequenceMatcher(None, key, n.casefold()).ratio())


__all__ = ["closest", "suggest", "unknown"]
