"""The recurrent building blocks: cells, layers, the per-step driver, attention, ConvLSTM."""

from lstmkit.nn.activations import Activation, activation
from lstmkit.nn.attention import (
    AdditiveAttention,
    AttentionPooling,
    MultiplicativeAttention,
)
from lstmkit.nn.cells import GRUCell, LSTMCell, RNNCell
from lstmkit.nn.convlstm import ConvLSTM2d, ConvLSTMCell2d
from lstmkit.nn.init import init_recurrent_
from lstmkit.nn.lstm import GRU, LSTM, RNN, RecurrentLayer
from lstmkit.nn.ngrams import HashedNGrams

__all__ = [
    "RecurrentLayer",
    "LSTM",
    "GRU",
    "RNN",
    "LSTMCell",
    "GRUCell",
    "RNNCell",
    "init_recurrent_",
    "Activation",
    "activation",
    "AdditiveAttention",
    "MultiplicativeAttention",
    "AttentionPooling",
    "HashedNGrams",
    "ConvLSTM2d",
    "ConvLSTMCell2d",
]
