"""Figures drawn from a user's data: every string as written, and a bad value never a crash.

Matplotlib reads text between ``$`` signs as mathematics, so a column or label named
``$x^{$`` (or a price like ``$5``) would crash a figure or change what it shows; values
near the float limits or dates outside its calendar make it raise. A figure is an extra,
not the result: `user_figure` draws with mathtext off (for that call only) and, when
matplotlib cannot draw the data, warns naming the figure and returns ``None`` instead
of a path, so the run goes on and its report says the figure was skipped.
"""

from __future__ import annotations

import functools
import os
import traceback
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["user_figure", "FigureSkipped"]

F = TypeVar("F", bound=Callable[..., Any])


class FigureSkipped(UserWarning):
    """A figure could not be drawn from the data (the run goes on without it)."""


def user_figure(draw: F) -> F:
    """Run ``draw`` with matplotlib's mathtext parsing off; on a drawing error, warn and return None."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        try:
            with matplotlib.rc_context({"text.parse_math": False}):
                return draw(*args, **kwargs)
        except (ValueError, OverflowError) as e:
            if not _raised_in_matplotlib(e):  # a bad argument is the caller's error, not the data's
                raise
            warnings.warn(f"figure {draw.__name__} skipped: {type(e).__name__}: {e}", FigureSkipped, stacklevel=2)
            return None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature; TypeVar cannot say so


def _raised_in_matplotlib(error: BaseException) -> bool:
    """Whether matplotlib was drawing when ``error`` was raised (what it raises for data it cannot place)."""
    marker = os.sep + "matplotlib" + os.sep
    return any(marker in frame.filename for frame in traceback.extract_tb(error.__traceback__))
