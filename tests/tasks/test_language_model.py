"""LanguageModel: stateful streams, learning, held-out scores next to the n-gram, generation, save/load, errors."""

import math
import warnings

import numpy as np
import pytest
import torch

from lstmkit.data.corpora import bundled_corpus, split_tail
from lstmkit.errors import CheckpointError, ConfigError, DataError
from lstmkit.models.language_model import stream_log_probs
from lstmkit.models.ngram_mixture import NGramMixture
from lstmkit.tasks.language_model import LanguageModel, UnknownTokensWarning, _Streams
from lstmkit.train import callbacks

TINY = dict(
    hidden_size=24,
    embedding_dim=12,
    bptt=16,
    batch_size=4,
    max_epochs=4,
    lr=0.02,
    patience=None,
    embedding_dropout=0.0,
    output_dropout=0.0,
    device="cpu",
)
RHYME = "the cat sat on the mat. the dog sat on the log. " * 12


@pytest.fixture(scope="module")
def char_lm():
    # epochs only (no max_steps): the full rate until the validation loss stalls learns the rhyme in 12 epochs
    return LanguageModel(level="char", **{**TINY, "max_epochs": 12, "max_steps": None}).fit(RHYME)


def test_streams_are_contiguous_slices_carried_from_batch_to_batch():
    ids = list(range(2, 2 + 41))  # 41 ids: 40 predictions, 4 streams of 10
    batches = list(_Streams(ids, streams=4, bptt=4))
    assert len(batches) == 3
    x0, y0 = batches[0]
    x1, _ = batches[1]
    assert x0[:, 0].tolist() == [2, 12, 22, 32]  # row b starts at the b-th quarter of the corpus
    assert torch.equal(y0, x0 + 1)  # the target is the next id
    assert torch.equal(x1[:, 0], x0[:, -1] + 1)  # the next batch continues every row where it stopped
    assert batches[2][0].shape == (4, 2)  # the last, shorter chunk keeps every row


def test_learns_the_text_and_beats_the_ngram_on_it(char_lm):
    history = char_lm.history
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    scores = char_lm.evaluate(RHYME[:200], train_text=RHYME, ngram_order=2)
    # a repeated rhyme: almost every character follows from what came before
    assert scores["perplexity"] < 2.0
    assert scores["bits_per_char"] == pytest.approx(scores["cross_entropy"] / math.log(2), rel=1e-3)
    assert scores["tokens"] == 199
    assert scores["ngram_order"] == 2 and scores["perplexity"] < scores["ngram_perplexity"]


def test_generation_is_repeatable_streams_and_follows_its_options(char_lm):
    a = char_lm.generate("the ", 40, seed=1)
    assert a == char_lm.generate("the ", 40, seed=1) and len(a) == 40
    assert "".join(char_lm.stream("the ", 40, seed=1)) == a
    greedy = char_lm.generate("the cat sat on the m", 8, temperature=0)
    assert greedy == "at. the "  # it has learned the rhyme
    assert set(char_lm.generate("the ", 60, top_k=1, seed=3)) <= set(RHYME)
    assert len(char_lm.generate("", 10, seed=0)) == 10  # an empty prompt starts a new line


def test_unknown_characters_in_the_prompt_warn_and_still_generate(char_lm):
    with pytest.warns(UnknownTokensWarning, match=r"2 piece\(s\).*'Z', 'é'.*<unk>"):
        out = char_lm.generate("the Zé ", 5, seed=0)
    assert len(out) == 5 and "<unk>" not in out


def test_a_prompt_longer_than_the_training_chunk_is_read_whole(char_lm):
    prompt = RHYME[:100]  # 100 characters, bptt is 16
    assert len(char_lm.encode_prompt(prompt)) > char_lm.config.bptt
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = char_lm.generate(prompt, 20, temperature=0)
    # the same as feeding it one character at a time with the state carried
    net, state = char_lm.net, None
    ids = char_lm.tokenizer.encode(prompt)
    for i in ids:
        logits, state = net(torch.tensor([[i]]), state)
    scores = char_lm.mixture.next_logits(logits[0, -1], ids)  # the shipped model: the LSTM mixed with the n-gram
    assert char_lm.tokenizer.id_to_token(int(scores[2:].argmax()) + 2) == out[0]


def test_save_and_load_round_trip(char_lm, tmp_path):
    char_lm.save(tmp_path / "lm", metrics={"perplexity": 1.5})
    loaded = LanguageModel.load(tmp_path / "lm")
    assert loaded.config == char_lm.config
    assert loaded.generate("the ", 30, seed=4) == char_lm.generate("the ", 30, seed=4)
    assert loaded.evaluate(RHYME[:120])["cross_entropy"] == pytest.approx(
        char_lm.evaluate(RHYME[:120])["cross_entropy"]
    )
    with pytest.raises(CheckpointError, match="not a saved LanguageModel"):
        import json

        meta = json.loads((tmp_path / "lm" / "metadata.json").read_text())
        assert meta["metrics"] == {"perplexity": 1.5}
        from lstmkit.train import save_model_dir

        save_model_dir(tmp_path / "other", torch.nn.Linear(1, 1), {"x": 1}, {"task": "forecaster"})
        LanguageModel.load(tmp_path / "other")


