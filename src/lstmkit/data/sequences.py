"""Labelled numeric sequences for classification: files -> padded arrays with lengths.

Three inputs, one result (a `SequenceSet`):

* a **long table** (CSV/TSV/Parquet, or a DataFrame): one row per time step, an id
  column naming the sequence, an optional time column that orders the steps, feature
  columns, and a label column that is constant within each id (`from_long_frame`);
* a **``.npz``** file with ``X`` ``(N, T, F)`` (or ``(N, T)``), ``y`` ``(N,)`` and
  optional ``lengths`` ``(N,)`` and ``ids`` (`read_npz`);
* a **``.ts``** file of the UCR/UEA archive, as shipped by sktime (`read_ts`).

Sequences of unequal length are padded with zeros at the end and their real lengths
kept, so models mask the padding; nothing is truncated. Trailing steps that are
missing in every channel (NaN, or ``?`` in ``.ts``) are read as padding; a missing
value inside a sequence is an error that says where it is.

Also here: `pad_sequences` (a list of ``(T_i, F)`` arrays to one padded array),
`length_buckets` (batches of similar lengths, to waste little time on padding) and the
per-channel scaling of padded arrays (`fit_channel_scaler`, `scale_channels`).

>>> import pandas as pd
>>> frame = pd.DataFrame({"id": ["a", "a", "a", "b", "b"], "t": [2, 1, 3, 1, 2],
...                       "x": [20.0, 10.0, 30.0, 1.0, 2.0], "label": ["up"] * 3 + ["down"] * 2})
>>> s = from_long_frame(frame, id_col="id", label_col="label", time_col="t")
>>> s.X[:, :, 0].tolist(), s.lengths.tolist(), s.y.tolist(), s.ids.tolist()
([[10.0, 20.0, 30.0], [1.0, 2.0, 0.0]], [3, 2], ['up', 'down'], ['a', 'b'])
"""

from __future__ import annotations

from lstmkit.data.batching import PaddedBatches, length_buckets
from lstmkit.data.channel_scaling import fit_channel_scaler, scale_channels
from lstmkit.data.sequence_arrays import (
    SequenceSet,
    from_arrays,
    from_long_frame,
    pad_sequences,
)
from lstmkit.data.sequence_files import (
    SEQUENCE_EXTENSIONS,
    read_npz,
    read_sequences,
    read_ts,
)

__all__ = [
    "SequenceSet",
    "SEQUENCE_EXTENSIONS",
    "from_arrays",
    "from_long_frame",
    "read_npz",
    "read_ts",
    "read_sequences",
    "pad_sequences",
    "length_buckets",
    "PaddedBatches",
    "fit_channel_scaler",
    "scale_channels",
]
