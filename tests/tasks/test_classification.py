"""SequenceClassifier and TextClassifier: they learn, predict, score, save, and fail clearly."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

import lstmkit.tasks.classifier_base as classifier_base
from lstmkit.data.sequences import SequenceSet, from_arrays
from lstmkit.data.splits import stratified_split
from lstmkit.errors import CheckpointError, ConfigError, DataError
from lstmkit.evaluate.classification import classification_report
from lstmkit.tasks import SequenceClassifier, TextClassifier
from lstmkit.train import load_model_dir, save_model_dir

TINY = {"hidden_size": 8, "ensemble": 1, "dropout": 0.0}
TINY_SEQ = {**TINY, "conv_channels": (8,), "conv_kernels": (3,)}


# ---- metrics -------------------------------------------------------------------------------


def test_classification_report_numbers():
    y_true = ["a", "a", "a", "b", "b", "c"]
    y_pred = ["a", "a", "b", "b", "c", "c"]
    r = classification_report(y_true, y_pred)
    assert r.accuracy == pytest.approx(4 / 6)
    # per class F1: a 2*1*(2/3)/(5/3) = 0.8, b 0.5, c 2*0.5*1/1.5 = 2/3 (as scikit-learn computes)
    np.testing.assert_allclose(r.per_class["f1"], [0.8, 0.5, 2 / 3])
    assert r.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert r.confusion.to_numpy().tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert json.loads(json.dumps(r.to_dict()))["labels"] == ["a", "b", "c"]
    # a label that is neither true nor predicted does not count in macro-F1
    assert classification_report(["a", "b"], ["a", "b"], labels=["a", "b", "z"]).macro_f1 == 1.0


# ---- sequences -------------------------------------------------------------------------------


def _bumps(n=48, seed=0):
    """Unequal-length 2-channel sequences; the class is where the bump sits (early or late)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = ["early", "late"][i % 2]
        T = int(rng.integers(8, 16))
        a = 0.1 * rng.normal(size=T)
        peak = int(rng.integers(0, 3)) if label == "early" else T - 1 - int(rng.integers(0, 3))
        a[peak] += 3.0
        b = 100.0 + 10 * rng.normal(size=T)  # a noise channel on another scale
        rows.append(pd.DataFrame({"id": f"s{i}", "t": np.arange(T), "a": a, "b": b, "label": label}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def fitted_sequences():
    frame = _bumps()
    model = SequenceClassifier(id_col="id", time_col="t", max_epochs=40, lr=0.01, batch_size=16, **TINY_SEQ).fit(frame)
    return model, frame


def test_sequence_classifier_learns_unequal_lengths_from_a_long_table(fitted_sequences):
    model, _ = fitted_sequences
    test = _bumps(n=40, seed=1)
    report = model.evaluate(test)
    assert report.accuracy >= 0.9
    assert model.classes == ["early", "late"]
    proba = model.predict_proba(test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    frame = model.predict_frame(test)
    assert list(frame.columns) == ["id", "prediction", "prob_early", "prob_late"]
    assert frame["id"].tolist()[:2] == ["s0", "s1"]
    assert (frame["prediction"] == np.where(proba[:, 0] > 0.5, "early", "late")).all()


def test_sequence_predictions_do_not_depend_on_the_batch_padding(fitted_sequences):
    model, _ = fitted_sequences
    test = model.read(_bumps(n=6, seed=2))
    alone = np.concatenate([model.predict_proba(test.subset([i])) for i in range(len(test))])
    np.testing.assert_allclose(model.predict_proba(test), alone, rtol=1e-5, atol=1e-6)


def test_sequence_scaler_is_fitted_on_the_training_set_only(fitted_sequences):
    model, frame = fitted_sequences
    scaler = model._prepared["scaler"]
    np.testing.assert_allclose(scaler["center"][0], frame[["a", "b"]].mean().to_numpy(), rtol=1e-6)
    model.predict(_bumps(n=4, seed=3).assign(b=lambda d: d["b"] * 50))  # other data change nothing
    assert model._prepared["scaler"]["center"] == scaler["center"]


def test_sequence_tables_are_matched_by_column_name(fitted_sequences):
    model, _ = fitted_sequences
    test = _bumps(n=6, seed=6)
    shuffled = test[["label", "b", "t", "id", "a"]]
    np.testing.assert_allclose(model.predict_proba(shuffled), model.predict_proba(test))
    with pytest.raises(DataError, match=r"column\(s\) \['b'\] not found"):
        model.predict(test.drop(columns="b"))


def test_sequence_save_load_round_trip(fitted_sequences, tmp_path):
    model, _ = fitted_sequences
    test = _bumps(n=10, seed=4)
    model.save(tmp_path / "m")
    loaded = SequenceClassifier.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(test), model.predict_proba(test), rtol=1e-6)
    assert loaded.config == model.config and loaded.classes == model.classes
    with pytest.raises(CheckpointError, match="not a saved TextClassifier"):
        TextClassifier.load(tmp_path / "m")


def test_sequence_inputs_arrays_npz_and_errors(fitted_sequences, tmp_path):
    model, _ = fitted_sequences
    with pytest.raises(DataError, match=r"trained on 2 channel\(s\), the data has 1"):
        model.predict(np.zeros((2, 5)))
    with pytest.warns(UserWarning, match=r"1 example\(s\) have label\(s\) \['middle'\] that were not in training"):
        report = model.evaluate(
            _bumps(n=4, seed=5).assign(label=lambda d: np.where(d["id"] == "s0", "middle", d["label"]))
        )
    assert "middle" in report.confusion.index and report.confusion.loc["middle"].sum() == 1
    assert report.accuracy <= 0.75
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 6, 1))
    y = np.array(["x", "y"] * 10)
    np.savez(tmp_path / "d.npz", X=X, y=y, lengths=np.full(20, 6))
    clf = SequenceClassifier(max_epochs=2, **TINY_SEQ).fit(str(tmp_path / "d.npz"))
    assert clf.predict(X).shape == (20,)


