"""One self-contained ``report.html``: text, tables and figures in a single file.

Images are embedded as base64 ``data:`` URIs and the style sheet is inline, so the
file opens anywhere, offline, and can be mailed or archived on its own.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lstmkit.utils.files import atomic_write_text

__all__ = ["Section", "write_report"]

_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}

_CSS = """
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2328; background: #fff; max-width: 1100px; margin: 0 auto; padding: 24px 32px; }
h1 { font-size: 26px; border-bottom: 1px solid #d0d7de; padding-bottom: 8px; }
h2 { font-size: 20px; margin-top: 32px; }
p { margin: 8px 0; white-space: pre-wrap; }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #d0d7de; border-radius: 4px; }
figcaption { color: #57606a; font-size: 13px; }
.table-wrap { overflow-x: auto; margin: 12px 0; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: right; }
th { background: #f6f8fa; }
tbody tr:nth-child(even) { background: #fafbfc; }
footer { color: #57606a; font-size: 12px; margin-top: 40px; }
"""


@dataclass(frozen=True)
class Section:
    """One part of a report: a heading, then its text, tables and images, in that order.

    Args:
        heading: the section title.
        text: paragraphs (a string, or several), shown as plain text.
        tables: pandas DataFrames, drawn as HTML tables.
        images: paths to image files (PNG, JPEG, GIF, SVG, WebP), embedded in the page; ``None``
            for a figure that could not be drawn, shown as a note.
    """

    heading: str
    text: str | Sequence[str] = ()
    tables: Sequence[pd.DataFrame] = ()
    images: Sequence[str | os.PathLike | None] = ()


def write_report(path: str | os.PathLike, title: str, sections: Sequence[Section | dict]) -> Path:
    """Write a self-contained HTML report, atomically.

    Args:
        path: the file to write, e.g. ``run_dir / "report.html"``.
        title: the page title and top heading.
        sections: `Section` objects, or dicts with the same keys.

    Returns:
        The path written.

    Raises:
        FileNotFoundError: an image path does not exist.
        ValueError: a section is malformed, or an image has an unknown file type.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> _ = write_report(out, "Run", [Section("Metrics", text="MASE 0.8", tables=[pd.DataFrame({"mae": [1.5]})])])
    >>> "<td>1.5</td>" in out.read_text()
    True
    """
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for index, section in enumerate(sections):
        parts.append(_render(_as_section(section, index), index))
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(parts)
        + "\n<footer>written by lstmkit</footer>\n</body>\n</html>\n"
    )
    path = Path(path)
    atomic_write_text(path, page)
    return path


def _as_section(section: Section | dict, index: int) -> Section:
    if isinstance(section, Section):
        return section
    if isinstance(section, dict):
        unknown = set(section) - {"heading", "text", "tables", "images"}
        if unknown or "heading" not in section:
            raise ValueError(
                f"sections[{index}] must have a 'heading' and only 'text', 'tables', 'images'; "
                f"got keys {sorted(section)}"
            )
        return Section(**section)
    raise ValueError(f"sections[{index}] must be a Section or a dict, got {type(section).__name__}")


def _render(section: Section, index: int) -> str:
    out = [f"<section>\n<h2>{html.escape(section.heading)}</h2>"]
    texts = [section.text] if isinstance(section.text, str) else list(section.text)
    out += [f"<p>{html.escape(t)}</p>" for t in texts]
    for j, table in enumerate(section.tables):
        if not isinstance(table, pd.DataFrame):
            raise ValueError(f"sections[{index}].tables[{j}] must be a pandas DataFrame, got {type(table).__name__}")
        # a default 0..n-1 index is row numbering, not data: leave it out
        index = not (isinstance(table.index, pd.RangeIndex) and table.index.name is None)
        out.append(
            f'<div class="table-wrap">{table.to_html(border=0, float_format=_number, escape=True, index=index)}</div>'
        )
    for image in section.images:
        if image is None:  # a figure that could not be drawn (see lstmkit.utils.figures)
            out.append("<p><em>A figure was skipped: matplotlib could not draw these data.</em></p>")
            continue
        out.append(
            f'<figure><img src="{_data_uri(Path(image))}" alt="{html.escape(Path(image).name)}">'
            f"<figcaption>{html.escape(Path(image).name)}</figcaption></figure>"
        )
    out.append("</section>")
    return "\n".join(out)


def _number(value: float) -> str:
    return f"{value:.4g}"


def _data_uri(path: Path) -> str:
    mime = _IMAGE_TYPES.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"image {path} has an unknown type {path.suffix!r}; expected one of {sorted(_IMAGE_TYPES)}")
    if not path.is_file():
        raise FileNotFoundError(f"image {path} does not exist")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
