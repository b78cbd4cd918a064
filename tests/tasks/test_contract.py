"""The estimator contract, the same for every job: one test, parametrised over the jobs.

Each job is fitted once on tiny data (a module-scoped fixture); every test then checks
one promise of `lstmkit.tasks.base`: fit returns the job, save/load (by the job's class
and by `lstmkit.load`) predicts identically, `clone`, get/set params, repr, score,
the device option.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import lstmkit
from lstmkit.data import datasets
from lstmkit.errors import CheckpointError, ConfigError, DataError
from lstmkit.tasks import (
    AnomalyDetector,
    Forecaster,
    LanguageModel,
    SequenceClassifier,
    TextClassifier,
    Translator,
)
from lstmkit.train import load_model_dir

sklearn_base = pytest.importorskip("sklearn.base")


@dataclass
class Case:
    """A job with tiny settings, its training data, and how to get comparable predictions."""

    job: type
    params: dict[str, Any]
    data: Callable[[], tuple]  # the arguments of fit (and of score)
    predict: Callable[[Any], Any]


def _air():
    return (datasets.load("air_passengers"),)


def _waves():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 6, 12)
    X = np.stack([np.sin(t * (1 + k % 2)) + 0.1 * rng.normal(size=12) for k in range(20)])
    return X, ["slow", "fast"] * 10


def _texts():
    return ["good film", "great film", "bad film", "awful film"] * 5, ["pos", "pos", "neg", "neg"] * 5


CORPUS = "the cat sat on the mat. the dog sat on the log. " * 20
PAIRS = [(f"{d} {m}", f"{m}-{d}") for d in ("1", "2", "3") for m in ("jan", "feb", "mar")] * 3


def _sine():
    t = np.arange(200)
    return (np.sin(t / 6.0),)


CASES = {
    "forecaster": Case(
        Forecaster,
        dict(horizon=3, target="passengers", time_col="month", ensemble=1, max_epochs=2, hidden_size=8),
        _air,
        lambda m: m.predict()["forecast"].to_numpy(),
    ),
    "sequence_classifier": Case(
        SequenceClassifier,
        dict(hidden_size=4, conv_channels=(4,), conv_kernels=(3,), ensemble=1, max_epochs=2, batch_size=10),
        _waves,
        lambda m: m.predict_proba(_waves()[0]),
    ),
    "text_classifier": Case(
        TextClassifier,
        dict(hidden_size=4, embedding_dim=4, max_epochs=2),
        _texts,
        lambda m: m.predict_proba(["great film", "bad film"]),
    ),
    "language_model": Case(
        LanguageModel,
        dict(hidden_size=8, embedding_dim=4, bptt=8, batch_size=4, max_epochs=1),
        lambda: (CORPUS,),
        lambda m: m.evaluate(CORPUS[:200])["cross_entropy"],
    ),
    "translator": Case(
        Translator,
        dict(hidden_size=8, embedding_dim=4, max_epochs=1, batch_size=8),
        lambda: (PAIRS,),
        lambda m: m.translate(["1 jan", "3 mar"]),
    ),
    "anomaly": Case(
        AnomalyDetector, dict(window=8, hidden_size=4, max_epochs=2), _sine, lambda m: m.score_samples(_sine()[0])
    ),
}


@pytest.fixture(scope="module", params=list(CASES))
def fitted(request):
    case = CASES[request.param]
    model = case.job(**case.params, device="cpu")
    returned = model.fit(*case.data())
    return request.param, case, model, returned


def _same(a, b):
    if isinstance(a, np.ndarray):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    else:
        assert a == pytest.approx(b) if isinstance(a, float) else a == b


def test_fit_returns_the_job_and_task_names_the_folder_format(fitted):
    task, case, model, returned = fitted
    assert returned is model
    assert model.task == task


def test_save_then_load_predicts_identically(fitted, tmp_path):
    task, case, model, _ = fitted
    model.save(tmp_path / "m")
    by_class = case.job.load(tmp_path / "m", device="cpu")
    by_package = lstmkit.load(tmp_path / "m")
    assert type(by_package) is case.job
    assert by_class.get_params() == {**model.get_params(), "device": "cpu"}
    expected = case.predict(model)
    _same(case.predict(by_class), expected)
    _same(case.predict(by_package), expected)


def test_metadata_holds_task_fingerprint_metrics_and_versions(fitted, tmp_path):
    task, case, model, _ = fitted
    model.save(tmp_path / "m", metrics={"note": 1.0})
    _, _, metadata = load_model_dir(tmp_path / "m")
    assert metadata["task"] == task
    assert metadata["metrics"] == {"note": 1.0}
    assert metadata["data_fingerprint"]
    assert metadata["lstmkit_version"] == lstmkit.__version__ and metadata["torch_version"]


def test_clone_gives_an_unfitted_job_with_the_same_parameters(fitted):
    _, case, model, _ = fitted
    copy = sklearn_base.clone(model)
    assert type(copy) is case.job and copy is not model
    assert copy.get_params() == model.get_params()
    with pytest.raises(ConfigError, match="not fitted"):
        case.predict(copy)


def test_get_set_params_and_repr(fitted):
    _, case, model, _ = fitted
    params = model.get_params()
    assert set(params) == {f.name for f in dataclasses.fields(case.job.config_class)}
    fresh = case.job(**case.params)
    assert fresh.set_params(seed=7) is fresh and fresh.get_params()["seed"] == 7
    assert fresh.config.seed == 7
    with pytest.raises(ConfigError, match="unknown parameter"):
        fresh.set_params(not_a_parameter=1)
    text = repr(case.job(**case.params))
    assert text.startswith(case.job.__name__ + "(")
    for name, value in case.params.items():
        assert f"{name}={value!r}" in text
    assert repr(case.job()) == f"{case.job.__name__}()"


def test_score_is_a_greater_is_better_number(fitted):
    task, case, model, _ = fitted
    args = case.data()
    if task == "anomaly":  # the detector scores its flags against labels
        labels = np.zeros(len(args[0]), dtype=int)
        labels[150:155] = 1
        args = (args[0], labels)
    score = model.score(*args)
    assert isinstance(score, float) and np.isfinite(score)


def test_fine_tuning_starts_from_the_saved_weights_and_keeps_the_preprocessing(fitted, tmp_path):
    task, case, model, _ = fitted
    model.save(tmp_path / "m")
    # a learning rate too small to move the weights: the fine-tuned model predicts as the saved one
    # (up to the batch-norm statistics of the classifier's convolutions, which training updates) ...
    still = dict(case.params, lr=1e-12, max_epochs=1, device="cpu")
    saved = case.predict(model)
    tuned = case.predict(case.job(**still).fit(*case.data(), init_from=tmp_path / "m"))
    # ... and one trained from scratch the same way does not
    fresh = case.predict(case.job(**dict(still, seed=1)).fit(*case.data()))
    assert _gap(tuned, saved) <= 0.25 * _gap(fresh, saved)
    if task != "sequence_classifier":
        _same(tuned, saved)
    # a fitted object works as well as its folder
    again = case.predict(case.job(**still).fit(*case.data(), init_from=model))
    assert _gap(again, saved) <= 0.25 * _gap(fresh, saved)


def _gap(a, b) -> float:
    """How far apart two predictions are: the largest difference, or the share of texts that differ."""
    if isinstance(a, list):
        return float(np.mean([x != y for x, y in zip(a, b)]))
    return float(np.nanmax(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))


def test_fine_tuning_names_what_it_does_not_take():
    X, y = _waves()
    clf = SequenceClassifier(**CASES["sequence_classifier"].params).fit(X, y)
    with pytest.raises(DataError, match=r"label\(s\) \['medium'\] are not among the classes"):
        SequenceClassifier(**CASES["sequence_classifier"].params).fit(X, ["medium"] + y[1:], init_from=clf)
    with pytest.warns(UserWarning, match=r"keeps the saved model's network and preprocessing \(hidden_size=4\)"):
        SequenceClassifier(**{**CASES["sequence_classifier"].params, "hidden_size": 6}).fit(X, y, init_from=clf)
    with pytest.raises(ConfigError, match="a SequenceClassifier cannot start a TextClassifier"):
        TextClassifier().fit(*_texts(), init_from=clf)


def _networks(model) -> list[torch.nn.Module]:
    nets = getattr(model, "_nets", None) or [model.net]
    return list(nets)


@pytest.mark.parametrize("cell", ["gru", "rnn"])
@pytest.mark.parametrize("task", list(CASES))
def test_every_job_runs_every_cell_and_saves_it(task, cell, tmp_path):
    from lstmkit.nn import GRU, LSTM, RNN

    case = CASES[task]
    model = case.job(**case.params, cell=cell, device="cpu").fit(*case.data())
    layers = [m for net in _networks(model) for m in net.modules() if isinstance(m, (LSTM, GRU, RNN))]
    assert layers and all(type(m) is {"gru": GRU, "rnn": RNN}[cell] for m in layers)
    model.save(tmp_path / "m")
    loaded = lstmkit.load(tmp_path / "m", device="cpu")
    assert loaded.get_params()["cell"] == cell
    _same(case.predict(loaded), case.predict(model))


def test_the_lstm_variants_reach_every_job():
    from lstmkit.nn import LSTM

    variants = dict(peephole=True, layer_norm=True, coupled_gates=True, proj_size=2, zoneout=0.1)
    for task, case in CASES.items():
        model = case.job(**{**case.params, **variants}, device="cpu").fit(*case.data())
        layers = [m for net in _networks(model) for m in net.modules() if isinstance(m, LSTM)]
        assert layers, task
        for layer in layers:
            assert (layer.peephole, layer.layer_norm, layer.input_forget, layer.proj_size) == (True, True, True, 2)
            assert layer.zoneout == 0.1
    with pytest.raises(ConfigError, match="peephole=True needs cell='lstm'"):
        Forecaster(cell="gru", peephole=True)
    with pytest.raises(ConfigError, match="proj_size must be smaller than hidden_size"):
        TextClassifier(hidden_size=4, proj_size=4)


def test_a_missing_gpu_is_a_clear_error_not_an_assertion():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="asks for a GPU"):
        AnomalyDetector(window=8, device="cuda").fit(_sine()[0])
    with pytest.raises(ConfigError, match="device must be one of"):
        Forecaster(device="gpu")


def test_lstmkit_load_names_what_is_wrong(tmp_path):
    with pytest.raises(CheckpointError, match="no such model folder"):
        lstmkit.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError):
        lstmkit.load(tmp_path / "empty")


def test_cross_val_score_and_grid_search_run_on_a_classifier():
    from sklearn.model_selection import GridSearchCV, cross_val_score

    X, y = _waves()
    clf = SequenceClassifier(**CASES["sequence_classifier"].params)
    scores = cross_val_score(clf, X, np.array(y), cv=2)
    assert scores.shape == (2,) and ((0 <= scores) & (scores <= 1)).all()
    search = GridSearchCV(clf, {"hidden_size": [2, 4]}, cv=2).fit(X, np.array(y))
    assert search.best_params_["hidden_size"] in (2, 4)
    assert list(search.best_estimator_.classes_) == ["fast", "slow"]


def test_grid_search_over_a_forecaster_with_time_series_splits():
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

    frame = _air()[0]
    params = {**CASES["forecaster"].params, "lookback": 12}
    # test folds of 5 rows: shorter than lookback + horizon, they continue the fitted history
    search = GridSearchCV(Forecaster(**params), {"hidden_size": [4, 8]}, cv=TimeSeriesSplit(2, test_size=5))
    search.fit(frame)
    assert search.best_score_ < 0  # minus MASE


# ---- the covariate-alignment bug: future covariates are joined on time, not row position ----


def _with_promo(n=96):
    months = pd.date_range("2015-01-01", periods=n, freq="MS")
    promo = (np.arange(n) % 4 == 0).astype(float)
    sales = 100 + 10 * np.sin(np.arange(n) / 2) + 30 * promo
    return pd.DataFrame({"month": months, "sales": sales, "promo": promo})


@pytest.fixture(scope="module")
def promo_model():
    frame = _with_promo()
    model = Forecaster(
        horizon=4,
        target="sales",
        time_col="month",
        future_covariates=("promo",),
        ensemble=1,
        max_epochs=2,
        hidden_size=4,
        device="cpu",
    )
    return model.fit(frame), frame


def _future(frame, first_step):
    """The promo for 4 months, from the forecast's first month moved by ``first_step`` months."""
    start = frame["month"].iloc[-1] + pd.DateOffset(months=1 + first_step)
    return pd.DataFrame({"month": pd.date_range(start, periods=4, freq="MS"), "promo": [1.0, 0.0, 0.0, 0.0]})


