"""Attention: scores by hand, exact zeros at padding, gradcheck, and with an LSTM encoder."""

import math

import pytest
import torch

from lstmkit.nn import LSTM, AdditiveAttention, AttentionPooling, MultiplicativeAttention


def test_additive_attention_by_hand():
    torch.manual_seed(0)
    attention = AdditiveAttention(query_size=3, key_size=4, attention_size=5)
    q, keys = torch.randn(2, 3), torch.randn(2, 6, 4)
    values = torch.randn(2, 6, 2)
    W_q, W_k, b_k = attention.query_proj.weight, attention.key_proj.weight, attention.key_proj.bias
    v = attention.score_proj.weight[0]
    with torch.no_grad():
        for b in range(2):
            scores = torch.stack([v @ torch.tanh(W_q @ q[b] + W_k @ keys[b, t] + b_k) for t in range(6)])
            weights = torch.exp(scores) / torch.exp(scores).sum()
            context, got = attention(q[b : b + 1], keys[b : b + 1], values[b : b + 1])
            torch.testing.assert_close(got[0], weights)
            torch.testing.assert_close(context[0], (weights[:, None] * values[b]).sum(0))


@pytest.mark.parametrize("score", ["dot", "general", "scaled_dot"])
def test_multiplicative_attention_by_hand(score):
    torch.manual_seed(1)
    attention = MultiplicativeAttention(4, score=score)
    q, keys = torch.randn(2, 4), torch.randn(2, 5, 4)
    with torch.no_grad():
        query = q @ attention.weight if score == "general" else q
        scores = torch.einsum("bd,btd->bt", query, keys)
        if score == "scaled_dot":
            scores = scores / math.sqrt(4)
        context, weights = attention(q, keys)
    torch.testing.assert_close(weights, torch.softmax(scores, dim=-1))
    torch.testing.assert_close(context, torch.einsum("bt,btd->bd", weights, keys))


@pytest.mark.parametrize("make", [lambda: AdditiveAttention(3, 4), lambda: MultiplicativeAttention(3, 4)])
def test_padding_gets_exactly_zero_weight_and_does_not_matter(make):
    torch.manual_seed(2)
    attention = make()
    q, keys = torch.randn(3, 3), torch.randn(3, 5, 4)
    lengths = torch.tensor([5, 2, 4])
    context, weights = attention(q, keys, lengths=lengths)
    junk = keys.clone()
    junk[1, 2:] = 1e4
    junk[2, 4:] = -1e4
    context_junk, weights_junk = attention(q, junk, lengths=lengths)
    torch.testing.assert_close(context, context_junk)
    assert weights[1, 2:].abs().sum() == 0 and weights[2, 4:].abs().sum() == 0
    torch.testing.assert_close(weights.sum(-1), torch.ones(3))
    mask = torch.arange(5)[None, :] < lengths[:, None]
    torch.testing.assert_close(attention(q, keys, mask=mask)[1], weights)  # mask and lengths agree
    alone, _ = attention(q[1:2], keys[1:2, :2])  # the short sequence alone, unpadded
    torch.testing.assert_close(context[1:2], alone)


def test_many_queries_at_once_equal_one_at_a_time():
    torch.manual_seed(3)
    attention = AdditiveAttention(3, 4)
    queries, keys = torch.randn(2, 6, 3), torch.randn(2, 5, 4)
    context, weights = attention(queries, keys, lengths=[5, 3])
    assert context.shape == (2, 6, 4) and weights.shape == (2, 6, 5)
    for t in range(6):
        c_t, w_t = attention(queries[:, t], keys, lengths=[5, 3])
        torch.testing.assert_close(context[:, t], c_t)
        torch.testing.assert_close(weights[:, t], w_t)


def test_attention_pooling_by_hand():
    torch.manual_seed(4)
    pool = AttentionPooling(4, attention_size=3)
    x = torch.randn(2, 5, 4)
    with torch.no_grad():
        scores = pool.score_proj(torch.tanh(x @ pool.proj.weight.T + pool.proj.bias)).squeeze(-1)
        scores[1, 3:] = float("-inf")
        weights = torch.softmax(scores, -1)
        pooled, got = pool(x, lengths=[5, 3])
    torch.testing.assert_close(got, weights)
    torch.testing.assert_close(pooled, torch.einsum("bt,btf->bf", weights, x))


@pytest.mark.parametrize(
    "make",
    [
        lambda: AdditiveAttention(3, 4),
        lambda: MultiplicativeAttention(3, 4, score="general"),
        lambda: MultiplicativeAttention(4, score="scaled_dot"),
    ],
)
def test_attention_gradcheck(make):
    torch.manual_seed(5)
    attention = make().double()
    q = torch.randn(2, attention.query_size, dtype=torch.float64, requires_grad=True)
    keys = torch.randn(2, 4, attention.key_size, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda q, k: attention(q, k, lengths=[4, 2]), (q, keys))


def test_attention_pooling_gradcheck():
    torch.manual_seed(6)
    pool = AttentionPooling(3).double()
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: pool(x, lengths=[4, 1]), (x,))


def test_attention_over_a_bidirectional_encoder():
    torch.manual_seed(7)
    encoder = LSTM(3, 4, bidirectional=True, peephole=True)
    attention = AdditiveAttention(query_size=6, key_size=8)
    x, lengths = torch.randn(3, 7, 3), torch.tensor([7, 2, 5])
    outputs, _ = encoder(x, lengths=lengths)
    context, weights = attention(torch.randn(3, 6), outputs, lengths=lengths)
    assert context.shape == (3, 8) and weights[1, 2:].abs().sum() == 0
    context.sum().backward()
    assert encoder.weight_ch_l0.grad is not None


def test_attention_errors_say_what_was_expected():
    attention = AdditiveAttention(3, 4)
    q, keys = torch.randn(2, 3), torch.randn(2, 5, 4)
    with pytest.raises(ValueError, match=r"keys must be \(batch, time, 4\), got shape \(2, 5, 3\)"):
        attention(q, torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match=r"query must be \(2, 3\) or \(2, steps, 3\), got shape \(2, 4\)"):
        attention(torch.randn(2, 4), keys)
    with pytest.raises(ValueError, match=r"lengths must be in \[1, 5\] \(the number of keys\), got \[0\]"):
        attention(q, keys, lengths=[0, 5])
    with pytest.raises(ValueError, match="rows \\[1\\] are fully masked"):
        attention(q, keys, mask=torch.tensor([[True] * 5, [False] * 5]))
    with pytest.raises(ValueError, match="give either mask or lengths, not both"):
        attention(q, keys, mask=torch.ones(2, 5, dtype=torch.bool), lengths=[5, 5])
    with pytest.raises(ValueError, match="score='dot' needs query_size == key_size, got 3 and 4"):
        MultiplicativeAttention(3, 4, score="dot")
    with pytest.raises(ValueError, match="score must be one of .* got 'cosine'"):
        MultiplicativeAttention(3, score="cosine")
