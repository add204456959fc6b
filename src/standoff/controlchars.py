"""Characters that act on a terminal instead of printing, and how user text shows them.

A case, an observation file, a resolution file or a ledger written by someone else can hold any
character a YAML escape writes (`"x\\e]0;pwned\\a"`). Printed raw, the C0 and C1 controls and DEL
set a window's title, make links, move the cursor, erase or hide lines; the bidirectional
overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder what follows them. So an id may not
hold one (`standoff.case.checks`), and every text from data is printed through `visible`, which
writes each as an escape (`\\x1b`, `\\u202e`) that reads as what it is.
"""

from __future__ import annotations

import re

_BEYOND_C0 = "\x7f-\x9f\u202a-\u202e\u2066-\u2069"  # DEL, C1, bidirectional controls
#: C0 controls, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates.
CONTROL = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
#: The characters of CONTROL that JSON does not escape.
_RAW_IN_JSON = re.compile(f"[{_BEYOND_C0}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def first_control(text: str) -> str | None:
    """The first control character or bidirectional override of `text`, or None.

    >>> first_control("walk_away"), first_control("x\\x1b]0;t\\x07")
    (None, '\\x1b')
    """
    found = CONTROL.search(text)
    return found.group() if found else None


def visible(value: object) -> str:
    """`value` as text that prints as data: every control character (a line break too) and
    bidirectional override as its escape (`\\x1b`, `\\x0a`, `\\u202e`) and every lone surrogate
    as `\\udXXX`, so that every terminal encoding holds it and nothing in it acts on a terminal.

    >>> visible("x\\x1b]0;pwned\\x07 \\u202eevil")
    'x\\\\x1b]0;pwned\\\\x07 \\\\u202eevil'
    """
    text = CONTROL.sub(_escape, str(value))
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def inert_json(text: str) -> str:
    """JSON text written with `ensure_ascii=False`, with the characters of `CONTROL` that JSON
    leaves as they are (DEL, the C1 controls, the bidirectional overrides; it escapes C0 itself)
    written `\\uXXXX`: the same strings to a program, inert in a terminal. C0 characters in the
    text are the JSON's own line breaks and stay.

    >>> inert_json('{"id": "\\u202ex\\x9b"}')
    '{"id": "\\\\u202ex\\\\u009b"}'
    """
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def visible_lines(value: object) -> str:
    """A message of several lines (an error, a warning), each line as `visible` writes it: the
    message's own line breaks stay, every other control character shows as its escape."""
    return "\n".join(visible(line) for line in str(value).split("\n"))
