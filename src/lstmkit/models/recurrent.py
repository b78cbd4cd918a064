"""The recurrent layer of every task network, chosen by one option: `CellOptions`.

Each network in `lstmkit.models` reads its sequences with an `lstmkit.nn.LSTM`,
`GRU` or `RNN` made by `CellOptions.build`. The default is the plain LSTM the
networks have always used, built with the same arguments, so its parameter names,
initial values and saved weights are unchanged.

The layers differ in their state: an LSTM carries ``(h, c)``, a GRU or RNN ``h``
alone. Code that looks inside a state or changes its rows goes through `hidden_of`
and `map_state`, which take either form, so one network serves every cell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields

import torch
from torch import Tensor

from lstmkit.errors import ConfigError
from lstmkit.nn import GRU, LSTM, RNN
from lstmkit.utils.checks import non_negative_int

__all__ = ["CellOptions", "CELLS", "State", "hidden_of", "map_state"]

CELLS = ("lstm", "gru", "rnn")
_LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
_LSTM_ONLY = ("peephole", "layer_norm", "coupled_gates", "proj_size")

State = Tensor | tuple[Tensor, Tensor]  # h (GRU, RNN) or (h, c) (LSTM)


@dataclass(frozen=True)
class CellOptions:
    """Which recurrent layer a network uses, and the options of its cell.

    Args:
        cell: ``"lstm"`` (default), ``"gru"`` or ``"rnn"`` (the tanh Elman RNN).
        peephole: LSTM only: the gates see the cell state (Gers & Schmidhuber 2000).
        layer_norm: LSTM only: layer-normalised gates and cell state (Ba et al. 2016).
        coupled_gates: LSTM only: the forget gate is tied to the input gate,
            ``f = 1 - i`` (CIFG; `lstmkit.nn.LSTM`'s ``input_forget``).
        proj_size: LSTM only: project the hidden state to this size (LSTMP, Sak et
            al. 2014), which is then the size of every output and of ``h``; 0 for
            none. Must be below the network's hidden size.
        zoneout: probability that each state unit keeps its previous value
            (training only; any cell).
        recurrent_dropout: variational dropout on the hidden state entering the
            recurrent product, one mask per sequence (training only; any cell).

    >>> options = CellOptions(cell="gru", zoneout=0.1)
    >>> gru = options.build(3, 8, num_layers=2)
    >>> type(gru).__name__, options.output_size(8)
    ('GRU', 8)
    >>> CellOptions.from_dict(options.to_dict()) == options
    True
    >>> CellOptions(proj_size=4).output_size(8)
    4
    """

    cell: str = "lstm"
    peephole: bool = False
    layer_norm: bool = False
    coupled_gates: bool = False
    proj_size: int = 0
    zoneout: float = 0.0
    recurrent_dropout: float = 0.0

    def __post_init__(self):
        if self.cell not in CELLS:
            raise ConfigError(f"cell must be one of {CELLS}, got {self.cell!r}")
        for name in ("peephole", "layer_norm", "coupled_gates"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")
        non_negative_int("proj_size", self.proj_size)
        for name in ("zoneout", "recurrent_dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ConfigError(f"{name} must be a number in [0, 1), got {value!r}")
        if self.cell != "lstm":
            for name in _LSTM_ONLY:
                if getattr(self, name):
                    raise ConfigError(f"{name}={getattr(self, name)!r} needs cell='lstm', got cell={self.cell!r}")

    @classmethod
    def coerce(cls, value: CellOptions | Mapping | str) -> CellOptions:
        """``value`` as `CellOptions`: itself, its `to_dict` form (read back from JSON), or a cell name.

        >>> CellOptions.coerce("rnn") == CellOptions.coerce({"cell": "rnn"}) == CellOptions(cell="rnn")
        True
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls(cell=value)
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        raise ConfigError(f"cell must be a CellOptions, its dict form or one of {CELLS}, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> CellOptions:
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ConfigError(f"unknown cell option(s) {unknown}; the options are {known}")
        return cls(**d)

    def check_hidden_size(self, hidden_size: int) -> None:
        """Raise `ConfigError` unless these options fit a layer of ``hidden_size`` units."""
        if self.proj_size and self.proj_size >= hidden_size:
            raise ConfigError(f"proj_size must be smaller than hidden_size={hidden_size}, got {self.proj_size}")

    def output_size(self, hidden_size: int) -> int:
        """Features per direction of the layer's outputs and of ``h``: ``proj_size or hidden_size``."""
        return self.proj_size or hidden_size

    def build(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> LSTM | GRU | RNN:
        """The recurrent layer, batch first.

        Args:
            input_size: features per time step.
            hidden_size: units per layer and direction.
            num_layers: stacked layers.
            dropout: dropout between stacked layers (training only).
            bidirectional: read the sequence both ways.

        Returns:
            An `lstmkit.nn.LSTM`, `GRU` or `RNN`; see its ``forward`` for the shapes.
        """
        self.check_hidden_size(hidden_size)
        options = {
            "num_layers": num_layers,
            "dropout": dropout,
            "bidirectional": bidirectional,
            "zoneout": self.zoneout,
            "recurrent_dropout": self.recurrent_dropout,
        }
        if self.cell == "lstm":
            options.update(
                proj_size=self.proj_size,
                peephole=self.peephole,
                layer_norm=self.layer_norm,
                input_forget=self.coupled_gates,
            )
        return _LAYERS[self.cell](input_size, hidden_size, **options)

    def zero_state(
        self,
        batch_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> State:
        """The all-zero state a layer from `build` starts from when given none.

        Shape:
            h: ``(num_layers * D, B, output_size)``; c (LSTM only): ``(num_layers * D, B, hidden_size)``.

        Returns:
            ``(h, c)`` for ``cell="lstm"``, else ``h``.

        >>> h, c = CellOptions(proj_size=2).zero_state(5, 4)
        >>> tuple(h.shape), tuple(c.shape), tuple(CellOptions(cell="gru").zero_state(5, 4).shape)
        ((1, 5, 2), (1, 5, 4), (1, 5, 4))
        """
        rows = num_layers * (2 if bidirectional else 1)
        h = torch.zeros(rows, batch_size, self.output_size(hidden_size), device=device, dtype=dtype)
        if self.cell != "lstm":
            return h
        return h, torch.zeros(rows, batch_size, hidden_size, device=device, dtype=dtype)


def hidden_of(state: State) -> Tensor:
    """The hidden states ``h`` of a state of either form.

    Shape:
        returns ``(num_layers * D, B, output_size)``; the top layer's directions are
        the last ``D`` rows, so ``hidden_of(state)[-1]`` is the top layer's last
        hidden state of a one-way layer.

    >>> h = torch.ones(1, 2, 3)
    >>> hidden_of((h, torch.zeros(1, 2, 3))) is h, hidden_of(h) is h
    (True, True)
    """
    return state[0] if isinstance(state, (tuple, list)) else state


def map_state(fn: Callable[[Tensor], Tensor], state: State) -> State:
    """``fn`` applied to every tensor of a state, its form kept: ``(fn(h), fn(c))`` or ``fn(h)``.

    >>> map_state(lambda s: s * 2, torch.ones(1)), map_state(lambda s: s * 2, (torch.ones(1), torch.zeros(1)))
    (tensor([2.]), (tensor([2.]), tensor([0.])))
    """
    if isinstance(state, (tuple, list)):
        h, c = state
        return fn(h), fn(c)
    return fn(state)