def test_sequence_label_problems_are_clear():
    X = np.random.default_rng(0).normal(size=(6, 5))
    with pytest.raises(DataError, match=r"found a single class \['a'\]; a classifier needs at least two"):
        SequenceClassifier(max_epochs=1, **TINY_SEQ).fit(X, ["a"] * 6)
    with pytest.warns(UserWarning, match=r"class\(es\) \['c'\] have a single training example"):
        SequenceClassifier(max_epochs=1, **TINY_SEQ).fit(X, ["a", "b", "a", "b", "a", "c"])
    frame = _bumps(n=4)
    frame.loc[0, "label"] = "late"
    with pytest.raises(DataError, match="mixed labels"):
        SequenceClassifier(id_col="id", max_epochs=1, **TINY_SEQ).fit(frame)
    with pytest.raises(ConfigError, match="set id_col"):
        SequenceClassifier(max_epochs=1).fit(_bumps(n=4))
    with pytest.raises(ConfigError, match="not fitted yet"):
        SequenceClassifier().predict(X)
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['epochs'\]"):
        SequenceClassifier(epochs=3)
    with pytest.raises(ConfigError, match=r"pooling must be one of"):
        SequenceClassifier(pooling="median")


@pytest.mark.parametrize("lstm_input", ["time", "shuffle"])
def test_lstm_input_and_schedule_fit_save_and_load(lstm_input, tmp_path):
    frame = _bumps(n=32)
    model = SequenceClassifier(
        id_col="id",
        time_col="t",
        max_epochs=6,
        lr=0.01,
        batch_size=16,
        schedule="cosine",
        lstm_input=lstm_input,
        **TINY_SEQ,
    ).fit(frame)
    longest = int(frame.groupby("id").size().max())
    assert model._fitted.net["lstm_input"] == lstm_input
    assert model._fitted.net["max_length"] == (longest if lstm_input == "shuffle" else 0)
    rates = [h["lr"] for h in model.history[0]]
    assert rates[0] == 0.01 and all(a > b for a, b in zip(rates, rates[1:]))  # cosine: down every epoch
    test = _bumps(n=8, seed=7)
    model.save(tmp_path / "m")
    loaded = SequenceClassifier.load(tmp_path / "m")
    assert loaded.config == model.config
    np.testing.assert_allclose(loaded.predict_proba(test), model.predict_proba(test), rtol=1e-6)
    # a test sequence longer than every training sequence is classified, whatever the input mode
    t = np.arange(2 * longest + 3)
    too_long = pd.DataFrame({"id": "x", "t": t, "a": np.sin(t / 3.0), "b": 100.0 + t})
    if lstm_input == "shuffle":
        with pytest.warns(UserWarning, match=rf"'x' has {2 * longest + 3}\); .* resampled to {longest} steps"):
            proba = loaded.predict_proba(too_long)
        # ... as the same series resampled to the longest training length by hand
        grid = np.linspace(0, t[-1], longest)
        by_hand = pd.DataFrame(
            {
                "id": "x",
                "t": np.arange(longest),
                "a": np.interp(grid, t, np.sin(t / 3.0)),
                "b": np.interp(grid, t, 100.0 + t),
            }
        )
        np.testing.assert_allclose(proba, loaded.predict_proba(by_hand), rtol=1e-5, atol=1e-6)
    else:
        assert loaded.predict(too_long).shape == (1,)
    too_short = pd.DataFrame({"id": "y", "t": [0, 1], "a": [0.0, 1.0], "b": [100.0, 101.0]})
    assert loaded.predict(too_short).shape == (1,)


