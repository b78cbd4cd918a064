"""`lstmkit predict`: use any saved model on new data, without training.

The folder says which job it holds (``lstmkit.load`` reads it), and the output
follows the job:

- forecaster: the forecast after the end of ``--data`` (default: the data it was fitted on);
- sequence or text classifier: ``id``, ``prediction`` and one ``prob_<class>`` column per class;
- anomaly detector: the rows of ``--data`` with ``score`` and ``is_anomaly``;
- language model: text generated from ``--prompt``, or from each line of ``--data``;
- translator: the translation of ``--input``, or of each line of ``--data``.

With ``--output`` the table is written as CSV (atomically), otherwise printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lstmkit.cli.generate import add_sampling_options, check_sampling, generate_text
from lstmkit.cli.options import check_output_file
from lstmkit.errors import ConfigError

__all__ = ["register", "run"]

# options that only some jobs read: the option, its dest and the jobs (the saved "task")
ONLY_FOR = [
    ("--future", "future", ("forecaster",)),
    ("--prompt", "prompt", ("language_model",)),
    ("--top-k", "top_k", ("language_model",)),
    ("--top-p", "top_p", ("language_model",)),
    ("--seed", "seed", ("language_model",)),
    ("--input", "input", ("translator",)),
    ("--beam", "beam", ("translator",)),
]
NEEDS_DATA = ("sequence_classifier", "text_classifier", "anomaly")


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "predict",
        parents=parents,
        help="use a saved model (any job) on new data, without training",
        description="Load a model folder written by forecast, classify, detect, generate or translate (or by "
        "Python's save) and predict: a forecast, class probabilities, anomaly scores, generated text "
        "or translations.",
    )
    p.add_argument("--model-dir", required=True, help="a saved model folder (required)")
    p.add_argument(
        "--data",
        help="the data to predict: a table (forecast, classify, detect) or a text file with one "
        "prompt or text per line (generate, translate); default for a forecaster: the "
        "data it was fitted on",
    )
    p.add_argument("--output", help="CSV file to write (default: print the table)")
    p.add_argument(
        "--future", help="forecaster: CSV/Parquet with the future covariates of the forecast steps (default: none)"
    )
    p.add_argument("--input", help="translator: one text to translate, instead of --data (default: none)")
    p.add_argument("--beam", type=int, help="translator: beam width, 1 is greedy (default: the model's own)")
    p.add_argument("--seed", type=int, help="language model: sampling seed (default: the model's training seed)")
    add_sampling_options(p)
    p.set_defaults(run=run)


def _check_options(args, task: str, model_dir: Path) -> None:
    for flag, dest, tasks in ONLY_FOR:
        if getattr(args, dest) not in (None, "") and task not in tasks:
            raise ConfigError(f"{flag} does not apply to {model_dir}: it holds a {task} model")
    if task in NEEDS_DATA and args.data is None:
        raise ConfigError(f"--data is required to predict with the {task} model in {model_dir}")
    if task == "language_model" and args.prompt and args.data:
        raise ConfigError("give --prompt or --data (one prompt per line), not both")
    if task == "translator" and (args.input is None) == (args.data is None):
        raise ConfigError("give --input TEXT or --data (a file with one text per line), one of the two")
    if args.beam is not None and args.beam < 1:
        raise ConfigError(f"--beam must be >= 1, got {args.beam}")


def run(args: argparse.Namespace) -> int:
    import lstmkit

    check_output_file(args.output)
    model_dir = Path(args.model_dir)
    if not (model_dir / "manifest.json").is_file():
        raise ConfigError(f"--model-dir {model_dir} is not a saved lstmkit model (no manifest.json in it)")
    model = lstmkit.load(model_dir, device=None if args.device == "auto" else args.device)
    task = model.task
    _check_options(args, task, model_dir)
    if task == "forecaster":
        table = _forecast(model, args)
    elif task in ("sequence_classifier", "text_classifier"):
        table = model.predict_frame(args.data)
    elif task == "anomaly":
        table = _detect(model, args)
    elif task == "language_model":
        table = _generate(model, args)
    elif task == "translator":
        table = _translate(model, args)
    else:
        raise ConfigError(f"{model_dir} holds a {task!r} model, which lstmkit predict does not know")
    if args.output:
        from lstmkit.utils.files import atomic_path

        with atomic_path(args.output) as tmp:
            table.to_csv(tmp, index=False)
        print(f"wrote {args.output} ({len(table)} rows)")
    elif task not in ("language_model",):  # generated text was streamed already
        print(table.to_string(index=False))
    return 0


def _forecast(model, args):
    from lstmkit.data import read_table

    data = read_table(args.data) if args.data else None
    future = read_table(args.future) if args.future else None
    return model.predict(data, future=future)


def _detect(model, args):
    from lstmkit.data import read_table

    frame = read_table(args.data)
    detections = model.predict(frame)
    return frame.assign(
        score=detections["score"].to_numpy(), is_anomaly=detections["is_anomaly"].to_numpy().astype(int)
    )


def _lines(path: str) -> list[str]:
    from lstmkit.data.corpora import read_corpus

    lines = [line.strip() for line in read_corpus(path).splitlines() if line.strip()]
    if not lines:
        raise ConfigError(f"--data {path} has no non-empty line")
    return lines


def _generate(model, args):
    import pandas as pd

    check_sampling(args)
    prompts = _lines(args.data) if args.data else [args.prompt]
    seed = args.seed if args.seed is not None else model.config.seed
    texts = [
        generate_text(model, prompt, args.length, args.temperature, args.top_k, args.top_p, seed) for prompt in prompts
    ]
    return pd.DataFrame({"prompt": prompts, "text": texts})


def _translate(model, args):
    import pandas as pd

    texts = _lines(args.data) if args.data else [args.input]
    beam = args.beam if args.beam is not None else model.config.beam
    return pd.DataFrame({"input": texts, "output": model.translate(texts, beam=beam)})
