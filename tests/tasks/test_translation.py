"""Translator: learns a small rewrite, beam and greedy, attention, metrics, save/load, schedule, errors."""

import random

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.dates import date_pairs
from lstmkit.errors import CheckpointError, ConfigError, DataError
from lstmkit.evaluate import corpus_bleu
from lstmkit.tasks.translation import Translator, _Batches, _Schedule

TINY = dict(hidden_size=32, embedding_dim=16, batch_size=32, lr=0.01, dropout=0.0, device="cpu", patience=None)


def _reverse_pairs(n, seed):
    rng = random.Random(seed)
    words = {"".join(rng.choice("abcdef") for _ in range(rng.randint(2, 5))) for _ in range(3 * n)}
    words = sorted(words)[:n]
    rng.shuffle(words)
    return [(w, w[::-1].upper()) for w in words]


@pytest.fixture(scope="module")
def reverser():
    pairs = _reverse_pairs(500, seed=0)
    return Translator(**TINY, max_epochs=12).fit(pairs[:450]), pairs[450:]


def test_learns_to_reverse_and_scores_held_out_pairs(reverser):
    model, held_out = reverser
    metrics, frame = model.evaluate(held_out, return_predictions=True)
    assert metrics["pairs"] == 50
    assert metrics["exact_match"] >= 0.8
    assert metrics["token_accuracy"] >= metrics["exact_match"]
    # one-word outputs have no 2- to 4-grams: BLEU is near 0 here by definition, whatever the quality
    assert metrics["bleu"] == pytest.approx(corpus_bleu(frame["prediction"].tolist(), frame["target"].tolist()).score)
    assert frame.columns.tolist() == ["source", "target", "prediction", "correct"]
    assert frame["correct"].mean() == pytest.approx(metrics["exact_match"])
    assert model.history[-1]["train_loss"] < 0.2 * model.history[0]["train_loss"]


def test_beam_of_one_is_greedy_and_wider_beams_stay_as_good(reverser):
    model, held_out = reverser
    sources = [s for s, _ in held_out]
    assert model.translate(sources, beam=1) == model.translate(sources)
    beam = model.evaluate(held_out, beam=4)
    assert beam["exact_match"] >= model.evaluate(held_out)["exact_match"] - 0.06


def test_attention_rows_sum_to_one_over_the_source(reverser):
    model, _ = reverser
    att = model.attention("abcde")
    assert att.source == list("abcde")
    assert att.weights.shape == (len(att.target), 5)
    assert att.target[-1] == "<eos>"
    np.testing.assert_allclose(att.weights.sum(1), 1.0, atol=1e-5)
    # reversing: the first output letter looks mostly at the last source letter
    if "".join(att.target[:-1]) == "EDCBA":
        assert att.weights[0].argmax() >= 3


def test_save_load_round_trip(reverser, tmp_path):
    model, held_out = reverser
    model.save(tmp_path / "m", metrics={"exact_match": 1.0})
    loaded = Translator.load(tmp_path / "m")
    sources = [s for s, _ in held_out]
    assert loaded.translate(sources) == model.translate(sources)
    assert loaded.translate(sources[:5], beam=3) == model.translate(sources[:5], beam=3)
    assert loaded.config == model.config
    with pytest.raises(CheckpointError, match="not a saved Translator"):
        from lstmkit.tasks.language_model import LanguageModel

        LanguageModel(level="char", hidden_size=8, embedding_dim=4, bptt=4, max_epochs=1).fit("abcabc" * 5).save(
            tmp_path / "lm"
        )
        Translator.load(tmp_path / "lm")


def test_dataframe_input_and_word_level():
    frame = pd.DataFrame(
        {"source": ["one two", "two one", "one one"] * 6, "target": ["Un Deux", "Deux Un", "Un Un"] * 6}
    )
    model = Translator(**{**TINY, "source_level": "word", "target_level": "word"}, max_epochs=1).fit(frame)
    out = model.translate(["one two"])
    assert isinstance(out[0], str)
    # references are compared as the word tokeniser writes them back (lowercased)
    metrics, preds = model.evaluate(frame.head(3), return_predictions=True)
    assert preds["target"].tolist() == ["un deux", "deux un", "un un"]


def test_teacher_forcing_schedule_is_linear_over_the_epochs():
    schedule = _Schedule(1.0, 0.5, 5)
    ratios = []
    for epoch in range(1, 6):
        schedule.on_epoch_start(None, epoch)
        ratios.append(schedule.ratio)
    assert ratios == pytest.approx([1.0, 0.875, 0.75, 0.625, 0.5])


def test_with_a_time_budget_the_schedule_follows_the_time_used():
    class Clock:
        progress = 0.0

    clock = Clock()
    schedule = _Schedule(1.0, 0.6, 30, clock)
    schedule.on_epoch_start(None, 1)
    clock.progress = 0.5
    schedule.on_batch_end(None, {})
    assert schedule.ratio == pytest.approx(0.8)
    schedule.on_epoch_start(None, 2)  # epochs do not move it
    assert schedule.ratio == pytest.approx(0.8)


def test_batches_pad_both_sides_and_shift_the_target():
    batches = list(_Batches([[5, 6, 7], [8]], [[2, 9, 3], [2, 9, 9, 3]], 2, shuffle=False, seed=0))
    src, lengths, tgt_in, tgt_out = batches[0]
    assert src.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    assert tgt_in.tolist() == [[2, 9, 3], [2, 9, 9]]
    assert tgt_out.tolist() == [[9, 3, 0], [9, 9, 3]]


@pytest.mark.slow
def test_date_normalisation_reaches_high_exact_match():
    pairs = date_pairs(3300, seed=0)
    # a fixed amount of training, whatever the machine's speed: 125 steps (43 batches an epoch)
    model = Translator(
        hidden_size=64, embedding_dim=32, batch_size=64, lr=0.01, max_epochs=6, max_steps=125, device="cpu"
    ).fit(pairs[:3000])
    metrics = model.evaluate(pairs[3000:])
    assert metrics["exact_match"] > 0.7  # 0.81 when measured
    assert metrics["token_accuracy"] > 0.9  # 0.965


@pytest.mark.parametrize(
    "pairs,message",
    [
        ([], "no pairs were given"),
        ([("a", "")], "pair 0 \\(0-based\\): the target text is empty"),
        ([("a", "b"), ("c",)], "pair 1 \\(0-based\\) is \\('c',\\)"),
        ([("a", 3)], "the target is 3 of type int"),
        (pd.DataFrame({"src": ["a"], "tgt": ["b"]}), "lacks column\\(s\\) \\['source', 'target'\\]"),
    ],
)
def test_pair_errors_name_the_pair(pairs, message):
    with pytest.raises(DataError, match=message):
        Translator(**TINY, max_epochs=1).fit(pairs)


def test_usage_errors(reverser):
    model, _ = reverser
    with pytest.raises(DataError, match="source 1 \\(0-based\\) is empty"):
        model.translate(["abc", ""])
    with pytest.raises(ConfigError, match="beam must be a positive integer"):
        model.translate(["abc"], beam=0)
    with pytest.raises(ConfigError, match="not fitted"):
        Translator().translate(["abc"])
    with pytest.raises(ConfigError, match="attention must be one of"):
        Translator(attention="cosine")
    with pytest.raises(ConfigError, match="teacher_forcing must be in"):
        Translator(teacher_forcing=1.5)
