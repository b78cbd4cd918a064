"""Encoder-decoder LSTMs with attention: tensors of source ids in, target ids out.

The network (Bahdanau et al. 2015; Luong et al. 2015, "global attention"):

* **encoder**: embeddings, then a stacked (bidirectional) `lstmkit.nn.LSTM` run with
  the real source lengths, so padding neither moves the state nor appears in the
  outputs; the outputs are projected to the decoder size: the *memory* ``m_s``;
* **bridge**: the decoder's initial ``(h, c)`` in every layer come from the
  encoder's final states of its top layer (both directions), through a linear map
  (``h`` alone for a GRU or RNN);
* **decoder**: embeddings of the previous target id, a stacked LSTM giving ``h_t``;
  attention from ``h_t`` over the memory with the source padding masked out
  (`lstmkit.nn.AdditiveAttention` or `lstmkit.nn.MultiplicativeAttention`) gives
  the context ``c_t`` and the weights ``α_t``; ``a_t = tanh(W [h_t; c_t])``; the
  next-id scores are ``W_o a_t``.

The decoder reads previous *ids* only (no input feeding), so with teacher forcing a
whole target runs through the LSTM in one call. Scheduled sampling (Bengio et al.
2015) is done in parallel (Duckworth et al. 2019): a first pass without gradients
predicts every position from the gold prefix, then each gold input is replaced by
that prediction with probability ``1 - teacher_forcing``, and the second pass
learns from the mixed inputs.

Decoding is step by step with the state carried: `Seq2Seq.greedy` and the batched
`Seq2Seq.beam_search` (length-normalised scores ``log p / length^α``), both
returning the attention weights of what they produced.

Both recurrent layers are LSTMs unless ``cell`` (a `CellOptions`) names a GRU or
RNN. With an LSTM ``proj_size`` every output and ``h`` has ``proj_size`` features
(``H_out``): the memory and the attention work at that size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from lstmkit.models.recurrent import CellOptions, State, map_state
from lstmkit.nn import AdditiveAttention, MultiplicativeAttention
from lstmkit.utils.checks import positive_int

__all__ = ["Seq2SeqConfig", "Seq2Seq", "Memory", "Decoded", "ATTENTIONS"]

ATTENTIONS = ("additive", "general", "dot", "scaled_dot")


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Sizes and options of a `Seq2Seq` network.

    Args:
        source_vocab_size: ids of the source side (embedding rows).
        target_vocab_size: ids of the target side (embedding rows and softmax size).
        bos_id: the target id that starts decoding.
        eos_id: the target id that ends a target.
        pad_id: the padding id on both sides.
        embedding_dim: size of the source and target embeddings.
        hidden_size: recurrent units per layer and direction (encoder) and per layer (decoder).
        encoder_layers: stacked encoder layers.
        decoder_layers: stacked decoder layers.
        bidirectional: read the source both ways.
        attention: ``"additive"`` (Bahdanau), or the Luong scores ``"general"``,
            ``"dot"``, ``"scaled_dot"``.
        dropout: on embeddings, between stacked layers and before the softmax.
        cell: the recurrent layer of the encoder and of the decoder, a `CellOptions`
            (``"lstm"``, ``"gru"``, ``"rnn"`` and the LSTM variants); its dict form
            (from JSON) or a cell name is converted. Default: the plain LSTM.
    """

    source_vocab_size: int
    target_vocab_size: int
    bos_id: int
    eos_id: int
    pad_id: int = 0
    embedding_dim: int = 64
    hidden_size: int = 128
    encoder_layers: int = 1
    decoder_layers: int = 1
    bidirectional: bool = True
    attention: str = "additive"
    dropout: float = 0.1
    cell: CellOptions = CellOptions()

    def __post_init__(self):
        object.__setattr__(self, "cell", CellOptions.coerce(self.cell))  # a dict when read back from JSON
        for name in (
            "source_vocab_size",
            "target_vocab_size",
            "embedding_dim",
            "hidden_size",
            "encoder_layers",
            "decoder_layers",
        ):
            positive_int(name, getattr(self, name))
        for name in ("bos_id", "eos_id", "pad_id"):
            value = getattr(self, name)
            if not 0 <= value < self.target_vocab_size:
                raise ValueError(f"{name} must be a target id in [0, {self.target_vocab_size}), got {value}")
        if len({self.bos_id, self.eos_id, self.pad_id}) != 3:
            raise ValueError(f"bos_id, eos_id and pad_id must differ, got {self.bos_id}, {self.eos_id}, {self.pad_id}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        self.cell.check_hidden_size(self.hidden_size)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Seq2SeqConfig:
        """Rebuild from `to_dict` (JSON); a dict saved before ``cell`` existed reads as the plain LSTM."""
        return cls(**d)


@dataclass
class Memory:
    """What the encoder hands to the decoder.

    Attributes:
        memory: ``(B, S, H_out)`` projected encoder outputs (keys and values of attention).
        mask: ``(B, S)`` True at real source steps.
        state: the decoder's initial ``(h, c)``, each ``(decoder_layers, B, H)`` (``h``
            has ``H_out`` features), or ``h`` alone for a GRU or RNN.
    """

    memory: Tensor
    mask: Tensor
    state: State

    def repeat(self, k: int) -> Memory:
        """Each row repeated ``k`` times in place (row ``b`` becomes rows ``b*k .. b*k+k-1``)."""
        return Memory(
            self.memory.repeat_interleave(k, 0),
            self.mask.repeat_interleave(k, 0),
            map_state(lambda s: s.repeat_interleave(k, 1), self.state),
        )


@dataclass
class Decoded:
    """The result of decoding a batch.

    Attributes:
        tokens: per source, the target ids produced (without ``<bos>``/``<eos>``).
        scores: per source, the total log-probability of the output (with its
            ``<eos>``), before any length normalisation.
        attention: per source, ``(len(tokens) + 1, S_b)`` weights over its real
            source steps, one row per produced id (the last row for ``<eos>``, or
            for the last id when the output hit the length limit).
    """

    tokens: list[list[int]]
    scores: list[float]
    attention: list[Tensor]


class Seq2Seq(nn.Module):
    """Bidirectional stacked LSTM (or GRU, RNN) encoder, decoder of the same kind, attention between them.

    Args:
        config: a `Seq2SeqConfig`.

    Shape:
        src: ``(B, S)`` source ids padded with ``pad_id``; src_lengths: ``(B,)``.
        tgt_in: ``(B, T)`` target ids starting with ``<bos>`` (the gold output shifted right).
        logits: ``(B, T, target_vocab_size)``.

    >>> _ = torch.manual_seed(0)
    >>> cfg = Seq2SeqConfig(source_vocab_size=7, target_vocab_size=6, bos_id=2, eos_id=3, hidden_size=8,
    ...                     embedding_dim=4)
    >>> net = Seq2Seq(cfg).eval()
    >>> src, lengths = torch.tensor([[4, 5, 6], [5, 4, 0]]), torch.tensor([3, 2])
    >>> tuple(net(src, lengths, torch.tensor([[2, 4], [2, 5]])).shape)
    (2, 2, 6)
    >>> out = net.greedy(src, lengths, max_len=4)
    >>> len(out.tokens[1]), tuple(out.attention[1].shape)  # no <eos> within 4 ids; 2 real source steps
    (4, (4, 2))
    >>> out.attention[1].sum(1).round(decimals=4).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = c = config
        D = 2 if c.bidirectional else 1
        H, H_out, L = c.hidden_size, c.cell.output_size(c.hidden_size), c.decoder_layers  # H_out: proj_size or H
        self.source_embedding = nn.Embedding(c.source_vocab_size, c.embedding_dim, padding_idx=c.pad_id)
        self.target_embedding = nn.Embedding(c.target_vocab_size, c.embedding_dim, padding_idx=c.pad_id)
        self.drop = nn.Dropout(c.dropout)
        self.encoder = c.cell.build(
            c.embedding_dim, H, num_layers=c.encoder_layers, bidirectional=c.bidirectional, dropout=c.dropout
        )
        self.memory_proj = nn.Linear(D * H_out, H_out)
        self.bridge_h = nn.Linear(D * H_out, L * H_out)
        # only an LSTM has a cell state to hand over
        self.bridge_c = nn.Linear(D * H, L * H) if c.cell.cell == "lstm" else None
        self.decoder = c.cell.build(c.embedding_dim, H, num_layers=L, dropout=c.dropout)
        if c.attention == "additive":
            self.attention: nn.Module = AdditiveAttention(H_out, H_out)
        else:
            self.attention = MultiplicativeAttention(H_out, H_out, score=c.attention)
        self.combine = nn.Linear(2 * H_out, H)
        self.output = nn.Linear(c.hidden_size, c.target_vocab_size)

    # ---- the two halves --------------------------------------------------------------

    def encode(self, src: Tensor, src_lengths: Tensor) -> Memory:
        """Read the sources: the memory to attend over, its mask, the decoder's first state.

        Args:
            src: padded source ids.
            src_lengths: real length of each source (at least 1).

        Returns:
            A `Memory`.
        """
        c = self.config
        if src.dim() != 2:
            raise ValueError(f"src must be (batch, time) ids, got shape {tuple(src.shape)}")
        B, S = src.shape  # batch, source time
        lengths = torch.as_tensor(src_lengths, device=src.device)
        out, final = self.encoder(self.drop(self.source_embedding(src)), lengths=lengths.cpu())
        D, L = 2 if c.bidirectional else 1, c.decoder_layers

        def top(s: Tensor) -> Tensor:  # the top layer's final states, both directions side by side: (B, D * size)
            return s[-D:].transpose(0, 1).reshape(B, -1)

        def per_layer(s: Tensor) -> Tensor:  # (B, L * size) -> (L, B, size), the decoder's layout
            return s.view(B, L, -1).transpose(0, 1).contiguous()

        if self.bridge_c is None:
            state: State = per_layer(torch.tanh(self.bridge_h(top(final))))
        else:
            h, cell = final
            state = (per_layer(torch.tanh(self.bridge_h(top(h)))), per_layer(self.bridge_c(top(cell))))
        mask = torch.arange(S, device=src.device)[None, :] < lengths[:, None]
        return Memory(self.memory_proj(out), mask, state)

    def decode(self, tgt_in: Tensor, memory: Memory, state: State | None = None) -> tuple[Tensor, State, Tensor]:
        """Run the decoder over given previous ids (a whole target, or one step).

        Args:
            tgt_in: previous target ids.
            memory: from `encode`.
            state: the decoder state to start from (None: ``memory.state``).

        Shape:
            tgt_in: ``(B, T)``; returns logits ``(B, T, V)``, weights ``(B, T, S)``.

        Returns:
            ``(logits, state, attention weights)``.
        """
        emb = self.drop(self.target_embedding(tgt_in))  # (B, T, E)
        out, state = self.decoder(emb, memory.state if state is None else state)  # (B, T, H_out)
        context, weights = self.attention(out, memory.memory, mask=memory.mask)  # (B, T, H_out), (B, T, S)
        attentional = torch.tanh(self.combine(torch.cat([out, context], dim=-1)))
        return self.output(self.drop(attentional)), state, weights

    def forward(self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor, teacher_forcing: float = 1.0) -> Tensor:
        """Next-id scores at every target position (training and scoring).

        Args:
            src, src_lengths: the padded sources and their lengths.
            tgt_in: ``<bos>`` then the gold target ids (padded with ``pad_id``).
            teacher_forcing: probability of feeding each gold id; below 1, and only
                in training, the rest are the model's own predictions (parallel
                scheduled sampling).

        Returns:
            logits ``(B, T, V)``.
        """
        if not 0 <= teacher_forcing <= 1:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing!r}")
        memory = self.encode(src, src_lengths)
        if self.training and teacher_forcing < 1 and tgt_in.shape[1] > 1:
            with torch.no_grad():
                guess = self.decode(tgt_in, memory)[0].argmax(-1)  # (B, T): the id after each gold prefix
            use_guess = torch.rand(tgt_in.shape, device=tgt_in.device) >= teacher_forcing
            use_guess[:, 0] = False  # <bos> always starts
            use_guess &= tgt_in != self.config.pad_id  # padding stays padding
            mixed = tgt_in.clone()
            mixed[:, 1:] = torch.where(use_guess[:, 1:], guess[:, :-1], tgt_in[:, 1:])
            tgt_in = mixed
        return self.decode(tgt_in, memory)[0]

    # ---- decoding --------------------------------------------------------------------

    def _banned(self, logp: Tensor) -> Tensor:
        """Log-probabilities with ``<pad>`` and ``<bos>`` removed: never produced."""
        c = self.config
        logp = logp.clone()
        logp[:, [c.pad_id, c.bos_id]] = float("-inf")
        return logp

    @torch.no_grad()
    def greedy(self, src: Tensor, src_lengths: Tensor, max_len: int) -> Decoded:
        """Most likely id at each step until ``<eos>`` (or ``max_len`` ids).

        Args:
            src, src_lengths: the padded sources and their lengths.
            max_len: most ids produced per source, ``<eos>`` included.

        Returns:
            A `Decoded`.
        """
        c = self.config
        memory = self.encode(src, src_lengths)
        B = src.shape[0]
        prev = torch.full((B, 1), c.bos_id, dtype=torch.long, device=src.device)
        state = None
        done = torch.zeros(B, dtype=torch.bool, device=src.device)
        tokens, weights, scores = [], [], torch.zeros(B, device=src.device)
        for _ in range(max_len):
            logits, state, w = self.decode(prev, memory, state)
            logp = self._banned(logits[:, 0].log_softmax(-1))
            best = logp.argmax(-1)
            scores += torch.where(done, 0.0, logp.gather(1, best[:, None])[:, 0])
            tokens.append(torch.where(done, c.pad_id, best))
            weights.append(w[:, 0])
            done |= best == c.eos_id
            prev = best[:, None]
            if bool(done.all()):
                break
        return self._collect(torch.stack(tokens, 1), scores, torch.stack(weights, 1), src_lengths)

    @torch.no_grad()
    def beam_search(
        self, src: Tensor, src_lengths: Tensor, max_len: int, beam: int = 4, length_penalty: float = 1.0
    ) -> Decoded:
        """Beam search: keep the ``beam`` best partial outputs of each source at every step.

        Partial outputs are ranked by their total log-probability; among the
        finished ones (and those cut at ``max_len``), the output with the best
        ``log p / length ** length_penalty`` wins (``length`` counts ``<eos>``;
        ``length_penalty=0`` ranks by raw log-probability, 1 by its mean per id).

        Args:
            src, src_lengths: the padded sources and their lengths.
            max_len: most ids produced per source, ``<eos>`` included.
            beam: partial outputs kept per source (1 is greedy decoding).
            length_penalty: ``α`` of the length normalisation, ``>= 0``.

        Returns:
            A `Decoded` (``scores`` are raw log-probabilities).
        """
        c = self.config
        positive_int("beam", beam)
        if length_penalty < 0:
            raise ValueError(f"length_penalty must be >= 0, got {length_penalty!r}")
        B, K = src.shape[0], beam
        device = src.device
        memory = self.encode(src, src_lengths).repeat(K)
        state = memory.state
        scores = torch.zeros(B, K, device=device)
        scores[:, 1:] = float("-inf")  # all beams start identical: only the first may grow
        prev = torch.full((B * K,), c.bos_id, dtype=torch.long, device=device)
        done = torch.zeros(B * K, dtype=torch.bool, device=device)
        length = torch.zeros(B * K, dtype=torch.long, device=device)
        tokens = torch.zeros(B * K, 0, dtype=torch.long, device=device)
        weights = torch.zeros(B * K, 0, memory.memory.shape[1], device=device)
        rows = torch.arange(B, device=device)[:, None] * K
        for _ in range(max_len):
            logits, state, w = self.decode(prev[:, None], memory, state)
            logp = self._banned(logits[:, 0].log_softmax(-1))  # (B*K, V)
            # a finished output only extends by padding, at no cost: it keeps its score
            logp[done] = float("-inf")
            logp[done, c.pad_id] = 0.0
            V = logp.shape[1]
            candidates = (scores.view(B * K, 1) + logp).view(B, K * V)
            scores, index = candidates.topk(K, dim=1)  # (B, K)
            origin = (rows + index // V).view(-1)  # the beam each new one extends
            token = (index % V).view(-1)

            def pick(s: Tensor, origin: Tensor = origin) -> Tensor:
                return s[:, origin]

            state = map_state(pick, state)
            tokens = torch.cat([tokens[origin], token[:, None]], 1)
            weights = torch.cat([weights[origin], w[origin]], 1)
            length = length[origin] + (~done[origin]).long()
            done = done[origin] | (token == c.eos_id)
            prev = token
            if bool(done.all()):
                break
        normalised = scores / length.view(B, K).clamp(min=1).float() ** length_penalty
        best = normalised.argmax(1) + rows[:, 0]  # (B,)
        return self._collect(tokens[best], scores.view(-1)[best], weights[best], src_lengths)

    def _collect(self, tokens: Tensor, scores: Tensor, weights: Tensor, src_lengths: Tensor) -> Decoded:
        """Cut each output at its ``<eos>``; keep the attention rows and real source columns."""
        c = self.config
        out, attention = [], []
        lengths = torch.as_tensor(src_lengths).tolist()
        for row, w, S in zip(tokens.tolist(), weights, lengths):
            n = row.index(c.eos_id) if c.eos_id in row else len(row)
            out.append(row[:n])
            attention.append(w[: min(n + 1, len(row)), :S].cpu())
        return Decoded(out, scores.tolist(), attention)