@pytest.mark.parametrize(
    "level,text,prompt",
    [
        ("word", "In the beginning God created the heaven and the earth. " * 10, "in the"),
        ("symbol", "C4 E4 G4 C#5 G4 E4 " * 30, "C4 E4"),
        ("bpe", "the lower lowest lowly slower " * 30, "the lo"),
    ],
)
def test_other_levels_fit_generate_and_reload(level, text, prompt, tmp_path):
    options = {**TINY, "max_epochs": 2, "bptt": 8}
    if level == "bpe":
        options["bpe_vocab_size"] = 270
    lm = LanguageModel(level=level, **options).fit(text)
    assert lm.config.level == ("subword" if level == "bpe" else level)
    out = lm.generate(prompt, 6, seed=0)
    if level in ("word", "symbol"):
        assert len(lm.tokenizer.tokenize(out)) == 6
    if level == "symbol":
        assert out.startswith(" ")  # the continuation of the prompt's last symbol
        assert set(out.split()) <= {"C4", "E4", "G4", "C#5"}  # symbols are never split or lowercased
    lm.save(tmp_path / level)
    assert LanguageModel.load(tmp_path / level).generate(prompt, 6, seed=0) == out
    assert lm.evaluate(text[:80], train_text=text)["ngram_perplexity"] > 0


GENESIS = bundled_corpus()[0][:6000]


@pytest.fixture(scope="module")
def mixed_and_plain():
    """The same LSTM (same seed, same steps) shipped with and without the n-gram mixture."""
    head, _ = split_tail(GENESIS, 0.1)
    options = {**TINY, "max_steps": 40, "max_epochs": 50}
    return LanguageModel(level="char", **options).fit(head), LanguageModel(
        level="char", ngram_mix=False, **options
    ).fit(head)


def test_the_shipped_model_is_the_lstm_mixed_with_an_ngram_of_the_training_text(mixed_and_plain):
    mixed, plain = mixed_and_plain
    head, tail = split_tail(GENESIS, 0.1)
    assert plain.mixture is None and 0 <= mixed.mixture.weight <= 1
    # the n-gram counted the text given to fit, never the held-out tail
    assert mixed.mixture.ngram.training_ids.tolist() == mixed.tokenizer.encode(head, add_special=False)
    r, p = mixed.evaluate(tail, train_text=head), plain.evaluate(tail)
    # the LSTM alone is the model trained without the mixture
    assert r["lstm_cross_entropy"] == pytest.approx(p["cross_entropy"], rel=1e-6)
    assert p["mixture_weight"] == 1.0 and p["lstm_perplexity"] == p["perplexity"]
    # the plain keys score the mixture, token by token
    ids = mixed.tokenizer.encode(tail, add_special=False)
    lam, ngram = mixed.mixture.weight, mixed.mixture.ngram
    lstm = stream_log_probs(mixed.net, torch.as_tensor(ids), streams=16, warmup=256).double().exp().numpy()
    expected = -np.log(lam * lstm + (1 - lam) * ngram.token_probs(ids, start=1)).mean()
    assert r["cross_entropy"] == pytest.approx(expected, rel=1e-5) and r["mixture_weight"] == lam
    # the baseline is the shipped n-gram, which is what a fresh fit on the same text gives
    assert r["ngram_perplexity"] == pytest.approx(
        mixed.ngram(ngram.training_ids.tolist()).evaluate(ids, start=1)["perplexity"]
    )
    assert r["ngram_order"] == ngram.order


def test_sampling_draws_from_the_mixture(mixed_and_plain):
    mixed, _ = mixed_and_plain
    ngram = mixed.mixture.ngram
    only_ngram = LanguageModel(mixed.config)
    only_ngram.net, only_ngram.tokenizer, only_ngram._start = mixed.net, mixed.tokenizer, mixed._start
    only_ngram.mixture = NGramMixture(0.0, ngram)  # weight 0: greedy decoding follows the n-gram alone
    ids = mixed.tokenizer.encode("And God said", add_special=False)
    banned = [mixed.tokenizer.pad_id, mixed.tokenizer.unk_id, mixed.tokenizer.bos_id, mixed.tokenizer.eos_id]
    for _ in range(15):
        dist = ngram.distribution(ids)
        dist[[i for i in banned if i is not None]] = -1
        ids.append(int(np.argmax(dist)))
    expected = mixed.tokenizer.decode(ids)[len("And God said") :]
    assert only_ngram.generate("And God said", 15, temperature=0) == expected


