"""Fast paths: whole sequences in one autograd Function, each with a readable reference.

`lstm_sequence` runs an LSTM direction — with peepholes, layer normalisation,
recurrent dropout, zoneout and per-sample lengths — as one ``torch.autograd.Function``
whose backward is written by hand. Its reference is `lstmkit.nn.cells.lstm_step` run
by `lstmkit.nn.recurrent.run_direction`; ``tests/nn/test_sequence_backend.py`` ties
every output and every gradient of the two together, and gradchecks the Function.
Its time loops exist twice: in Python and in C++ (`lstmkit.nn.fused.native`, compiled
once on first use; ``tests/nn/test_native_loops.py`` ties the two together).
"""

from lstmkit.nn.fused.lstm_sequence import lstm_sequence

__all__ = ["lstm_sequence"]
