"""`lstmkit translate`: train a sequence-to-sequence model on text pairs and translate.

With no ``--data`` it runs the bundled demo: dates written in many human formats
("3rd of March 1998", "03/03/98", "March 3, 1998") normalised to ISO ``YYYY-MM-DD``,
generated reproducibly, trained and scored on held-out dates by exact match.
Everything it writes goes under ``runs/translate-<time>/`` (model, metrics,
predictions, attention heatmap, training curves, ``report.html`` and ``run.json``).
A saved model translates again with ``lstmkit predict``.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from lstmkit.cli.options import (
    Opt,
    RunClock,
    add_job_options,
    check_model_dir,
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

__all__ = ["register", "run", "read_inputs"]

HELD_OUT = 0.1
DEMO_INPUTS = ["3rd of March 1998", "03/03/98", "March 3, 1998", "Tuesday, July 4, 2023", "25.12.1969"]
LEVEL_CHOICES = ("char", "word", "bpe", "subword", "symbol")
CONFIG = [("", "TranslatorConfig")]
MODEL = [
    Opt("--level", ("source_level", "target_level"), "tokens on both sides", None, LEVEL_CHOICES),
    Opt("--embedding-dim", ("embedding_dim",), "embedding size", int, minimum=1),
    *size_options(layers=("encoder_layers", "decoder_layers")),
    Opt("--attention", ("attention",), "attention score", None, ("additive", "general", "dot", "scaled_dot")),
    *training_options(),
    Opt(
        "--max-steps",
        ("max_steps",),
        "stop after this many optimiser steps (or --epochs, whichever comes first)",
        int,
        minimum=1,
    ),
    Opt(
        "--time-budget",
        ("time_budget",),
        "stop training after this many seconds, keeping the best weights; 0: no limit",
        float,
        minimum=0,
    ),
    Opt("--beam", ("beam",), "beam width for decoding, 1 is greedy", int, minimum=1),
]


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "translate",
        parents=parents,
        help="train an encoder-decoder with attention on text pairs (or the date demo) and translate",
        description="Train an LSTM encoder-decoder with attention on --data (TSV: source<TAB>target per line, or "
        "CSV with source,target columns), report exact match, token accuracy and BLEU on held-out "
        "pairs, and translate --input. With no --data: the bundled date-normalisation demo. To "
        "translate with a saved model: lstmkit predict --model-dir DIR --input TEXT.",
    )
    data = p.add_argument_group("data")
    data.add_argument(
        "--data",
        "--pairs",
        dest="data",
        help="TSV/TXT (tab-separated) or CSV file of source/target pairs to train on (default: generated date pairs)",
    )
    data.add_argument("--demo-size", type=int, default=20000, help="date pairs generated for the demo (default 20000)")
    data.add_argument(
        "--input", help="a text to translate, or a file with one text per line (default: none; the demo: a few dates)"
    )
    add_job_options(p.add_argument_group("model"), MODEL, CONFIG)
    out = p.add_argument_group("output")
    out.add_argument("--model-dir", help="save the trained model here (default: model/ in the run folder)")
    add_run_options(out, "translate", "what the run writes")
    p.set_defaults(run=run)


def read_inputs(value: str | None) -> list[str]:
    """The texts of ``value``: a file's non-empty lines, or ``value`` itself."""
    if value is None:
        return []
    path = Path(value)
    if path.is_file():
        from lstmkit.data.corpora import read_corpus

        return [line.strip() for line in read_corpus(path).splitlines() if line.strip()]
    return [value]


