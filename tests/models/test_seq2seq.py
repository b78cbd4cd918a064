"""Seq2Seq: padding on both sides, step-by-step = teacher-forced, greedy = beam 1, beam = exhaustive search."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from lstmkit.models import Seq2Seq, Seq2SeqConfig

PAD, BOS, EOS = 0, 1, 2


def _net(**options):
    torch.manual_seed(0)
    config = dict(
        source_vocab_size=9,
        target_vocab_size=6,
        bos_id=BOS,
        eos_id=EOS,
        pad_id=PAD,
        embedding_dim=5,
        hidden_size=6,
        dropout=0.0,
    )
    return Seq2Seq(Seq2SeqConfig(**{**config, **options})).eval()


@pytest.mark.parametrize("attention", ["additive", "general", "dot", "scaled_dot"])
def test_source_padding_changes_nothing(attention):
    net = _net(attention=attention, encoder_layers=2)
    src = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0]])
    lengths = torch.tensor([4, 2])
    tgt_in = torch.tensor([[BOS, 3, 4], [BOS, 5, 3]])
    logits = net(src, lengths, tgt_in)
    # more padding, and garbage where the padding is, must not change a thing
    padded = torch.tensor([[3, 4, 5, 6, 0, 0], [7, 8, 4, 4, 4, 4]])
    torch.testing.assert_close(net(padded, lengths, tgt_in), logits)
    # and each source alone gives the same as in the batch
    alone = net(src[1:, :2], lengths[1:], tgt_in[1:])
    torch.testing.assert_close(alone, logits[1:], atol=1e-6, rtol=1e-5)
    _, _, weights = net.decode(tgt_in, net.encode(src, lengths))
    assert weights[1, :, 2:].abs().max() == 0  # no attention on padded source steps
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3))


def test_target_padding_is_ignored_by_the_causal_decoder_and_the_loss():
    net = _net()
    src, lengths = torch.tensor([[3, 4, 5]]), torch.tensor([3])
    short = net(src, lengths, torch.tensor([[BOS, 3]]))
    padded = net(src, lengths, torch.tensor([[BOS, 3, PAD, PAD]]))
    torch.testing.assert_close(padded[:, :2], short)
    target = torch.tensor([[3, EOS, PAD, PAD]])
    loss = F.cross_entropy(padded.reshape(-1, 6), target.reshape(-1), ignore_index=PAD)
    expected = F.cross_entropy(padded[0, :2], target[0, :2])
    torch.testing.assert_close(loss, expected)


def test_step_by_step_decoding_equals_the_teacher_forced_pass():
    net = _net(decoder_layers=2, encoder_layers=2)
    src, lengths = torch.tensor([[3, 4, 5, 6], [7, 8, 3, 0]]), torch.tensor([4, 3])
    tgt_in = torch.tensor([[BOS, 3, 4, 5], [BOS, 5, 5, 3]])
    memory = net.encode(src, lengths)
    whole, _, whole_w = net.decode(tgt_in, memory)
    state, steps, ws = None, [], []
    for t in range(4):
        logits, state, w = net.decode(tgt_in[:, t : t + 1], memory, state)
        steps.append(logits)
        ws.append(w)
    torch.testing.assert_close(torch.cat(steps, 1), whole)
    torch.testing.assert_close(torch.cat(ws, 1), whole_w)


def test_greedy_is_beam_of_one_and_matches_its_own_scores():
    net = _net()
    src, lengths = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [5, 0, 0, 0]]), torch.tensor([4, 2, 1])
    greedy = net.greedy(src, lengths, max_len=6)
    beam = net.beam_search(src, lengths, max_len=6, beam=1)
    assert greedy.tokens == beam.tokens
    assert greedy.scores == pytest.approx(beam.scores, abs=1e-5)
    for b in range(3):
        torch.testing.assert_close(greedy.attention[b], beam.attention[b])
        assert greedy.attention[b].shape[1] == lengths[b]
    # the score is the log-probability of the output (+ <eos> when it ended) under teacher forcing
    for b in range(3):
        out = greedy.tokens[b]
        ended = len(out) < 6
        tgt = torch.tensor([[BOS, *out]])
        with torch.no_grad():
            logp = net(src[b : b + 1, : lengths[b]], lengths[b : b + 1], tgt).log_softmax(-1)[0]
        following = out + ([EOS] if ended else [])
        total = sum(float(logp[t, tok]) for t, tok in enumerate(following[: logp.shape[0]]))
        assert greedy.scores[b] == pytest.approx(total, abs=1e-4)


def _exhaustive_best(net, src, lengths, max_len, alpha):
    """Score every output of up to max_len ids over the non-special target ids; best by normalised score."""
    words = [3, 4, 5]
    best = None
    for n in range(0, max_len + 1):
        for body in itertools.product(words, repeat=n):
            ended = n < max_len
            seq = list(body) + ([EOS] if ended else [])
            if not seq:
                continue
            tgt = torch.tensor([[BOS, *seq[:-1]]])
            with torch.no_grad():
                logp = net(src, lengths, tgt).log_softmax(-1)[0]
            score = sum(float(logp[t, tok]) for t, tok in enumerate(seq))
            normalised = score / len(seq) ** alpha
            if best is None or normalised > best[0]:
                best = (normalised, list(body), score)
    return best


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_a_wide_beam_finds_the_exhaustive_best(alpha):
    net = _net(target_vocab_size=6)
    src, lengths = torch.tensor([[3, 4, 5, 6]]), torch.tensor([4])
    # 3 words + eos per step: a beam of 4**3 never prunes anything within 3 steps
    result = net.beam_search(src, lengths, max_len=3, beam=64, length_penalty=alpha)
    _, tokens, score = _exhaustive_best(net, src, lengths, 3, alpha)
    assert result.tokens[0] == tokens
    assert result.scores[0] == pytest.approx(score, abs=1e-4)


def test_scheduled_sampling_feeds_the_models_own_predictions():
    net = _net()
    net.train()  # scheduled sampling only happens in training; dropout is 0 here
    src, lengths = torch.tensor([[3, 4, 5]]), torch.tensor([3])
    tgt_in = torch.tensor([[BOS, 3, 4, 5, PAD]])
    torch.testing.assert_close(
        net(src, lengths, tgt_in, teacher_forcing=1.0), net.decode(tgt_in, net.encode(src, lengths))[0]
    )
    with torch.no_grad():
        guess = net.decode(tgt_in, net.encode(src, lengths))[0].argmax(-1)
    own = torch.tensor([[BOS, *guess[0, :3].tolist(), PAD]])  # predictions in, padding kept
    expected = net.decode(own, net.encode(src, lengths))[0]
    torch.testing.assert_close(net(src, lengths, tgt_in, teacher_forcing=0.0), expected)


def test_config_checks():
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2SeqConfig(source_vocab_size=5, target_vocab_size=5, bos_id=1, eos_id=2, attention="cosine")
    with pytest.raises(ValueError, match="must differ"):
        Seq2SeqConfig(source_vocab_size=5, target_vocab_size=5, bos_id=2, eos_id=2)
    with pytest.raises(ValueError, match="beam must be a positive integer"):
        _net().beam_search(torch.tensor([[3]]), torch.tensor([1]), max_len=2, beam=0)
