"""`lstmkit classify`: train a sequence or text classifier, and score it on a test file.

With ``--data`` the kind of data is read from the arguments: ``--text-col``, a
folder or a ``.txt`` file mean texts; a ``.ts`` or ``.npz`` file, or ``--id-col`` on a
table, mean numeric sequences. With ``--test``, predictions (``id``, ``prediction``,
one ``prob_<class>`` column per class) are written, and when the test data has labels
the accuracy, macro-F1 and confusion matrix are printed and saved (JSON and PNG).

With no ``--data``, the bundled example runs: language identification (English,
Dutch, Spanish) of single words from Debian's word lists, character-level, on a
seeded 80/20 split.

Everything goes to a run folder (``runs/classify-<time>/`` unless ``--run-dir``),
each file written atomically: ``predictions.csv``, ``metrics.json``,
``confusion.png``, ``training.png``, ``report.html``, ``run.json`` and the model directory
``model/``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from pathlib import Path
from typing import TypedDict

from lstmkit.cli.options import (
    Opt,
    RunClock,
    add_job_options,
    check_model_dir,
    check_output_file,
    fit_kwargs,
    job_constructor_kwargs,
    job_kwargs,
    new_run_dir,
    resolved_config,
    run_section,
    size_options,
    training_options,
    write_run_json,
)
from lstmkit.cli.resume import add_run_options, start_checkpoints
from lstmkit.errors import ConfigError

__all__ = ["register", "run", "save_confusion_png"]


class _Demo(TypedDict):
    text_col: str
    label_col: str
    level: str
    test_fraction: float


DEMO: _Demo = {"text_col": "word", "label_col": "language", "level": "char", "test_fraction": 0.2}
SEQUENCE_SUFFIXES = (".ts", ".npz")
CONFIGS = [("sequences", "SequenceClassifierConfig"), ("texts", "TextClassifierConfig")]
MODEL = [
    Opt("--pooling", ("pooling",), "pooling over time", None, ("attention", "last", "mean", "max")),
    Opt("--ensemble", ("ensemble",), "networks averaged", int, minimum=1),
    *size_options(),
    *training_options(),
]
TEXT_MODEL = [
    Opt("--level", ("level",), "text tokens", None, ("char", "word", "subword"), note="; the bundled example: char")
]


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "classify",
        parents=parents,
        help="train a sequence or text classifier (or run the bundled language-ID example)",
        description="Train an LSTM classifier of numeric sequences or texts; with --test, predict and score. "
        "With no --data: language identification of words (English, Dutch, Spanish).",
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        "--train",
        dest="data",
        help="training data: CSV/TSV/Parquet, .ts, .npz, a folder per class, or .txt files "
        "(default: the bundled language-ID words)",
    )
    data.add_argument("--test", help="data to predict, and score when it has labels (default: none)")
    data.add_argument("--label-col", help="class column of a table (default: label)")
    data.add_argument("--id-col", help="sequence id column of a long table, one row per time step (default: none)")
    data.add_argument("--time-col", help="column ordering the steps of each sequence (default: row order)")
    data.add_argument("--features", help="comma-separated value columns of a long table (default: all others)")
    data.add_argument("--text-col", help="text column of a table: the data are texts (default: text)")
    data.add_argument(
        "--kind",
        choices=["auto", "sequence", "text"],
        default="auto",
        help="what the data are (default auto: read from the other arguments)",
    )

    model = parser.add_argument_group("model")
    add_job_options(model, TEXT_MODEL, [("", "TextClassifierConfig")])
    model.add_argument(
        "--embeddings", help="texts: pretrained word vectors, word2vec/GloVe text format (default: none, learned)"
    )
    model.add_argument(
        "--no-conv", action="store_true", help="sequences: no convolutional (FCN) branch (default: with it)"
    )
    add_job_options(model, MODEL, CONFIGS)

    out = parser.add_argument_group("output")
    out.add_argument("--output", help="predictions CSV (default: predictions.csv in the run folder)")
    out.add_argument("--model-dir", help="save the trained model here (default: model/ in the run folder)")
    add_run_options(out, "classify")
    parser.set_defaults(run=run)


@contextlib.contextmanager
def _plain_warnings():
    """Show a task's warnings as one line each, like the errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = lambda message, *a, **k: print(f"lstmkit classify: warning: {message}", file=sys.stderr)
        yield


