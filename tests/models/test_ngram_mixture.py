"""NGramMixture and interpolation_weight: the EM weight is the likelihood's maximum, the mixture is a distribution."""

import numpy as np
import pytest
import torch

from lstmkit.evaluate.ngram import NGramLM
from lstmkit.models.ngram_mixture import NGramMixture, interpolation_weight

IDS = [2, 3, 4, 2, 3, 5, 2, 4, 4, 3, 2, 3, 4, 5, 5, 2, 3, 4] * 5


def _log_likelihood(lam, a, b):
    return np.log(lam * a + (1 - lam) * b).sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_em_weight_is_the_grid_maximum_of_the_likelihood(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.01, 1, 300), rng.uniform(0.01, 1, 300) ** (1 + seed)
    grid = np.linspace(0, 1, 20_001)
    best = grid[np.argmax([_log_likelihood(g, a, b) for g in grid])]
    assert interpolation_weight(a, b) == pytest.approx(best, abs=2e-4)


def test_the_weight_goes_to_the_model_that_is_better_everywhere():
    a = np.full(50, 0.5)
    assert interpolation_weight(a, a / 10) > 0.999
    assert interpolation_weight(a / 10, a) < 0.001


@pytest.mark.parametrize(
    "a, b, message",
    [([0.5, 0.5], [0.5], "equal-length"), ([0.5, 0.0], [0.5, 0.5], "positive"), ([], [], "equal-length")],
)
def test_bad_probabilities_are_refused(a, b, message):
    with pytest.raises(ValueError, match=message):
        interpolation_weight(a, b)


def test_a_weight_outside_the_unit_interval_is_refused():
    with pytest.raises(ValueError, match=r"mixture weight must be in \[0, 1\], got 1.5"):
        NGramMixture(1.5, NGramLM(2).fit(IDS))


def test_log_probs_mix_the_two_models_token_by_token():
    ngram = NGramLM(3, vocab_size=7).fit(IDS)
    mixture = NGramMixture(0.3, ngram)
    text = [2, 3, 4, 5, 2, 6]
    lstm = torch.log(torch.tensor([0.5, 0.2, 0.1, 0.4, 0.05]))  # p(text[t] | before) for t = 1..5
    expected = [
        np.log(0.3 * float(lstm[t - 1].exp()) + 0.7 * ngram.prob(text[t], text[:t])) for t in range(1, len(text))
    ]
    assert mixture.log_probs(lstm, text, start=1).tolist() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="expected"):
        mixture.log_probs(lstm[:3], text, start=1)


def test_next_logits_are_the_log_of_the_mixed_distribution():
    ngram = NGramLM(3, vocab_size=7).fit(IDS)
    mixture = NGramMixture(0.6, ngram)
    logits = torch.tensor([0.1, -1.0, 2.0, 0.5, 0.0, 1.0, -3.0])
    history = [5, 5, 2, 3]
    mixed = mixture.next_logits(logits, history).exp()
    expected = 0.6 * logits.softmax(-1).double() + 0.4 * torch.from_numpy(ngram.distribution(history[-2:]))
    assert torch.allclose(mixed.double(), expected, atol=1e-6)
    assert float(mixed.sum()) == pytest.approx(1.0, abs=1e-6)
    # weight 0: the n-gram alone
    assert torch.allclose(
        NGramMixture(0.0, ngram).next_logits(logits, history).exp().double(),
        torch.from_numpy(ngram.distribution(history)),
        atol=1e-6,
    )