def run(args: argparse.Namespace) -> int:
    from lstmkit.data.corpora import read_pairs
    from lstmkit.data.dates import date_pairs
    from lstmkit.report.attention_plot import plot_attention
    from lstmkit.tasks.translation import Translator, TranslatorConfig
    from lstmkit.utils.files import atomic_path, atomic_write_text

    clock = RunClock()
    options = job_kwargs(args, MODEL)
    if options.get("time_budget") == 0:
        options["time_budget"] = None
    if args.demo_size < 1:
        raise ConfigError(f"--demo-size must be >= 1, got {args.demo_size}")
    run_dir = new_run_dir("translate", args.run_dir)
    start_checkpoints(run_dir, args, "translate")
    model_dir = Path(args.model_dir) if args.model_dir else run_dir / "model"
    check_model_dir(model_dir)
    inputs = read_inputs(args.input)
    model = Translator(**options, **job_constructor_kwargs(args, TranslatorConfig))
    c = model.config
    if args.data is None:
        pairs = date_pairs(args.demo_size, seed=c.seed)
        name = f"{len(pairs):,} generated date pairs (human format -> ISO)"
        inputs = inputs or DEMO_INPUTS
    else:
        pairs = read_pairs(args.data)
        name = f"{len(pairs):,} pairs of {args.data}"
    order = list(range(len(pairs)))
    random.Random(c.seed).shuffle(order)
    n_test = int(len(pairs) * HELD_OUT) if len(pairs) >= 10 else 0
    test = [pairs[i] for i in order[:n_test]]
    train = [pairs[i] for i in order[n_test:]]
    data = {"pairs": name, "training pairs": len(train), "held-out pairs": len(test)}
    budget = f", at most {c.time_budget:.0f} s" if c.time_budget else ""
    print(
        f"lstmkit translate: training an encoder-decoder with {c.attention} attention on {len(train):,} of "
        f"{name}{budget}; run folder {run_dir}",
        flush=True,
    )
    model.fit(train, **fit_kwargs(args, model.fit))
    metrics: dict[str, float] = {}
    predictions = None
    if test:
        metrics, predictions = model.evaluate(test, beam=c.beam, return_predictions=True)
        _print_metrics(metrics, f"{len(test):,} held-out pairs", c.beam)
        _print_examples(predictions)
    else:
        print("note: fewer than 10 pairs: nothing held out to score")
    model.save(model_dir, metrics=metrics)

    run_dir.mkdir(parents=True, exist_ok=True)
    plot = translations = None
    if inputs:
        outputs = model.translate(inputs, beam=c.beam)
        print("translations:")
        for source, output in zip(inputs, outputs):
            print(f"  {source!r} -> {output!r}")
        attention = model.attention(inputs[0], beam=c.beam)
        plot = plot_attention(
            attention.source,
            attention.target,
            attention.weights,
            run_dir / "attention.png",
            title=f"attention: {inputs[0]!r} -> {outputs[0]!r}",
        )
        print(f"attention heatmap of the first input: {plot}")
        translations = list(zip(inputs, outputs))
    if predictions is not None:
        with atomic_path(run_dir / "predictions.csv") as tmp:
            predictions.to_csv(tmp, index=False)
    atomic_write_text(run_dir / "metrics.json", json.dumps({**metrics, "beam": c.beam}, indent=2) + "\n")
    config = resolved_config(model)
    _report(model, config, data, metrics, predictions, translations, plot, c.beam, run_dir, clock)
    write_run_json(run_dir, "translate", config, clock)
    print(
        f"wrote {run_dir} (metrics.json{', predictions.csv' if predictions is not None else ''}"
        f"{', attention.png' if inputs else ''}, report.html, run.json) and the model in {model_dir} "
        f"({clock.seconds():.0f} s)"
    )
    return 0


def _report(
    model,
    config: dict,
    data: dict,
    metrics: dict,
    predictions,
    translations,
    attention,
    beam: int,
    run_dir: Path,
    clock,
) -> Path:
    """``report.html``: data, configuration, training curves, held-out scores, translations and attention."""
    import pandas as pd

    from lstmkit.report.html import Section, write_report
    from lstmkit.report.run_report import (
        config_table,
        plot_training_curves,
        summary_table,
    )

    sections = [Section("Data", tables=[summary_table(data)]), Section("Configuration", tables=[config_table(config)])]
    curves = plot_training_curves(
        model.history, run_dir / "training.png", title="loss per epoch (solid: training, dashed: validation)"
    )
    sections.append(
        Section(
            "Training",
            images=[curves] if curves else [],
            text=[] if curves else "no training log (a model saved without one)",
        )
    )
    if metrics:
        decoding = "greedy decoding" if beam == 1 else f"beam search, width {beam}"
        scores = pd.DataFrame(
            {
                "exact_match": [metrics["exact_match"]],
                "token_accuracy": [metrics["token_accuracy"]],
                "bleu": [metrics["bleu"]],
                "pairs": [metrics["pairs"]],
            }
        )
        tables = [scores]
        if predictions is not None:
            wrong = predictions[~predictions["correct"]].head(10)
            if len(wrong):
                tables.append(wrong.reset_index(drop=True))
        sections.append(
            Section(
                "Scores",
                tables=tables,
                text=f"{decoding}; exact match and token accuracy are "
                "shares, BLEU is 0-100" + ("; then some mistakes" if len(tables) > 1 else ""),
            )
        )
    if translations:
        sections.append(
            Section(
                "Translations",
                tables=[pd.DataFrame(translations, columns=["input", "output"])],
                images=[attention],
                text="the heatmap: where the decoder looked in the first input for each output piece",
            )
        )
    return write_report(
        run_dir / "report.html", "lstmkit translate: encoder-decoder with attention", [*sections, run_section(clock)]
    )


def _print_metrics(metrics: dict, where: str, beam: int) -> None:
    decoding = "greedy decoding" if beam == 1 else f"beam search, width {beam}"
    print(f"on {where} ({decoding}):")
    print(f"  exact match     {metrics['exact_match']:.2%}")
    print(f"  token accuracy  {metrics['token_accuracy']:.2%}")
    print(f"  BLEU            {metrics['bleu']:.2f}", flush=True)


def _print_examples(predictions, n: int = 5) -> None:
    wrong = predictions[~predictions["correct"]]
    shown = wrong.head(n)
    if len(shown):
        print(f"some of the {len(wrong)} held-out mistakes:")
        for row in shown.itertuples():
            print(f"  {row.source!r}: expected {row.target!r}, got {row.prediction!r}")