def run(args: argparse.Namespace) -> int:
    clock = RunClock()
    check_output_file(args.output)
    if args.model_dir:
        check_model_dir(Path(args.model_dir))
    run_dir = new_run_dir("classify", args.run_dir)
    start_checkpoints(run_dir, args, "classify")
    with _plain_warnings():
        if args.data is None:
            model, train, test, name = _demo(args)
        else:
            kind = _kind(args)
            model = _sequence_model(args) if kind == "sequence" else _text_model(args)
            train, test, name = args.data, args.test, args.data
        print(f"lstmkit classify: {name} ({type(model).__name__}), run folder {run_dir}")
        model.fit(train, **fit_kwargs(args, model.fit))
        print(f"classes: {model.classes}")
        model_dir = Path(args.model_dir) if args.model_dir else run_dir / "model"
        model.save(model_dir)
        written = [str(model_dir)]
        scored = _predict_and_score(model, train, test, args, run_dir) if test is not None else None
        if scored is not None:
            written += scored[0]
        config = resolved_config(model)
        written.append(str(_report(model, config, name, train, test, scored, run_dir, clock)))
        written.append(str(write_run_json(run_dir, "classify", config, clock)))
    print(f"wrote {', '.join(written)} ({clock.seconds():.0f} s)")
    return 0


def _kind(args) -> str:
    if args.kind != "auto":
        return args.kind
    path = Path(args.data)
    if args.text_col or path.is_dir() or path.suffix.lower() == ".txt":
        return "text"
    if args.id_col or path.suffix.lower() in SEQUENCE_SUFFIXES:
        return "sequence"
    raise ConfigError(
        f"{args.data}: cannot tell texts from sequences; give --text-col (a text column) or "
        "--id-col (a long table of sequences, one row per time step)"
    )


def _sequence_model(args):
    from lstmkit.tasks import SequenceClassifier, SequenceClassifierConfig

    if args.text_col or hasattr(args, "level") or args.embeddings:
        raise ConfigError("--text-col/--level/--embeddings are for texts; these data are numeric sequences")
    options = {**job_kwargs(args, MODEL), **job_constructor_kwargs(args, SequenceClassifierConfig)}
    features = tuple(s.strip() for s in (args.features or "").split(",") if s.strip())
    if args.no_conv:
        options["conv_channels"] = ()
    return SequenceClassifier(
        id_col=args.id_col,
        label_col=args.label_col or "label",
        time_col=args.time_col,
        feature_cols=features or None,
        **options,
    )


def _text_model(args, **defaults):
    from lstmkit.tasks import TextClassifier, TextClassifierConfig

    if args.id_col and not args.text_col:
        raise ConfigError("--id-col names the sequences of a long table; for texts give --text-col")
    if args.no_conv or args.features or args.time_col:
        raise ConfigError("--no-conv/--features/--time-col are for numeric sequences; these data are texts")
    options = {**defaults, **job_kwargs(args, TEXT_MODEL + MODEL), **job_constructor_kwargs(args, TextClassifierConfig)}
    return TextClassifier(
        text_col=args.text_col or defaults.get("text_col", "text"),
        label_col=args.label_col or defaults.get("label_col", "label"),
        id_col=args.id_col,
        embeddings=args.embeddings,
        **{k: v for k, v in options.items() if k not in ("text_col", "label_col")},
    )


def _demo(args):
    import numpy as np

    from lstmkit.data.datasets.classification import load_language_words
    from lstmkit.data.text_io import texts_from_frame

    if args.test or args.id_col or args.text_col or args.label_col or args.features or args.time_col:
        raise ConfigError("--test and the column options describe a --data file; give --data too")
    if args.kind == "sequence":
        raise ConfigError("the bundled example is text (language identification); give --data for sequences")
    model = _text_model(args, text_col=DEMO["text_col"], label_col=DEMO["label_col"], level=DEMO["level"])
    words = load_language_words()
    rng = np.random.default_rng(model.config.seed)  # the split follows the job's seed
    test_rows = np.zeros(len(words), dtype=bool)
    for _, rows in words.groupby(DEMO["label_col"]).indices.items():
        test_rows[rng.permutation(rows)[: int(round(DEMO["test_fraction"] * len(rows)))]] = True
    train = texts_from_frame(words[~test_rows], DEMO["text_col"], DEMO["label_col"])
    test = texts_from_frame(words[test_rows], DEMO["text_col"], DEMO["label_col"])
    name = (
        f"bundled language-ID words ({len(train)} train / {len(test)} test, "
        f"{', '.join(sorted(words[DEMO['label_col']].unique()))})"
    )
    return model, train, test, name