def test_a_model_saved_before_the_lstm_input_option_loads_as_it_was_trained(tmp_path):
    X, y = np.random.default_rng(0).normal(size=(12, 6, 1)), ["a", "b"] * 6
    old_defaults = {"lstm_input": "time", "schedule": "plateau", "augment_scale": 0.0}
    model = SequenceClassifier(max_epochs=2, **old_defaults, **TINY_SEQ).fit(X, y)
    model.save(tmp_path / "new")
    state, config, metadata = load_model_dir(tmp_path / "new")
    for option in old_defaults:  # what an older lstmkit wrote
        del config["sequence_classifier"][option]
    for field in ("lstm_input", "max_length"):
        del metadata["fitted"]["net"][field]
    save_model_dir(tmp_path / "old", state, config, metadata)
    loaded = SequenceClassifier.load(tmp_path / "old")
    assert loaded.config == model.config
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=1e-6)


def test_augment_scale_multiplies_each_series_and_channel_in_training_only():
    seen = []

    class Recorder(torch.nn.Module):
        def forward(self, x, lengths):
            seen.append(x)
            return torch.zeros(len(x), 2, requires_grad=True)

    x = torch.ones(64, 5, 2)
    x[0, 3:] = 0.0  # padding
    batch = (x, torch.tensor([3] + [5] * 63), torch.zeros(64, dtype=torch.int64))
    loss = SequenceClassifier(augment_scale=0.25)._training_loss(seed=0)
    loss(Recorder().train(), batch)
    factor = seen[-1][:, 0, :]  # (B, F)
    assert ((factor >= 0.75) & (factor <= 1.25)).all() and factor.std() > 0.05
    assert factor[:, 0].ne(factor[:, 1]).all()  # a factor per channel
    torch.testing.assert_close(seen[-1], x * factor[:, None, :])  # one factor over all steps; padding stays zero
    loss(Recorder().eval(), batch)
    assert torch.equal(seen[-1], x)  # the validation loss sees the data as they are
    assert SequenceClassifier(augment_scale=0)._training_loss(seed=0) is classifier_base.cross_entropy_loss


@pytest.mark.parametrize(
    "options, message",
    [
        ({"augment_scale": 1.0}, r"augment_scale must be in \[0, 1\), got 1.0"),
        ({"augment_scale": -0.1}, r"augment_scale must be in \[0, 1\), got -0.1"),
        ({"lstm_input": "channels"}, r"lstm_input must be one of \('time', 'shuffle'\), got 'channels'"),
        ({"schedule": "step"}, r"schedule must be one of \('plateau', 'cosine'\), got 'step'"),
    ],
)
def test_sequence_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        SequenceClassifier(**options)
    if "schedule" in options:
        with pytest.raises(ConfigError, match=message):
            TextClassifier(**options)


