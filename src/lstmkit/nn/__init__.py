"""The recurrent building blocks: cells, layers, the per-step driver, initialisers."""

from lstmkit.nn.cells import GRUCell, LSTMCell, RNNCell
from lstmkit.nn.init import init_recurrent_
from lstmkit.nn.lstm import GRU, LSTM, RNN

__all__ = ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell", "init_recurrent_"]