def _predict_and_score(model, train, test, args, run_dir: Path) -> tuple[list[str], int, tuple | None]:
    import pandas as pd

    from lstmkit.report.tables import print_table
    from lstmkit.utils.files import atomic_path, atomic_write_text

    test_set = model.read(test)
    frame = model.predict_frame(test_set)
    output = Path(args.output) if args.output else run_dir / "predictions.csv"
    with atomic_path(output) as tmp:
        frame.to_csv(tmp, index=False)
    written = [str(output)]
    if test_set.y is None:
        print(f"predicted {len(frame)} examples; the test data have no labels, so nothing is scored")
        return written, len(frame), None
    report = model.evaluate(test_set)
    print(f"test: accuracy {report.accuracy:.4f}, macro-F1 {report.macro_f1:.4f} on {report.n} examples")
    confusion = report.confusion.copy()
    confusion.index.name = "true \\ predicted"
    print_table(confusion, title="Confusion matrix (rows: true class, columns: predicted)")
    baseline_name, baseline = _baseline(model, train, test_set)
    scores = pd.DataFrame(
        {"accuracy": [report.accuracy, baseline.accuracy], "macro_f1": [report.macro_f1, baseline.macro_f1]},
        index=pd.Index([f"lstmkit {type(model).__name__}", baseline_name], name="method"),
    )
    print_table(
        scores, title=f"Test scores next to a non-neural baseline fitted on the same training data ({report.n})"
    )
    metrics = run_dir / "metrics.json"
    record = {**report.to_dict(), "baseline": {"method": baseline_name, **baseline.to_dict()}}
    atomic_write_text(metrics, json.dumps(record, indent=2) + "\n")
    png = save_confusion_png(report, run_dir / "confusion.png")
    return written + [str(metrics), str(png)], len(frame), (report, confusion, png, scores)


def _baseline(model, train, test_set) -> tuple:
    """The strong non-neural classifier for these data, fitted on the training part: its name and test report.

    Texts: char 1-5-gram TF-IDF and logistic regression; numeric sequences: ROCKET and a
    ridge classifier (`lstmkit.evaluate.classification_baselines`).
    """
    from lstmkit.data.text_io import TextSet
    from lstmkit.evaluate.classification import classification_report
    from lstmkit.evaluate.classification_baselines import rocket_baseline, text_ngram_baseline

    train_set = model.read(train)
    if isinstance(test_set, TextSet):
        name = "char 1-5-gram TF-IDF + logistic regression"
        predicted = text_ngram_baseline(train_set.texts, train_set.y, test_set.texts)
    else:
        name = "ROCKET (2,000 random kernels) + ridge"
        predicted = rocket_baseline(train_set.X, train_set.lengths, train_set.y, test_set.X, test_set.lengths)
    return name, classification_report(test_set.y, predicted, labels=model.classes)


def _report(model, config: dict, name: str, train, test, scored, run_dir: Path, clock) -> Path:
    """``report.html``: data, configuration, training curves, and the test scores with the confusion matrix."""

    from lstmkit.report.html import Section, write_report
    from lstmkit.report.run_report import (
        config_table,
        plot_training_curves,
        summary_table,
    )

    data = {
        "training data": train if isinstance(train, str) else f"{len(train)} examples",
        "classes": model.classes,
        "model": type(model).__name__,
    }
    if test is not None:
        data["test data"] = test if isinstance(test, str) else f"{len(test)} examples"
        data["test examples predicted"] = scored[1]
    sections = [
        Section("Data", text=name, tables=[summary_table(data)]),
        Section("Configuration", tables=[config_table(config)]),
    ]
    curves = plot_training_curves(
        model.history, run_dir / "training.png", title="loss per epoch (solid: training, dashed: validation)"
    )
    sections.append(
        Section("Training", text=f"{len(model.history)} ensemble member(s)", images=[curves] if curves else [])
    )
    if scored is not None and scored[2] is not None:
        report, confusion, png, scores = scored[2]
        text = (
            f"{report.n} test examples; the baseline is fitted on the same training data. "
            "Confusion matrix of lstmkit: rows the true class, columns the predicted one."
        )
        sections.append(Section("Test", text=text, tables=[scores, confusion], images=[png]))
    elif test is not None:
        sections.append(Section("Test", text="the test data have no labels: predicted, not scored"))
    return write_report(run_dir / "report.html", f"lstmkit classify: {name}", [*sections, run_section(clock)])


def save_confusion_png(report, path) -> Path:
    """Draw the confusion matrix (counts, rows true, columns predicted) as a PNG, atomically.

    Args:
        report: a `lstmkit.evaluate.classification.ClassificationReport`.
        path: the ``.png`` file to write.

    Returns:
        The path written.
    """
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    from lstmkit.utils.files import atomic_path

    counts = report.confusion.to_numpy()
    labels = [str(v) for v in report.confusion.index]
    size = 1.2 + 0.6 * len(labels)
    fig = Figure(figsize=(size + 1.5, size + 1))
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}")
    threshold = counts.max() / 2 if counts.size else 0
    for (i, j), n in np.ndenumerate(counts):
        ax.text(j, i, str(n), ha="center", va="center", color="white" if n > threshold else "black")
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path
