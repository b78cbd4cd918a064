"""Tables for the terminal (rich), plain when output is not a terminal."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

__all__ = ["print_table"]


def print_table(frame: pd.DataFrame, title: str | None = None, console: Console | None = None) -> None:
    """Print a DataFrame as a table; floats with 3 decimals, NaN as a dash.

    >>> print_table(pd.DataFrame({"mase": [0.5]}, index=pd.Index(["lstmkit"], name="method")),
    ...             console=Console(width=40, force_terminal=False))
    ┏━━━━━━━━━┳━━━━━━━┓
    ┃ method  ┃  mase ┃
    ┡━━━━━━━━━╇━━━━━━━┩
    │ lstmkit │ 0.500 │
    └─────────┴───────┘
    """
    if console is None:
        console = Console()
        if not console.is_terminal:  # a log file: no need to squeeze into 80 columns
            console = Console(width=140)
    table = Table(title=title)
    index_name = frame.index.name or ""
    table.add_column(index_name)
    for col in frame.columns:
        table.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(frame[col]) else "left")
    for idx, row in frame.iterrows():
        cells = [str(idx)]
        for value in row:
            if isinstance(value, (float, np.floating)):
                cells.append("-" if np.isnan(value) else f"{value:.3f}")
            else:
                cells.append(str(value))
        table.add_row(*cells)
    console.print(table)
