"""The Kneser-Ney baseline: hand-computed values, proper distributions, order selection, errors."""

import itertools
import math
import random

import numpy as np
import pytest

from lstmkit.errors import ConfigError, DataError
from lstmkit.evaluate import NGramLM, fit_ngram
from lstmkit.evaluate.ngram import kneser_ney_discounts


def test_bigram_values_by_hand():
    # bigrams (2,3)x3 (3,4)x2 (4,2)x2 (3,5)x1 -> n1=1 n2=2 n3=1: Y=0.2, D1=0.2, D2=1.7, D3 falls back to 1.5
    # unigram continuation counts: 2 <- {start, 4} = 2; 3, 4, 5 <- one id each -> n1=3 n2=1: Y=0.6, D1=0.6
    lm = NGramLM(order=2, vocab_size=6).fit([2, 3, 4, 2, 3, 4, 2, 3, 5])
    assert lm.discounts[1] == pytest.approx((0.2, 1.7, 1.5))
    assert lm.discounts[0][0] == pytest.approx(0.6)
    gamma1 = (0.6 * 3 + 1.0 * 1) / 5  # D2 of the unigram level falls back to 1.0
    p3 = (1 - 0.6) / 5 + gamma1 / 6
    assert lm.prob(3, []) == pytest.approx(p3)
    assert lm.prob(0, []) == pytest.approx(gamma1 / 6)  # never seen: the uniform floor only
    assert lm.prob(3, [2]) == pytest.approx((3 - 1.5) / 3 + (1.5 / 3) * p3)
    assert lm.prob(3, [0]) == pytest.approx(p3)  # unseen context: back off entirely


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_every_distribution_sums_to_one(order):
    rng = random.Random(order)
    ids = [rng.choice([2, 3, 3, 4, 4, 4, 5]) for _ in range(300)]
    lm = NGramLM(order=order, vocab_size=7).fit(ids)
    contexts = list(itertools.product(range(7), repeat=max(order - 1, 0)))[:60]
    for context in contexts:
        dist = lm.distribution(context)
        assert dist.min() > 0
        assert dist.sum() == pytest.approx(1.0, abs=1e-12)


def test_evaluate_is_the_mean_negative_log_probability():
    rng = random.Random(0)
    ids = [rng.randrange(2, 8) for _ in range(200)]
    lm = NGramLM(order=3).fit(ids[:150])
    held = ids[150:]
    expected = -np.mean([math.log(lm.prob(w, held[max(0, i - 2) : i])) for i, w in enumerate(held)][1:])
    result = lm.evaluate(held, start=1)
    assert result["tokens"] == len(held) - 1
    assert result["cross_entropy"] == pytest.approx(expected)
    assert result["perplexity"] == pytest.approx(math.exp(expected))


def test_more_context_helps_on_structured_text_and_beats_unigram():
    text = [2, 3, 4, 5, 6] * 60 + [2, 3, 4, 5, 6, 2, 3]
    unigram = NGramLM(1).fit(text[:250]).evaluate(text[250:])["perplexity"]
    trigram = NGramLM(3).fit(text[:250]).evaluate(text[250:])["perplexity"]
    assert unigram == pytest.approx(5, rel=0.1)  # five ids, equally often
    assert trigram < 1.2


def test_fit_ngram_chooses_the_order_on_the_training_tail():
    period3 = [2, 3, 2, 4] * 100  # "2" is followed by 3 or 4: the id before it decides
    assert fit_ngram(period3, orders=(1, 2, 3, 4)).order == 3
    cycle = [2, 3, 4, 5] * 100  # one id of context says everything
    chosen = fit_ngram(cycle, orders=(1, 2, 3))
    assert chosen.order >= 2 and chosen.evaluate(cycle[:40])["perplexity"] < 1.1


def test_discounts_formula_and_fallback():
    n1, n2, n3, n4 = 100, 40, 20, 10
    y = n1 / (n1 + 2 * n2)
    assert kneser_ney_discounts([n1, n2, n3, n4]) == pytest.approx(
        (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    )
    assert kneser_ney_discounts([0, 0, 0, 0]) == (0.5, 1.0, 1.5)


def test_errors_say_what_is_wrong():
    with pytest.raises(DataError, match="no token ids"):
        NGramLM(2).fit([])
    lm = NGramLM(2, vocab_size=4).fit([1, 2, 3])
    with pytest.raises(DataError, match="token id 9 is outside the vocabulary"):
        lm.evaluate([1, 9])
    with pytest.raises(ConfigError, match="order must be a positive integer"):
        NGramLM(0)
    with pytest.raises(ConfigError, match="not fitted"):
        NGramLM(2).prob(1)


@pytest.mark.parametrize("order", [1, 3, 5])
def test_the_vectorised_distribution_equals_prob_id_by_id(order):
    rng = random.Random(order)
    ids = [rng.choice([2, 3, 3, 4, 4, 4, 5, 6]) for _ in range(400)]
    lm = NGramLM(order=order, vocab_size=9).fit(ids)
    # seen and unseen contexts, shorter than the order too (the start of a text)
    for context in [(), (4,), (8, 8), tuple(ids[:4]), tuple(ids[-7:]), (8, 4, 3, 3)]:
        reference = np.array([lm.prob(w, context) for w in range(9)])
        np.testing.assert_allclose(lm.distribution(context), reference, rtol=1e-12, atol=0)


def test_token_probs_are_what_evaluate_sums():
    ids = [2, 3, 4, 2, 3, 4, 2, 3, 5] * 4
    lm = NGramLM(order=3, vocab_size=6).fit(ids[:20])
    held_out = ids[20:]
    probs = lm.token_probs(held_out, start=1)
    assert probs.tolist() == pytest.approx([lm.prob(held_out[i], held_out[:i]) for i in range(1, len(held_out))])
    assert lm.evaluate(held_out, start=1)["cross_entropy"] == pytest.approx(-np.log(probs).mean())
    with pytest.raises(DataError, match="start must be a position"):
        lm.token_probs(held_out, start=len(held_out))


def test_refitting_on_the_training_ids_rebuilds_the_same_model():
    rng = random.Random(5)
    ids = [rng.choice([2, 3, 4, 5, 6]) for _ in range(500)]
    lm = NGramLM(order=4, vocab_size=8).fit(ids)
    assert lm.training_ids.tolist() == ids and lm.to_dict() == {"order": 4, "vocab_size": 8}
    again = NGramLM(**lm.to_dict()).fit(lm.training_ids.tolist())
    for context in [(), (3, 4, 5), (7, 7, 7)]:
        np.testing.assert_array_equal(again.distribution(context), lm.distribution(context))
    with pytest.raises(ConfigError, match="not fitted"):
        _ = NGramLM(2).training_ids