def test_stratified_split_keeps_every_class_in_training():
    codes = np.array([0] * 10 + [1] * 3 + [2])
    train, val = stratified_split(codes, 0.3, seed=0)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(14))
    assert np.bincount(codes[val], minlength=3).tolist() == [3, 1, 0]
    assert 13 in train


def test_validation_split_and_early_stopping_are_used_when_asked():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    model = SequenceClassifier(max_epochs=50, patience=2, val_fraction=0.25, **TINY_SEQ).fit(X, ["a", "b"] * 20)
    assert model._fitted.n_val == 10 and model._fitted.n_train == 30
    assert len(model.history[0]) < 50  # random labels: the validation loss stops improving early
    assert all(h["val_loss"] is not None for h in model.history[0])


# ---- texts ------------------------------------------------------------------------------------

EN = ["the house", "the water", "a green tree", "my old book", "the small dog", "this big city"]
NL = ["het huis", "het water", "een groene boom", "mijn oude boek", "de kleine hond", "deze grote stad"]


def _text_frame(repeat=4):
    return pd.DataFrame({"text": (EN + NL) * repeat, "label": (["en"] * 6 + ["nl"] * 6) * repeat})


@pytest.mark.parametrize("level", ["char", "word", "subword"])
def test_text_classifier_levels_learn_and_round_trip(level, tmp_path):
    if level == "subword":
        pytest.importorskip("tokenizers")
    options = {"max_vocab": 300} if level == "subword" else {}
    model = TextClassifier(level=level, embedding_dim=8, max_epochs=25, lr=0.02, **TINY, **options)
    model.fit(_text_frame())
    assert model.evaluate(_text_frame(1)).accuracy == 1.0
    model.save(tmp_path / "m")
    loaded = TextClassifier.load(tmp_path / "m")
    texts = ["the old tree", "de oude boom"]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), rtol=1e-6)
    assert loaded._prepared.to_dict() == model._prepared.to_dict()


def test_the_char_ngram_bag_is_on_for_characters_saved_with_the_model_and_absent_from_old_folders(tmp_path):
    assert TextClassifier(level="char").config.ngram_order == 5
    assert TextClassifier(level="word").config.ngram_order == 0
    assert TextClassifier(level="word", ngrams=2).config.ngram_order == 2
    model = TextClassifier(level="char", embedding_dim=8, max_epochs=3, lr=0.02, ngram_buckets=512, **TINY)
    model.fit(_text_frame())
    net = model._nets[0]
    assert net.ngrams is not None and net.ngrams.buckets == 512
    assert float(net.ngrams.table.weight.detach().abs().sum()) > 0  # trained with the rest of the network
    model.save(tmp_path / "new")
    state, config, metadata = load_model_dir(tmp_path / "new")
    assert any(name.endswith("ngrams.table.weight") for name in state)
    # what an lstmkit before the bag wrote: no option, no n-gram fields, no n-gram weights
    del config["text_classifier"]["ngrams"], config["text_classifier"]["ngram_buckets"]
    for field in ("ngram_order", "ngram_buckets"):
        del metadata["fitted"]["net"][field]
    old_state = {k: v for k, v in state.items() if "ngrams" not in k}
    save_model_dir(tmp_path / "old", old_state, config, metadata)
    old = TextClassifier.load(tmp_path / "old")
    assert old.config.ngrams == 0 and old._nets[0].ngrams is None
    assert old.predict_proba(["het huis"]).shape == (1, 2)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"ngrams": -1}, "ngrams must be None"),
        ({"ngrams": 2.5}, "ngrams must be None"),
        ({"ngram_buckets": 1}, "at least 2"),
    ],
)
def test_ngram_option_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        TextClassifier(**options)