def test_future_covariates_are_matched_on_the_time_column(promo_model):
    model, frame = promo_model
    future = _future(frame, 0)
    expected = model.predict(future=future)
    shuffled = future.sample(frac=1.0, random_state=0)
    longer = pd.concat([frame[["month", "promo"]].tail(5), shuffled, _future(frame, 4)], ignore_index=True)
    pd.testing.assert_frame_equal(model.predict(future=shuffled), expected)
    pd.testing.assert_frame_equal(model.predict(future=longer), expected)


def test_a_future_table_shifted_by_a_period_is_an_error_naming_the_steps(promo_model):
    model, frame = promo_model
    late = _future(frame, 1)  # starts one month after the first forecast step
    with pytest.raises(DataError, match=r"missing 2023-01-01"):
        model.predict(future=late)
    early = _future(frame, -1)  # starts at the last observed month
    with pytest.raises(DataError, match=r"missing 2023-04-01"):
        model.predict(future=early)


# ---- folders saved before the contract (tests/fixtures/saved-aca45bb, see its README) ----

OLD = Path(__file__).parents[1] / "fixtures" / "saved-aca45bb"
EXPECTED = json.loads((OLD / "expected.json").read_text())

PREDICT = {
    "forecaster": lambda m: m.predict()["forecast"].tolist(),
    "sequence_classifier": lambda m: m.predict_proba(_waves()[0]).tolist(),
    "text_classifier": lambda m: m.predict_proba(["great film", "bad film"]).tolist(),
    "language_model": lambda m: m.evaluate(CORPUS[:200])["cross_entropy"],
    "translator": lambda m: m.translate(["1 jan", "3 mar"]),
    "anomaly": lambda m: [None if np.isnan(v) else v for v in m.score_samples(_sine()[0]).tolist()],
}


