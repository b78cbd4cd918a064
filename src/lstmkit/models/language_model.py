"""The language-model network: embeddings, a stacked LSTM, a softmax over the vocabulary.

The recurrent layer is an LSTM unless ``cell`` (a `CellOptions`) names a GRU or RNN;
the state that comes back is then ``h`` instead of ``(h, c)``, carried the same way.

Tensors in, tensors out. ``forward(ids, state) -> (logits, state)`` is the
contract the Trainer's truncated BPTT uses: the state comes back so the next chunk
of the same streams starts where this one ended.

Regularisation, as LSTM language models need it (Zaremba et al. 2014; Gal &
Ghahramani 2016; Merity et al. 2018):

* ``embedding_dropout`` on the input embeddings, ``output_dropout`` on the LSTM
  outputs before the softmax, ``dropout`` between stacked layers;
* ``recurrent_dropout``: variational dropout on the hidden state fed back at each
  step (one mask per sequence for the whole chunk), done by `lstmkit.nn.LSTM`;
* ``tie_weights``: the softmax reuses the input embedding matrix (Press & Wolf
  2017; Inan et al. 2017), through a projection when ``hidden_size`` differs from
  ``embedding_dim``.

Generation streams: `LanguageModelNet.stream` reads the prompt once, then feeds
each sampled id back with the carried state, so ``n`` new ids cost ``n`` one-step
calls, never a re-read of the prefix. `sample_next` applies temperature, top-k and
top-p (nucleus) filtering with an explicit random generator for repeatability.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.errors import ConfigError
from lstmkit.models.recurrent import CellOptions, State
from lstmkit.utils.checks import positive_int

__all__ = [
    "LanguageModelNetConfig",
    "LanguageModelNet",
    "sample_next",
    "filter_logits",
    "stream_nll",
    "stream_log_probs",
]


@dataclass(frozen=True)
class LanguageModelNetConfig:
    """Shape, size and regularisation of a `LanguageModelNet`.

    Args:
        vocab_size: number of token ids (rows of the embedding table, size of the softmax).
        embedding_dim: size of a token embedding.
        hidden_size: recurrent units per layer.
        num_layers: stacked recurrent layers.
        dropout: dropout between stacked layers.
        embedding_dropout: dropout on the input embeddings.
        output_dropout: dropout on the last layer's outputs, before the softmax.
        recurrent_dropout: variational dropout on the recurrent hidden state (the
            same as ``cell.recurrent_dropout``; give it in one place only).
        tie_weights: share the embedding matrix with the output layer.
        cell: the recurrent layer, a `CellOptions` (``"lstm"``, ``"gru"``, ``"rnn"`` and
            the LSTM variants); its dict form (from JSON) or a cell name is converted.
            Default: the plain LSTM. With ``proj_size`` the outputs have that size.
    """

    vocab_size: int
    embedding_dim: int = 128
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.0
    embedding_dropout: float = 0.1
    output_dropout: float = 0.2
    recurrent_dropout: float = 0.0
    tie_weights: bool = False
    cell: CellOptions = CellOptions()

    def __post_init__(self):
        object.__setattr__(self, "cell", CellOptions.coerce(self.cell))  # a dict when read back from JSON
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            positive_int(name, getattr(self, name))
        if self.vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, got {self.vocab_size}")
        for name in ("dropout", "embedding_dropout", "output_dropout", "recurrent_dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")
        if self.recurrent_dropout and self.cell.recurrent_dropout:
            raise ConfigError(
                f"recurrent_dropout is given twice, {self.recurrent_dropout} and "
                f"cell.recurrent_dropout={self.cell.recurrent_dropout}; give one of them"
            )
        self.cell.check_hidden_size(self.hidden_size)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> LanguageModelNetConfig:
        """Rebuild from `to_dict` (JSON); a dict saved before ``cell`` existed reads as the plain LSTM."""
        return cls(**d)


class LanguageModelNet(nn.Module):
    """Embedding -> stacked LSTM (or GRU, RNN) -> linear softmax over the next token.

    Args:
        config: a `LanguageModelNetConfig`.

    Shape:
        ids: ``(B, T)`` int64 token ids.
        state: ``(h, c)``, each ``(num_layers, B, hidden_size)`` (``h`` has ``proj_size``
            features when projecting), or ``h`` alone for a GRU or RNN; None for zeros.
        logits: ``(B, T, vocab_size)``: the scores of the token after each position.

    >>> _ = torch.manual_seed(0)
    >>> net = LanguageModelNet(LanguageModelNetConfig(vocab_size=10, embedding_dim=8, hidden_size=8)).eval()
    >>> ids = torch.tensor([[2, 3, 4, 5]])
    >>> logits, state = net(ids)
    >>> tuple(logits.shape), tuple(state[0].shape)
    ((1, 4, 10), (1, 1, 8))
    >>> # the state carries: two halves equal one pass
    >>> first, s = net(ids[:, :2]); second, _ = net(ids[:, 2:], s)
    >>> torch.allclose(torch.cat([first, second], 1), logits, atol=1e-6)
    True
    """

    def __init__(self, config: LanguageModelNetConfig):
        super().__init__()
        self.config = c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim)
        self.embedding_drop = nn.Dropout(c.embedding_dropout) if c.embedding_dropout else nn.Identity()
        cell = replace(c.cell, recurrent_dropout=c.recurrent_dropout or c.cell.recurrent_dropout)
        # named lstm whatever the cell: the parameter names of saved models stay valid
        self.lstm = cell.build(c.embedding_dim, c.hidden_size, num_layers=c.num_layers, dropout=c.dropout)
        self.output_drop = nn.Dropout(c.output_dropout) if c.output_dropout else nn.Identity()
        H_out = c.cell.output_size(c.hidden_size)  # proj_size when projecting
        if c.tie_weights and H_out != c.embedding_dim:
            # the tied softmax reads embedding-sized vectors
            self.projection: nn.Module = nn.Linear(H_out, c.embedding_dim)
        else:
            self.projection = nn.Identity()
        self.decoder = nn.Linear(c.embedding_dim if c.tie_weights else H_out, c.vocab_size)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        if c.tie_weights:
            self.decoder.weight = self.embedding.weight

    def forward(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Scores of the next token at every position, and the state after the last one.

        Args:
            ids: token ids.
            state: the state the streams start from (None: zeros).

        Returns:
            ``(logits, state)``: ``(h, c)`` for an LSTM, ``h`` for a GRU or RNN.
        """
        if ids.dim() != 2:
            raise ValueError(f"ids must be (batch, time) token ids, got shape {tuple(ids.shape)}")
        x = self.embedding_drop(self.embedding(ids))  # (B, T, E)
        out, state = self.lstm(x, state)  # (B, T, H_out)
        logits = self.decoder(self.projection(self.output_drop(out)))  # (B, T, V)
        return logits, state

    @torch.no_grad()
    def stream(
        self,
        prompt: Sequence[int] | Tensor,
        n: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        generator: torch.Generator | None = None,
        banned: Sequence[int] = (),
        chunk: int = 256,
        state: State | None = None,
        next_logits: Callable[[Tensor, list[int]], Tensor] | None = None,
    ) -> Iterator[int]:
        """Yield ``n`` sampled ids, one at a time, carrying the state (the prefix is read once).

        Args:
            prompt: ids to condition on (at least one, unless ``state`` is given
                together with them); read in pieces of ``chunk`` ids, the state carried.
            n: how many ids to generate.
            temperature, top_k, top_p: see `sample_next`.
            generator: random generator for repeatable sampling.
            banned: ids never to sample (padding, unknown, ...).
            chunk: ids read per call while consuming a long prompt.
            state: a state to continue from (None: zeros).
            next_logits: turns the network's scores of the next id and the ids so far
                (prompt and samples) into the scores sampled from, e.g.
                `lstmkit.models.NGramMixture.next_logits`; None: the network's own.

        Yields:
            Each new id as an ``int``, as soon as it is sampled.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        ids = torch.as_tensor(prompt, dtype=torch.long).flatten()
        if ids.numel() == 0:
            raise ValueError("the prompt must hold at least one token id")
        was_training = self.training
        self.eval()
        try:
            device = self.embedding.weight.device
            ids = ids.to(device)
            for start in range(0, ids.numel(), chunk):
                logits, state = self(ids[None, start : start + chunk], state)
            last = logits[0, -1]
            history = ids.tolist()
            for i in range(n):
                scores = next_logits(last, history) if next_logits is not None else last
                token = sample_next(
                    scores, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator, banned=banned
                )
                history.append(token)
                yield token
                if i + 1 < n:  # the new token moves the state on: one step, the prefix is not re-read
                    logits, state = self(torch.tensor([[token]], device=device), state)
                    last = logits[0, -1]
        finally:
            self.train(was_training)


def filter_logits(logits: Tensor, *, top_k: int | None = None, top_p: float | None = None) -> Tensor:
    """Set to ``-inf`` every score outside the top ``k`` and outside the top-``p`` nucleus.

    The nucleus is the smallest set of highest-probability ids whose probabilities
    add up to at least ``p`` (Holtzman et al. 2020); the most likely id always stays.

    Args:
        logits: scores over the vocabulary.
        top_k: keep the ``k`` highest scores (None or 0: all).
        top_p: keep the nucleus of mass ``p`` in ``(0, 1]`` (None or 1: all).

    Shape:
        logits: ``(V,)`` or ``(B, V)``; returns the same shape.

    >>> filter_logits(torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05])), top_p=0.7).exp()
    tensor([0.5000, 0.3000, 0.0000, 0.0000])
    >>> filter_logits(torch.tensor([1.0, 3.0, 2.0]), top_k=2)
    tensor([-inf, 3., 2.])
    """
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0):
        raise ValueError(f"top_k must be a non-negative integer or None, got {top_k!r}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
    out = logits.clone()
    if top_k and top_k < out.shape[-1]:
        kth = torch.topk(out, top_k, dim=-1).values[..., -1:]
        out = out.masked_fill(out < kth, float("-inf"))
    if top_p is not None and top_p < 1:
        sorted_logits, order = torch.sort(out, dim=-1, descending=True)
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        # drop an id when the ids ranked above it already reach p
        drop_sorted = (cumulative - sorted_logits.softmax(dim=-1)) >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        out = out.masked_fill(drop, float("-inf"))
    return out


def sample_next(
    logits: Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    banned: Sequence[int] = (),
) -> int:
    """Draw the next id from one row of scores.

    Args:
        logits: scores over the vocabulary.
        temperature: divides the scores: below 1 sharper, above 1 flatter; 0 takes
            the most likely id (greedy).
        top_k, top_p: filtering, see `filter_logits`.
        generator: random generator (None: torch's global one).
        banned: ids never drawn.

    Shape:
        logits: ``(V,)``.

    Returns:
        The id.

    >>> sample_next(torch.tensor([0.0, 5.0, 1.0]), temperature=0)
    1
    >>> g = torch.Generator().manual_seed(0)
    >>> sample_next(torch.tensor([0.0, 5.0, 1.0]), top_k=1, generator=g)
    1
    """
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature < 0:
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    if logits.dim() != 1:
        raise ValueError(f"logits must be one row (vocab_size,), got shape {tuple(logits.shape)}")
    logits = logits.float().clone()
    if banned:
        logits[list(banned)] = float("-inf")
    if temperature == 0:
        return int(torch.argmax(logits))
    logits = filter_logits(logits / temperature, top_k=top_k, top_p=top_p)
    probs = logits.softmax(dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator))


@torch.no_grad()
def stream_nll(net: LanguageModelNet, ids: Tensor, *, streams: int = 16, warmup: int = 256, chunk: int = 256) -> float:
    """Total negative log-likelihood (nats) of ``ids[1:]``, each id given all before it.

    Reading one long stream step by step leaves a CPU idle between steps, so the
    stream is cut into ``streams`` segments scored side by side. Segment ``b > 0``
    first reads the ``warmup`` ids before it (unscored), so its state starts as it
    would mid-stream (an LSTM's memory of older text fades, so a few hundred ids
    of warm-up are as good as all of them); two segments with a warm-up as long as
    a segment give exactly what reading the whole stream at once gives.

    Args:
        net: the model (put in eval mode here).
        ids: the token ids.
        streams: segments read side by side (fewer when the text is short).
        warmup: ids read before each segment but the first, not scored.
        chunk: time steps per call (bounds the memory of the logits).

    Shape:
        ids: ``(N,)``, ``N >= 2``.

    Returns:
        The sum of ``-log p(ids[t] | ids[:t])`` over ``t = 1 .. N-1``.

    >>> _ = torch.manual_seed(0)
    >>> net = LanguageModelNet(LanguageModelNetConfig(vocab_size=5, embedding_dim=4, hidden_size=4))
    >>> ids = torch.randint(0, 5, (41,))
    >>> one = stream_nll(net, ids, streams=1)
    >>> round(one, 3) == round(stream_nll(net, ids, streams=2, warmup=20), 3)  # the warm-up covers it all
    True
    """
    return -float(stream_log_probs(net, ids, streams=streams, warmup=warmup, chunk=chunk).sum())


@torch.no_grad()
def stream_log_probs(
    net: LanguageModelNet, ids: Tensor, *, streams: int = 16, warmup: int = 256, chunk: int = 256
) -> Tensor:
    """``log p(ids[t] | ids[:t])`` for ``t = 1 .. N-1``, read as `stream_nll` reads them.

    Args:
        net, ids, streams, warmup, chunk: as in `stream_nll`.

    Shape:
        ids: ``(N,)``, ``N >= 2``; returns ``(N - 1,)`` float32 on the CPU, in text order.

    >>> _ = torch.manual_seed(0)
    >>> net = LanguageModelNet(LanguageModelNetConfig(vocab_size=5, embedding_dim=4, hidden_size=4))
    >>> ids = torch.randint(0, 5, (41,))
    >>> logp = stream_log_probs(net, ids, streams=1)
    >>> tuple(logp.shape), bool(torch.allclose(logp, stream_log_probs(net, ids, streams=2, warmup=20), atol=1e-5))
    ((40,), True)
    """
    net.eval()
    ids = torch.as_tensor(ids, dtype=torch.long).flatten()
    P = ids.numel() - 1  # predictions
    if P < 1:
        raise ValueError(f"need at least 2 ids to score one, got {ids.numel()}")
    W = max(int(warmup), 1)
    B = max(1, min(int(streams), P // W))
    S = -(-P // B)  # predictions per segment
    W = W if B > 1 else 0
    L = S + W
    X = torch.zeros(B, L, dtype=torch.long)  # inputs
    Y = torch.zeros(B, L, dtype=torch.long)  # the id after each input
    scored = torch.zeros(B, L, dtype=torch.bool)
    position = torch.zeros(B, L, dtype=torch.long)
    for b in range(B):
        start = 0 if b == 0 else b * S - W
        end = min(start + L, P)
        X[b, : end - start] = ids[start:end]
        Y[b, : end - start] = ids[start + 1 : end + 1]
        first = 0 if b == 0 else W  # the warm-up is read, not scored
        last = S if b == 0 else end - start
        scored[b, first : max(first, min(last, end - start))] = True
        position[b] = torch.arange(start, start + L)  # the prediction each column makes
    device = net.embedding.weight.device
    X, Y = X.to(device), Y.to(device)
    out = torch.zeros(P)
    state = None
    for t in range(0, L, chunk):
        logits, state = net(X[:, t : t + chunk], state)
        nll = F.cross_entropy(logits.transpose(1, 2), Y[:, t : t + chunk], reduction="none").cpu()  # (B, chunk)
        mask = scored[:, t : t + chunk]
        out[position[:, t : t + chunk][mask]] = -nll[mask]
    return out