def test_text_vocabulary_comes_from_the_training_part_only():
    frame = _text_frame(3)
    model = TextClassifier(level="word", val_fraction=0.5, max_epochs=1, **TINY).fit(frame)
    codes = (frame["label"] == "nl").to_numpy().astype(np.int64)
    train_rows, _ = stratified_split(codes, 0.5, seed=0)
    train_words = {w for t in frame["text"].iloc[train_rows] for w in t.split()}
    vocab = set(model._prepared.vocab.tokens[2:])
    assert vocab == train_words


def test_empty_texts_are_skipped_in_training_and_warned_about_in_prediction():
    frame = _text_frame(2)
    frame.loc[[0, 5], "text"] = ["", "   "]
    with pytest.warns(UserWarning, match=r"skipped 2 empty text\(s\) in training \(ids \[0, 5\]\)"):
        model = TextClassifier(level="char", max_epochs=2, **TINY).fit(frame)
    assert model._fitted.n_train + model._fitted.n_val == 22
    with pytest.warns(UserWarning, match=r"1 empty text\(s\) \(ids \[1\]\) are predicted from no content"):
        proba = model.predict_proba(["water", ""])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    with pytest.raises(DataError, match="every text is empty"):
        TextClassifier(max_epochs=1).fit(["", " "], ["a", "b"])
    with pytest.raises(DataError, match=r"text 1 \(0-based\) is None, expected a string"):
        model.predict(["ok", None])


def test_pretrained_vectors_initialise_and_freeze_the_embedding(tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("3 4\nthe 1 0 0 0\nhet 0 1 0 0\nwater 0 0 1 0\n", encoding="utf-8")  # word2vec header
    model = TextClassifier(level="word", embeddings=str(vectors), freeze_embeddings=True, max_epochs=3, **TINY)
    model.fit(_text_frame(1))
    tok, weight = model._prepared, model._nets[0].embedding.weight.detach().numpy()
    np.testing.assert_array_equal(weight[tok.encode("het")[0]], [0, 1, 0, 0])
    np.testing.assert_array_equal(weight[tok.encode("water")[0]], [0, 0, 1, 0])
    np.testing.assert_array_equal(weight[0], 0.0)  # padding
    assert model.embedding_coverage == pytest.approx(3 / (model._prepared.vocab_size - 2))
    bad = tmp_path / "bad.txt"
    bad.write_text("the 1 0\nhet 0 1 1\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2 has 3 values after the word, expected 2"):
        TextClassifier(level="word", embeddings=str(bad), max_epochs=1).fit(_text_frame(1))
    with pytest.raises(ConfigError, match="pretrained embeddings are word vectors"):
        TextClassifier(level="char", embeddings=str(vectors))


def test_text_inputs_from_a_folder_and_a_table(tmp_path):
    for label, texts in (("en", EN), ("nl", NL)):
        (tmp_path / "train" / label).mkdir(parents=True)
        for i, t in enumerate(texts):
            (tmp_path / "train" / label / f"{i}.txt").write_text(t)
    model = TextClassifier(level="char", max_epochs=2, **TINY).fit(str(tmp_path / "train"))
    assert model.classes == ["en", "nl"]
    table = tmp_path / "test.csv"
    _text_frame(1).rename(columns={"text": "sentence"}).to_csv(table, index=False)
    with pytest.raises(DataError, match=r"column\(s\) \['text'\] not found; columns found: \['sentence', 'label'\]"):
        model.predict(str(table))
    assert len(TextClassifier.load(_save(model, tmp_path)).predict(EN)) == 6


def _save(model, tmp_path):
    model.save(tmp_path / "saved")
    return tmp_path / "saved"


def test_read_returns_labels_only_when_present():
    model = TextClassifier(level="char", max_epochs=1, **TINY).fit(_text_frame(1))
    assert model.read(_text_frame(1).drop(columns="label")).y is None
    assert model.read(_text_frame(1)).y.tolist()[:1] == ["en"]
    s = SequenceClassifier().read(np.zeros((2, 3)))
    assert isinstance(s, SequenceSet) and s.y is None
    assert from_arrays(np.zeros((2, 3)), ["a", "b"]).y.tolist() == ["a", "b"]
