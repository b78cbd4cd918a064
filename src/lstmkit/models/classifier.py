"""The classification network: read a sequence, name its class.

Tensors in, tensors out. Two kinds of input, one network:

* numeric sequences ``(B, T, F)`` (``n_features = F``), already scaled by the task;
* token ids ``(B, T)`` (``vocab_size > 0``), looked up in an embedding table whose
  padding row stays zero.

The recurrent branch is a (bidirectional) `lstmkit.nn.LSTM` (or GRU or RNN, see
``cell``) run with the real lengths, so padded steps neither change the state nor produce output, followed by a
pooling over time:

* ``"last"``: the final state at each sequence's last real step (for a bidirectional
  LSTM, the forward direction's end and the backward direction's start);
* ``"mean"`` / ``"max"``: the mean / maximum of the outputs over real steps;
* ``"attention"``: `lstmkit.nn.AttentionPooling`, a learned weighted mean with zero
  weight on padding (Raffel & Ellis 2015).

An optional convolutional branch (``conv_channels``, as in LSTM-FCN, Karim et al.
2017) runs 1-D convolutions with batch normalisation and ReLU over the same input
and averages them over the real steps; its features are concatenated with the
pooled recurrent features before the linear output layer.

For token input, an optional bag of hashed token n-grams (``ngram_order``,
`lstmkit.nn.HashedNGrams`: a linear model on n-gram counts, fastText-style) adds its
own logits to the head's, trained jointly with the rest of the network.

What the LSTM reads (``lstm_input``):

* ``"time"``: one step per time step, ``F`` features each (the usual reading);
* ``"shuffle"``: LSTM-FCN's dimension shuffle: one step per *channel*, the whole
  series of that channel (zero-padded to ``max_length``) as its features. A
  univariate series is a single step of ``max_length`` features. The LSTM then sees
  the global shape of each channel at once while the conv branch still convolves
  over time; Karim et al. report this is what makes LSTM-FCN work on the UCR sets.
  Numeric input only; sequences longer than ``max_length`` are refused here (the
  `lstmkit.tasks.SequenceClassifier` resamples them first).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.models.recurrent import CellOptions, hidden_of
from lstmkit.nn import AttentionPooling
from lstmkit.nn.ngrams import HashedNGrams

__all__ = ["ClassifierNetConfig", "ClassifierNet", "POOLINGS", "LSTM_INPUTS", "masked_mean"]

POOLINGS = ("last", "mean", "max", "attention")
LSTM_INPUTS = ("time", "shuffle")


@dataclass(frozen=True)
class ClassifierNetConfig:
    """Shape and size of a `ClassifierNet`.

    Args:
        n_classes: number of classes (the output size), at least 2.
        n_features: channels per step of numeric input; 0 for token input.
        vocab_size: rows of the embedding table for token input; 0 for numeric input.
        embedding_dim: size of a token embedding.
        pad_id: the padding token id (its embedding row is zero and not trained).
        freeze_embedding: keep the embedding table fixed (e.g. pretrained vectors).
        hidden_size: LSTM units per direction.
        num_layers: stacked LSTM layers.
        bidirectional: read the sequence both ways.
        pooling: one of ``"last"``, ``"mean"``, ``"max"``, ``"attention"``.
        dropout: dropout on the pooled features, on token embeddings (never on
            numeric inputs: a dropped value would read as a real zero) and between
            stacked LSTM layers; training only.
        conv_channels: filters of each convolution block; ``()`` for no
            convolutional branch, ``(128, 256, 128)`` for LSTM-FCN.
        conv_kernels: kernel size of each block (same length as ``conv_channels``).
        lstm_input: ``"time"`` (one LSTM step per time step) or ``"shuffle"`` (one
            LSTM step per channel, reading that channel's whole series; numeric input only).
        max_length: for ``"shuffle"``, the time steps the LSTM reads per channel (its
            input size): shorter sequences are zero-padded, longer ones refused; 0 otherwise.
        ngram_order: for token input, the longest hashed token n-gram whose learned
            per-class weights are added to the logits (`lstmkit.nn.HashedNGrams`); 0: none.
        ngram_buckets: rows of the hashed n-gram table (with ``ngram_order``).
        cell: the recurrent layer, a `CellOptions` (``"lstm"``, ``"gru"``, ``"rnn"`` and
            the LSTM variants); its dict form (from JSON) or a cell name is converted.
            Default: the plain LSTM. With ``proj_size`` the pooled features have
            ``proj_size`` per direction.
    """

    n_classes: int
    n_features: int = 0
    vocab_size: int = 0
    embedding_dim: int = 64
    pad_id: int = 0
    freeze_embedding: bool = False
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "attention"
    dropout: float = 0.2
    conv_channels: tuple[int, ...] = ()
    conv_kernels: tuple[int, ...] = (8, 5, 3)
    lstm_input: str = "time"
    max_length: int = 0
    ngram_order: int = 0
    ngram_buckets: int = 0
    cell: CellOptions = CellOptions()

    def __post_init__(self):
        object.__setattr__(self, "cell", CellOptions.coerce(self.cell))  # a dict when read back from JSON
        if self.n_classes < 2:
            raise ValueError(f"n_classes must be at least 2, got {self.n_classes}")
        if (self.n_features > 0) == (self.vocab_size > 0):
            raise ValueError(
                f"give exactly one of n_features (numeric input) and vocab_size (token input), "
                f"got n_features={self.n_features}, vocab_size={self.vocab_size}"
            )
        if self.vocab_size and not 0 <= self.pad_id < self.vocab_size:
            raise ValueError(f"pad_id must be in [0, vocab_size={self.vocab_size}), got {self.pad_id}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.conv_channels and len(self.conv_kernels) != len(self.conv_channels):
            raise ValueError(
                f"conv_kernels {self.conv_kernels} must give one kernel size per conv block {self.conv_channels}"
            )
        if self.lstm_input not in LSTM_INPUTS:
            raise ValueError(f"lstm_input must be one of {LSTM_INPUTS}, got {self.lstm_input!r}")
        if self.lstm_input == "shuffle":
            if self.vocab_size:
                raise ValueError("lstm_input='shuffle' reads numeric channels; token input needs lstm_input='time'")
            if isinstance(self.max_length, bool) or not isinstance(self.max_length, int) or self.max_length < 1:
                raise ValueError(
                    f"lstm_input='shuffle' needs max_length, the time steps per channel, as a "
                    f"positive integer; got {self.max_length!r}"
                )
        elif self.max_length != 0:
            raise ValueError(
                f"max_length is only used with lstm_input='shuffle', got max_length={self.max_length} "
                f"with lstm_input={self.lstm_input!r}"
            )
        if self.ngram_order < 0 or (self.ngram_order and (not self.vocab_size or self.ngram_buckets < 2)):
            raise ValueError(
                f"ngram_order needs token input (vocab_size > 0) and ngram_buckets >= 2, got "
                f"ngram_order={self.ngram_order}, vocab_size={self.vocab_size}, ngram_buckets={self.ngram_buckets}"
            )
        for name in ("hidden_size", "num_layers", "embedding_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        self.cell.check_hidden_size(self.hidden_size)

    @property
    def input_size(self) -> int:
        """Features per step that the convolutions (and the ``"time"`` LSTM) read."""
        return self.embedding_dim if self.vocab_size else self.n_features

    @property
    def lstm_input_size(self) -> int:
        """Features per LSTM step: ``input_size``, or ``max_length`` for the dimension shuffle."""
        return self.max_length if self.lstm_input == "shuffle" else self.input_size

    def to_dict(self) -> dict:
        d = asdict(self)
        return {**d, "conv_channels": list(self.conv_channels), "conv_kernels": list(self.conv_kernels)}

    @classmethod
    def from_dict(cls, d: dict) -> ClassifierNetConfig:
        # configurations saved before lstm_input existed read as "time", before cell as the plain LSTM
        return cls(
            **{
                **d,
                "conv_channels": tuple(d.get("conv_channels", ())),
                "conv_kernels": tuple(d.get("conv_kernels", (8, 5, 3))),
            }
        )


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean over time of the real steps only.

    Shape:
        x: ``(B, T, C)``; mask: ``(B, T)`` boolean -> ``(B, C)``.

    >>> masked_mean(torch.tensor([[[1.0], [3.0], [100.0]]]), torch.tensor([[True, True, False]]))
    tensor([[2.]])
    """
    weights = mask.to(x.dtype).unsqueeze(-1)  # (B, T, 1)
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)