def test_a_saved_mixture_reloads_as_it_was(mixed_and_plain, tmp_path):
    import safetensors.torch

    mixed, _ = mixed_and_plain
    mixed.save(tmp_path / "lm")
    weights = safetensors.torch.load((tmp_path / "lm" / "weights.safetensors").read_bytes())
    assert weights["ngram.ids"].dtype == torch.int16  # the n-gram as the ids it counted
    loaded = LanguageModel.load(tmp_path / "lm")
    assert loaded.mixture.weight == mixed.mixture.weight and loaded.mixture.ngram.order == mixed.mixture.ngram.order
    tail = split_tail(GENESIS, 0.1)[1]
    assert loaded.evaluate(tail) == pytest.approx(mixed.evaluate(tail))
    assert loaded.generate("And ", 40, seed=2) == mixed.generate("And ", 40, seed=2)


def test_ngram_mix_must_be_a_boolean():
    with pytest.raises(ConfigError, match="ngram_mix must be True or False, got 'yes'"):
        LanguageModel(ngram_mix="yes")


def cosine_factor(progress):
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))


def test_max_steps_ends_training_and_the_rate_anneals_to_it():
    # RHYME * 4 gives 35 chunks of 16 characters per epoch: 40 steps end 5 steps into epoch 2
    lm = LanguageModel(level="char", **{**TINY, "max_epochs": 500, "max_steps": 40}).fit(RHYME * 4)
    assert len(lm.history) == 2
    assert lm.history[1]["lr"] == pytest.approx(0.02 * cosine_factor(35 / 40))
    # fewer epochs than max_steps: the rate anneals over the epochs' 70 steps
    lm = LanguageModel(level="char", **{**TINY, "max_epochs": 2, "max_steps": 1000}).fit(RHYME * 4)
    assert len(lm.history) == 2
    assert lm.history[1]["lr"] == pytest.approx(0.02 * cosine_factor(35 / 70))
    # no step budget: the rate is halved when the validation loss does not improve, never annealed
    lm = LanguageModel(level="char", **{**TINY, "max_epochs": 2, "max_steps": None}).fit(RHYME * 4)
    assert lm.history[1]["lr"] in (0.02, 0.01)


def test_time_budget_ends_training_early(monkeypatch):
    now = [0.0]

    def fake_clock():  # every look at the clock takes 0.1 s: the budget ends after a fixed number of steps
        now[0] += 0.1
        return now[0]

    monkeypatch.setattr(callbacks, "_clock", fake_clock)
    lm = LanguageModel(level="char", **{**TINY, "max_epochs": 500, "max_steps": None, "time_budget": 1.0})
    lm.fit(RHYME * 4)
    assert len(lm.history) == 1  # stopped within the first epoch's 35 steps
    with pytest.raises(ConfigError, match="max_steps must be a positive integer or None, got 0"):
        LanguageModel(max_steps=0)


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "the corpus is empty"),
        ("   \n ", "the corpus is empty"),
        ("short text", "fewer than one chunk of bptt \\+ 1 = 17"),
    ],
)
def test_corpus_errors_say_what_to_do(text, message):
    with pytest.raises(DataError, match=message):
        LanguageModel(level="char", **TINY).fit(text)


def test_usage_errors(char_lm):
    with pytest.raises(ConfigError, match="not fitted"):
        LanguageModel().generate("x", 3)
    with pytest.raises(ConfigError, match="temperature must be a number >= 0"):
        char_lm.generate("the", 3, temperature=-1)
    with pytest.raises(ConfigError, match="top_p must be in"):
        char_lm.generate("the", 3, top_p=0)
    with pytest.raises(ConfigError, match="level must be one of"):
        LanguageModel(level="bytes")
    with pytest.raises(ConfigError, match=r"LanguageModel: unknown parameter\(s\)"):
        LanguageModel(hiden_size=3)
    with pytest.raises(DataError, match="at least 2 are needed"):
        char_lm.evaluate("t")


def test_public_api_is_re_exported():
    import lstmkit.evaluate
    import lstmkit.models
    import lstmkit.tasks

    for package, names in [
        (lstmkit.tasks, ["LanguageModel", "LanguageModelConfig", "Translator", "TranslatorConfig"]),
        (lstmkit.models, ["LanguageModelNet", "LanguageModelNetConfig", "sample_next", "Seq2Seq", "Seq2SeqConfig"]),
        (lstmkit.evaluate, ["NGramLM", "fit_ngram", "corpus_bleu", "BLEUScore", "exact_match", "token_accuracy"]),
    ]:
        for name in names:
            assert name in package.__all__ and hasattr(package, name), f"{package.__name__}.{name}"
