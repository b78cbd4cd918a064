"""`lstmkit translate`: train a sequence-to-sequence model on text pairs (or load one) and translate.

With no ``--pairs`` and no ``--model-dir`` it runs the bundled demo: dates written
in many human formats ("3rd of March 1998", "03/03/98", "March 3, 1998") normalised
to ISO ``YYYY-MM-DD``, generated reproducibly, trained for about a minute and scored
on held-out dates by exact match. Everything it writes goes under
``runs/translate-<time>/`` (model, metrics, predictions, attention heatmap, training curves and
``report.html``).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pandas as pd

from lstmkit.data.corpora import read_pairs
from lstmkit.data.dates import date_pairs
from lstmkit.errors import ConfigError
from lstmkit.report.attention_plot import plot_attention
from lstmkit.report.html import Section, write_report
from lstmkit.report.run_report import config_table, plot_training_curves, summary_table
from lstmkit.tasks.translation import Translator
from lstmkit.utils.files import atomic_path, atomic_write_text

__all__ = ["register", "run"]

HELD_OUT = 0.1
DEMO_INPUTS = ["3rd of March 1998", "03/03/98", "March 3, 1998", "Tuesday, July 4, 2023", "25.12.1969"]
LEVELS = ("char", "word", "bpe", "subword", "symbol")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "translate", help="train an encoder-decoder with attention on text pairs (or the date demo) and translate",
        description="Train an LSTM encoder-decoder with attention on --pairs (TSV: source<TAB>target per line, or "
                    "CSV with source,target columns), report exact match, token accuracy and BLEU on held-out "
                    "pairs, and translate --input. With no --pairs: the bundled date-normalisation demo. With an "
                    "existing --model-dir, load it instead of training.",
    )
    p.add_argument("--pairs", help="TSV/TXT (tab-separated) or CSV file of source/target pairs")
    p.add_argument("--model-dir", help="load this model if it exists; otherwise train and save it here")
    p.add_argument("--input", help="a text to translate, or a file with one text per line")
    p.add_argument("--beam", type=int, default=1, help="beam width for decoding; 1 is greedy (default 1)")
    p.add_argument("--level", choices=LEVELS, default="char", help="tokens on both sides (default char)")
    p.add_argument("--seed", type=int, default=0)
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=30, help="most epochs (early stopping decides; default 30)")
    g.add_argument("--time-budget", type=float, default=None,
                   help="also stop training after this many seconds, keeping the best weights (default: none; "
                        "makes the result depend on the machine's speed and load)")
    g.add_argument("--hidden-size", type=int, default=128)
    g.add_argument("--embedding-dim", type=int, default=64)
    g.add_argument("--layers", type=int, default=1, help="encoder layers (bidirectional) and decoder layers")
    g.add_argument("--attention", choices=["additive", "general", "dot", "scaled_dot"], default="additive")
    g.add_argument("--batch-size", type=int, default=64)
    g.add_argument("--demo-size", type=int, default=20000, help="date pairs generated for the demo (default 20000)")
    g.add_argument("--run-dir", help="folder for what the run writes (default: runs/translate-<time>)")
    p.set_defaults(run=run)


def _options(args) -> dict:
    for name in ("beam", "epochs", "hidden_size", "embedding_dim", "layers", "batch_size", "demo_size"):
        value = getattr(args, name)
        if value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.time_budget is not None and args.time_budget < 0:
        raise ConfigError(f"--time-budget must be >= 0 seconds, got {args.time_budget}")
    return dict(
        source_level=args.level, target_level=args.level, hidden_size=args.hidden_size,
        embedding_dim=args.embedding_dim, encoder_layers=args.layers, decoder_layers=args.layers,
        attention=args.attention, batch_size=args.batch_size, max_epochs=args.epochs, beam=args.beam,
        time_budget=args.time_budget or None, seed=args.seed,
    )


def _inputs(value: str | None) -> list[str]:
    if value is None:
        return []
    path = Path(value)
    if path.is_file():
        from lstmkit.data.corpora import read_corpus

        return [line.strip() for line in read_corpus(path).splitlines() if line.strip()]
    return [value]


def run(args) -> int:
    started = time.perf_counter()
    options = _options(args)
    run_dir = Path(args.run_dir or Path("runs") / time.strftime("translate-%Y%m%d-%H%M%S"))
    model_dir = Path(args.model_dir) if args.model_dir else None
    inputs = _inputs(args.input)
    metrics, predictions, data = {}, None, {}
    if model_dir is not None and model_dir.exists() and not (model_dir / "manifest.json").is_file() and (
            not model_dir.is_dir() or any(model_dir.iterdir())):
        raise ConfigError(f"--model-dir {model_dir} exists and is not an lstmkit model directory; "
                          "give a saved model or a new path")
    if model_dir is not None and (model_dir / "manifest.json").is_file():
        model = Translator.load(model_dir)
        print(f"lstmkit translate: loaded the model in {model_dir}")
        data = {"model": f"loaded from {model_dir}"}
        if args.pairs:
            pairs = read_pairs(args.pairs)
            data.update({"scored on": args.pairs, "pairs scored": len(pairs)})
            metrics, predictions = model.evaluate(pairs, beam=args.beam, return_predictions=True)
            _print_metrics(metrics, f"all {len(pairs):,} pairs of {args.pairs}", args.beam)
    else:
        demo = args.pairs is None
        if demo:
            pairs = date_pairs(args.demo_size, seed=args.seed)
            name = f"{len(pairs):,} generated date pairs (human format -> ISO)"
            inputs = inputs or DEMO_INPUTS
        else:
            pairs = read_pairs(args.pairs)
            name = f"{len(pairs):,} pairs of {args.pairs}"
        order = list(range(len(pairs)))
        random.Random(args.seed).shuffle(order)
        n_test = int(len(pairs) * HELD_OUT) if len(pairs) >= 10 else 0
        test = [pairs[i] for i in order[:n_test]]
        train = [pairs[i] for i in order[n_test:]]
        data = {"pairs": name, "training pairs": len(train), "held-out pairs": len(test)}
        model = Translator(**options)
        budget = f", at most {args.time_budget:.0f} s" if args.time_budget else ""
        print(f"lstmkit translate: training an encoder-decoder with {args.attention} attention on {len(train):,} of "
              f"{name}{budget}; run folder {run_dir}", flush=True)
        model.fit(train, verbose=True)
        if test:
            metrics, predictions = model.evaluate(test, beam=args.beam, return_predictions=True)
            _print_metrics(metrics, f"{len(test):,} held-out pairs", args.beam)
            _print_examples(predictions)
        else:
            print("note: fewer than 10 pairs: nothing held out to score")
        model_dir = model_dir or run_dir / "model"
        model.save(model_dir, metrics=metrics)

    run_dir.mkdir(parents=True, exist_ok=True)
    plot = translations = None
    if inputs:
        outputs = model.translate(inputs, beam=args.beam)
        print("translations:")
        for source, output in zip(inputs, outputs):
            print(f"  {source!r} -> {output!r}")
        attention = model.attention(inputs[0], beam=args.beam)
        plot = plot_attention(attention.source, attention.target, attention.weights, run_dir / "attention.png",
                              title=f"attention: {inputs[0]!r} -> {outputs[0]!r}")
        print(f"attention heatmap of the first input: {plot}")
        translations = list(zip(inputs, outputs))
    if predictions is not None:
        with atomic_path(run_dir / "predictions.csv") as tmp:
            predictions.to_csv(tmp, index=False)
    atomic_write_text(run_dir / "metrics.json", json.dumps({**metrics, "beam": args.beam}, indent=2) + "\n")
    _report(model, data, metrics, predictions, translations, plot, args, run_dir)
    print(f"wrote {run_dir} (metrics.json{', predictions.csv' if predictions is not None else ''}"
          f"{', attention.png' if inputs else ''}, report.html) and the model in {model_dir} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0


def _report(model: Translator, data: dict, metrics: dict, predictions, translations, attention, args,
            run_dir: Path) -> Path:
    """``report.html``: data, configuration, training curves, held-out scores, translations and attention."""
    sections = [Section("Data", tables=[summary_table(data)]),
                Section("Configuration", tables=[config_table(model.config)])]
    curves = plot_training_curves(model.history, run_dir / "training.png",
                                  title="loss per epoch (solid: training, dashed: validation)")
    sections.append(Section("Training", images=[curves] if curves else [],
                            text=[] if curves else "no training log (a model saved without one)"))
    if metrics:
        decoding = "greedy decoding" if args.beam == 1 else f"beam search, width {args.beam}"
        scores = pd.DataFrame({"exact_match": [metrics["exact_match"]], "token_accuracy": [metrics["token_accuracy"]],
                               "bleu": [metrics["bleu"]], "pairs": [metrics["pairs"]]})
        tables = [scores]
        if predictions is not None:
            wrong = predictions[~predictions["correct"]].head(10)
            if len(wrong):
                tables.append(wrong.reset_index(drop=True))
        sections.append(Section("Scores", tables=tables, text=f"{decoding}; exact match and token accuracy are "
                                "shares, BLEU is 0-100" + ("; then some mistakes" if len(tables) > 1 else "")))
    if translations:
        sections.append(Section("Translations", tables=[pd.DataFrame(translations, columns=["input", "output"])],
                                images=[attention], text="the heatmap: where the decoder looked in the first "
                                                         "input for each output piece"))
    return write_report(run_dir / "report.html", "lstmkit translate: encoder-decoder with attention", sections)


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