@pytest.mark.parametrize("task", sorted(PREDICT))
def test_a_folder_saved_by_the_old_code_loads_and_predicts_as_before(task):
    model = lstmkit.load(OLD / task, device="cpu")
    assert model.task == task
    got, want = PREDICT[task](model), EXPECTED[task]
    if isinstance(want, list) and want and isinstance(want[0], str):
        assert got == want
    else:
        np.testing.assert_allclose(np.array(got, dtype=float), np.array(want, dtype=float), rtol=1e-5, atol=1e-6)


def test_old_configs_read_their_missing_options_as_the_defaults_they_were_trained_with():
    clf = lstmkit.load(OLD / "sequence_classifier")
    assert clf.get_params()["device"] in ("auto", "cpu")  # None, the old default, reads as "auto"
    assert lstmkit.load(OLD / "forecaster").get_params()["device"] == "auto"


def test_an_old_detector_folder_keeps_its_raw_scores_and_threshold():
    det = lstmkit.load(OLD / "anomaly", device="cpu")
    assert det.config.scoring == "raw" and det.config.quantile == 0.99  # saved before robust scoring existed
    assert det.threshold == pytest.approx(2.483782858848572)


def test_a_folder_from_a_newer_job_names_the_job(tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(OLD / "anomaly", folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["task"] = "video_predictor"
    (folder / "metadata.json").write_text(json.dumps(meta))
    # the manifest's checksum catches the edit first; either way the message names the folder
    with pytest.raises(CheckpointError, match=str(folder)):
        lstmkit.load(folder)


@pytest.mark.parametrize("job", [Forecaster, SequenceClassifier, TextClassifier])
def test_an_ensemble_too_large_to_finish_is_refused_up_front(job):
    with pytest.raises(ConfigError, match="ensemble must be at most 100 networks, got 1000000"):
        job(ensemble=10**6)


def test_a_book_length_text_is_truncated_with_a_warning_not_a_stall():
    texts, labels = _texts()
    clf = TextClassifier(**CASES["text_classifier"].params, level="char", max_length=50).fit(texts, labels)
    with pytest.warns(UserWarning, match=r"1 text\(s\) longer than max_length=50 tokens are read up to that length"):
        proba = clf.predict_proba(["good film " * 100_000])  # a 1 MB line
    assert proba.shape == (1, 2)
    assert TextClassifier().get_params()["max_length"] == 2000


@pytest.mark.parametrize("task", list(CASES))
def test_a_fit_interrupted_and_run_again_with_its_checkpoints_ends_as_an_uninterrupted_one(task, tmp_path, monkeypatch):
    from lstmkit.train import Trainer

    case = CASES[task]
    params = {**case.params, "max_epochs": 3, "device": "cpu"}
    if "ensemble" in params:
        params["ensemble"] = 2
    straight = case.job(**params).fit(*case.data())

    run_epoch, calls = Trainer._run_epoch, []

    def interrupted(self, train, val):
        calls.append(1)
        if len(calls) == 3:  # the third epoch of the fit (with an ensemble, the second member's first)
            raise KeyboardInterrupt
        run_epoch(self, train, val)

    monkeypatch.setattr(Trainer, "_run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        case.job(**params).fit(*case.data(), checkpoints=tmp_path / "ckpt")
    monkeypatch.setattr(Trainer, "_run_epoch", run_epoch)
    saved = sorted(p.name for p in (tmp_path / "ckpt").iterdir() if not p.name.startswith("."))
    assert saved == (["member-0"] if "ensemble" in straight.get_params() else ["trainer"])

    resumed = case.job(**params).fit(*case.data(), checkpoints=tmp_path / "ckpt")
    for a, b in zip(_networks(straight), _networks(resumed), strict=True):
        for name, value in a.state_dict().items():
            assert torch.equal(b.state_dict()[name], value), name
    _same(case.predict(resumed), case.predict(straight))
