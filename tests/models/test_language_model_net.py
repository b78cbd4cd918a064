"""LanguageModelNet: carried state, tied weights, sampling filters, streaming without re-reading."""

import math

import pytest
import torch
import torch.nn.functional as F

from lstmkit.models import LanguageModelNet, LanguageModelNetConfig, sample_next
from lstmkit.models.language_model import filter_logits, stream_nll


def _net(**options):
    torch.manual_seed(0)
    config = dict(vocab_size=7, embedding_dim=6, hidden_size=6, embedding_dropout=0.0, output_dropout=0.0)
    return LanguageModelNet(LanguageModelNetConfig(**{**config, **options})).eval()


def test_state_carried_across_chunks_equals_one_pass():
    net = _net(num_layers=2, hidden_size=5)
    ids = torch.randint(0, 7, (3, 12))
    whole, (h, c) = net(ids)
    state, parts = None, []
    for start in range(0, 12, 5):
        out, state = net(ids[:, start : start + 5], state)
        parts.append(out)
    torch.testing.assert_close(torch.cat(parts, 1), whole)
    torch.testing.assert_close(state[0], h)
    torch.testing.assert_close(state[1], c)


def test_tied_weights_share_one_matrix_and_project_when_sizes_differ():
    tied = _net(tie_weights=True)
    assert tied.decoder.weight is tied.embedding.weight
    projected = _net(tie_weights=True, hidden_size=9)
    assert projected.decoder.weight is projected.embedding.weight
    assert isinstance(projected.projection, torch.nn.Linear) and projected.projection.out_features == 6
    logits, _ = projected(torch.tensor([[1, 2, 3]]))
    logits.sum().backward()
    assert projected.embedding.weight.grad.abs().sum() > 0
    untied = _net()
    assert untied.decoder.weight is not untied.embedding.weight


def test_filter_logits_top_k_and_top_p():
    probs = torch.tensor([0.05, 0.5, 0.15, 0.3])
    logits = probs.log()
    kept = filter_logits(logits, top_k=2)
    assert torch.isfinite(kept).tolist() == [False, True, False, True]
    # nucleus 0.85: 0.5 + 0.3 = 0.8 < 0.85, so 0.15 is needed; 0.05 is not
    kept = filter_logits(logits, top_p=0.85)
    assert torch.isfinite(kept).tolist() == [False, True, True, True]
    assert torch.isfinite(filter_logits(logits, top_p=0.1)).tolist() == [False, True, False, False]
    batch = filter_logits(torch.stack([logits, logits.flip(0)]), top_k=1)
    assert torch.isfinite(batch).sum(1).tolist() == [1, 1]
    with pytest.raises(ValueError, match="top_p must be in"):
        filter_logits(logits, top_p=1.5)


def test_sampling_follows_the_distribution_and_its_filters():
    logits = torch.tensor([0.7, 0.2, 0.1]).log()
    g = torch.Generator().manual_seed(0)
    draws = [sample_next(logits, generator=g) for _ in range(3000)]
    freq = [draws.count(i) / len(draws) for i in range(3)]
    assert freq == pytest.approx([0.7, 0.2, 0.1], abs=0.03)
    # temperature 2 flattens: p ∝ sqrt(p)
    flat = torch.tensor([0.7, 0.2, 0.1]).sqrt()
    flat = (flat / flat.sum()).tolist()
    draws = [sample_next(logits, temperature=2.0, generator=g) for _ in range(3000)]
    assert [draws.count(i) / len(draws) for i in range(3)] == pytest.approx(flat, abs=0.03)
    assert {sample_next(logits, top_k=2, generator=g) for _ in range(300)} == {0, 1}
    assert {sample_next(logits, banned=[0], generator=g) for _ in range(300)} == {1, 2}
    assert sample_next(logits, temperature=0) == 0
    a = [sample_next(logits, generator=torch.Generator().manual_seed(5)) for _ in range(20)]
    b = [sample_next(logits, generator=torch.Generator().manual_seed(5)) for _ in range(20)]
    assert a == b


def _generate_by_rereading(net, prompt, n, generator, temperature):
    """Reference: recompute the whole prefix from a zero state for every new token."""
    ids = list(prompt)
    for _ in range(n):
        logits, _ = net(torch.tensor([ids]))
        ids.append(sample_next(logits[0, -1], temperature=temperature, generator=generator, banned=[0]))
    return ids[len(prompt) :]


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_stream_equals_rereading_the_prefix_but_reads_each_token_once(temperature):
    net = _net(num_layers=2)
    steps = []
    net.lstm.register_forward_hook(lambda module, args, out: steps.append(args[0].shape[1]))
    prompt = [1, 2, 3, 4, 5, 6, 2, 3]
    streamed = list(
        net.stream(prompt, 12, temperature=temperature, generator=torch.Generator().manual_seed(3), banned=[0], chunk=3)
    )
    # the prompt in chunks of 3, then one step per new token but the last
    assert steps == [3, 3, 2] + [1] * 11
    steps.clear()
    reference = _generate_by_rereading(net, prompt, 12, torch.Generator().manual_seed(3), temperature)
    assert streamed == reference
    assert sum(steps) == sum(len(prompt) + k for k in range(12))  # what re-reading costs instead


def test_stream_continues_from_a_given_state():
    net = _net()
    ids = torch.tensor([[3, 4, 5, 6]])
    _, state = net(ids[:, :3])
    from_state = list(net.stream([6], 5, temperature=0, state=state))
    from_prompt = list(net.stream([3, 4, 5, 6], 5, temperature=0))
    assert from_state == from_prompt


def test_stream_nll_matches_cross_entropy_and_segments_agree():
    net = _net()
    ids = torch.randint(0, 7, (301,), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits, _ = net(ids[None, :-1])
    exact = float(F.cross_entropy(logits[0], ids[1:], reduction="sum"))
    assert stream_nll(net, ids, streams=1) == pytest.approx(exact, rel=1e-5)
    # two segments, the second warmed up on all the text before it: the same number
    assert stream_nll(net, ids, streams=2, warmup=150) == pytest.approx(exact, rel=1e-5)
    # a shorter warm-up forgets little (the LSTM's memory fades)
    assert stream_nll(net, ids, streams=4, warmup=30) == pytest.approx(exact, rel=1e-3)
    # cold segments (warmup 1) differ, but only by a few tokens' worth
    assert abs(stream_nll(net, ids, streams=4, warmup=1) - exact) < 4 * math.log(7)


def test_config_checks():
    with pytest.raises(ValueError, match="vocab_size must be a positive integer"):
        LanguageModelNetConfig(vocab_size=0)
    with pytest.raises(ValueError, match="output_dropout must be in"):
        LanguageModelNetConfig(vocab_size=5, output_dropout=1.0)
    with pytest.raises(ValueError, match="at least one token id"):
        list(_net().stream([], 3))
