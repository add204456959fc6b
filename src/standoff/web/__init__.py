"""The web workspace (`standoff serve`): pages and a JSON API over a folder of cases.

    from standoff.web import create_app

FastAPI loads only when the app is made, so `standoff --help` (which names `serve`) stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
