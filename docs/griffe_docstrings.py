"""A griffe extension for the API reference: lstmkit's docstring habits, rendered right.

* lstmkit's docstrings hold ``>>>`` examples in the body (pytest runs them with
  ``--doctest-modules``), not under an ``Examples:`` heading, so Markdown would read
  them as nested block quotes and their ``[...]`` outputs as links. Every such block,
  up to the next blank line, is wrapped in a ``pycon`` code fence, without its
  ``# doctest: +FLAG`` comments.
* Related fields share one ``Args:`` item (``hidden_size, num_layers: the LSTM``);
  when the names run over two lines, griffe finds no ``name: description`` pair and
  drops the item, so a names line that ends with a comma is joined to the next.

Only the rendered text changes; the source does not.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

DOCTEST_FLAGS = re.compile(r"\s*#\s*doctest:.*$")
WRAPPED_NAMES = re.compile(r"^\s+[A-Za-z_]\w*(, [A-Za-z_]\w*)+,$")  # "    ensemble, max_epochs, lr," (no colon yet)


def join_wrapped_names(text: str) -> str:
    """``text`` with each ``Args:`` item whose list of names runs over two lines on one line."""
    out: list[str] = []
    for line in text.splitlines():
        if out and WRAPPED_NAMES.match(out[-1]) and line.strip():
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line)
    return "\n".join(out)


def fence_doctests(text: str) -> str:
    """``text`` with each ``>>>`` block outside code fences and ``Examples:`` sections fenced."""
    out: list[str] = []
    lines = text.splitlines()
    i, in_fence = 0, False
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if stripped in ("Examples:", "Example:"):  # griffe parses those sections itself
            return "\n".join(out + lines[i:])
        if in_fence or not stripped.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(DOCTEST_FLAGS.sub("", lines[i]))
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


class DocstringHabits(griffe.Extension):
    """Fence the ``>>>`` examples and join wrapped ``Args:`` names of every docstring."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = join_wrapped_names(fence_doctests(obj.docstring.value))