class _ConvBranch(nn.Module):
    """Conv1d -> BatchNorm -> ReLU blocks ("same" padding), then the mean over real steps.

    Padded steps are set to zero before every block, so in eval mode a sequence gets
    the features it would get alone (zero-padded at its end); in training the batch
    norm statistics also count the zeroed padding.
    """

    def __init__(self, in_channels: int, channels: tuple[int, ...], kernels: tuple[int, ...]):
        super().__init__()
        self.convs, self.norms, previous = nn.ModuleList(), nn.ModuleList(), in_channels
        for out, k in zip(channels, kernels):
            self.convs.append(nn.Conv1d(previous, out, k))
            self.norms.append(nn.BatchNorm1d(out))
            previous = out
        self.out_features = previous

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        keep = mask.unsqueeze(1)  # (B, 1, T)
        h = x.transpose(1, 2)  # (B, C, T)
        for conv, norm in zip(self.convs, self.norms):
            assert isinstance(conv, nn.Conv1d)  # self.convs holds nothing else
            k = conv.kernel_size[0]
            # "same" length, the extra step of an even kernel on the right (as Keras does)
            h = F.pad(h.masked_fill(~keep, 0.0), ((k - 1) // 2, k // 2))  # padding reads as zeros
            h = torch.relu(norm(conv(h)))
        return masked_mean(h.transpose(1, 2), mask)


class ClassifierNet(nn.Module):
    """(Bi)LSTM (or GRU, RNN) encoder + pooling over time (+ optional conv branch) + linear head.

    Args:
        config: a `ClassifierNetConfig`.

    Shape:
        x: ``(B, T, n_features)`` float, or ``(B, T)`` int64 token ids.
        lengths: ``(B,)`` real lengths in ``[1, T]``, or None when every sequence has ``T`` steps.
        output: ``(B, n_classes)`` logits (unnormalised log-probabilities).

    >>> torch.manual_seed(0) and None
    >>> net = ClassifierNet(ClassifierNetConfig(n_classes=3, n_features=2, hidden_size=8)).eval()
    >>> x = torch.randn(2, 5, 2)
    >>> logits = net(x, lengths=torch.tensor([5, 3]))
    >>> tuple(logits.shape)
    (2, 3)
    >>> # steps after a sequence's end change nothing
    >>> x2 = x.clone(); x2[1, 3:] = 99.0
    >>> torch.allclose(net(x2, lengths=torch.tensor([5, 3])), logits)
    True
    """

    def __init__(self, config: ClassifierNetConfig):
        super().__init__()
        self.config = c = config
        self.embedding: nn.Embedding | None = None
        if c.vocab_size:
            self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim, padding_idx=c.pad_id)
            self.embedding.weight.requires_grad_(not c.freeze_embedding)
        self.encoder = c.cell.build(
            c.lstm_input_size,
            c.hidden_size,
            num_layers=c.num_layers,
            bidirectional=c.bidirectional,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
        )
        D = 2 if c.bidirectional else 1
        H_out = c.cell.output_size(c.hidden_size)  # proj_size when projecting
        self.pool = AttentionPooling(D * H_out) if c.pooling == "attention" else None
        self.conv = _ConvBranch(c.input_size, c.conv_channels, c.conv_kernels) if c.conv_channels else None
        self.dropout = nn.Dropout(c.dropout)
        n_pooled = D * H_out + (self.conv.out_features if self.conv is not None else 0)
        self.head = nn.Linear(n_pooled, c.n_classes)
        self.ngrams = HashedNGrams(c.ngram_order, c.ngram_buckets, c.n_classes) if c.ngram_order else None

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        pooled, _ = self.features(x, lengths)
        logits = self.head(self.dropout(pooled))
        if self.ngrams is not None:  # the n-gram model's logits beside the encoder's
            if lengths is None:
                lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64)
            logits = logits + self.ngrams(x, lengths)
        return logits

    def features(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """The pooled features before the output layer, and the attention weights.

        Shape:
            x: as in ``forward``; returns ``(B, n_pooled)`` and ``(B, T)`` weights
            (``(B, F)``, over channels, with ``lstm_input="shuffle"``; ``None`` unless
            ``pooling="attention"``).
        """
        c = self.config
        inputs = self._embed(x)
        B, T, _ = inputs.shape  # batch, time, input features
        if lengths is None:
            lengths = torch.full((B,), T, dtype=torch.int64)
        lengths = lengths.to("cpu", torch.int64)
        mask = torch.arange(T)[None, :] < lengths[:, None]  # (B, T), True at real steps
        mask = mask.to(inputs.device)
        # every sequence full: skip packing, the fused kernel runs faster without it
        full = bool((lengths == T).all())
        if c.vocab_size:
            inputs = self.dropout(inputs)  # embedding dropout
        if c.lstm_input == "shuffle":
            outputs, h_n, mask_lstm = self._shuffled(inputs, mask)  # steps are channels, all real
        else:
            outputs, state = self.encoder(inputs, lengths=None if full else lengths)  # (B, T, D * H_out)
            h_n, mask_lstm = hidden_of(state), mask
        weights = None
        if c.pooling == "last":
            top = h_n[-2:] if c.bidirectional else h_n[-1:]  # the top layer's directions, at their ends
            pooled = torch.cat(list(top), dim=-1)
        elif c.pooling == "mean":
            pooled = masked_mean(outputs, mask_lstm)
        elif c.pooling == "max":
            pooled = outputs.masked_fill(~mask_lstm.unsqueeze(-1), float("-inf")).amax(dim=1)
        else:
            assert self.pool is not None  # built for pooling="attention"
            pooled, weights = self.pool(outputs, mask=mask_lstm)
        if self.conv is not None:
            pooled = torch.cat([pooled, self.conv(inputs, mask)], dim=-1)
        return pooled, weights

    def _shuffled(self, inputs: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Dimension shuffle: the LSTM reads one step per channel, the channel's series as features."""
        c = self.config
        B, T, F_ = inputs.shape  # batch, time, channels
        if T > c.max_length:
            raise ValueError(
                f"lstm_input='shuffle' reads at most max_length={c.max_length} time steps, got sequences padded to {T}"
            )
        # padded steps read as zeros, like the steps after T up to max_length
        series = inputs.masked_fill(~mask.unsqueeze(-1), 0.0)
        series = F.pad(series, (0, 0, 0, c.max_length - T)).transpose(1, 2)  # (B, F, max_length)
        outputs, state = self.encoder(series.contiguous())  # (B, F, D * H_out)
        return outputs, hidden_of(state), torch.ones(B, F_, dtype=torch.bool, device=inputs.device)

    def _embed(self, x: Tensor) -> Tensor:
        c = self.config
        if c.vocab_size:
            if x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
                raise ValueError(
                    f"ClassifierNet with a vocabulary expects token ids (batch, time) of int64, "
                    f"got {x.dtype} of shape {tuple(x.shape)}"
                )
            assert self.embedding is not None  # built whenever vocab_size > 0
            return self.embedding(x)
        if x.dim() != 3 or x.shape[-1] != c.n_features:
            raise ValueError(f"ClassifierNet expects (batch, time, {c.n_features}) inputs, got shape {tuple(x.shape)}")
        return x
