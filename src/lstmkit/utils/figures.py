"""Figures that draw every string as written.

Matplotlib reads text between ``$`` signs as mathematics, so a column or label named
``$x^{$`` (or a price like ``$5``) would crash a figure or change what it shows.
`literal_text` is a decorator for the functions that draw figures from user data: inside
them, text is drawn literally. Nothing outside the call changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["literal_text"]

F = TypeVar("F", bound=Callable[..., Any])


def literal_text(draw: F) -> F:
    """Run ``draw`` with matplotlib's mathtext parsing off (``text.parse_math``), for that call only."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature; TypeVar cannot say so
