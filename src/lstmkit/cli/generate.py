"""`lstmkit generate`: train a language model on a text, score it, generate.

With no ``--data`` it trains on the bundled public-domain text (the Book of
Genesis, King James Version), prints the held-out perplexity next to a smoothed
n-gram's, then streams generated text. Everything it writes goes under
``runs/generate-<time>/`` (model, metrics, sample, training curves, ``report.html``
and ``run.json``). A saved model generates again with ``lstmkit predict``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

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
from lstmkit.errors import ConfigError

if TYPE_CHECKING:
    from lstmkit.tasks.language_model import LanguageModel

__all__ = ["register", "run", "add_sampling_options", "generate_text"]

HELD_OUT = 0.1  # the corpus's tail kept for the reported perplexity
LEVEL_CHOICES = ("char", "word", "bpe", "subword", "symbol")
CONFIG = [("", "LanguageModelConfig")]
MODEL = [
    Opt(
        "--level",
        ("level",),
        "tokens: characters, words, byte-level BPE subwords, or whitespace-separated "
        "symbols (music, any symbolic sequence)",
        None,
        LEVEL_CHOICES,
    ),
    Opt("--embedding-dim", ("embedding_dim",), "embedding size", int, minimum=1),
    *size_options(),
    Opt("--bptt", ("bptt",), "truncated-BPTT chunk length", int, minimum=1),
    Opt("--recurrent-dropout", ("recurrent_dropout",), "variational dropout on the recurrent state", float),
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
]


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    """--prompt, --length, --temperature, --top-k, --top-p: how text is sampled (generate and predict)."""
    g = parser.add_argument_group("sampling")
    g.add_argument("--prompt", default="", help="text to continue (default: start a new line)")
    g.add_argument(
        "--length",
        type=int,
        default=300,
        help="tokens to generate (default 300; LanguageModel.generate's n defaults to 200)",
    )
    g.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        help="sampling temperature, 0 is greedy (default 0.8; LanguageModel.generate's is 1.0)",
    )
    g.add_argument("--top-k", type=int, help="sample among the k most likely tokens only (default: all)")
    g.add_argument("--top-p", type=float, help="sample within the nucleus of probability p (default: all)")


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "generate",
        parents=parents,
        help="train a language model on a text (or the bundled one) and generate from it",
        description="Train an LSTM language model on --data (default: the bundled Book of Genesis, KJV), report "
        "the held-out perplexity next to a Kneser-Ney n-gram, and generate text from --prompt. To "
        "generate with a saved model: lstmkit predict --model-dir DIR --prompt TEXT.",
    )
    data = p.add_argument_group("data")
    data.add_argument(
        "--data", "--corpus", dest="data", help="UTF-8 text file to train on (default: the bundled public-domain text)"
    )
    add_job_options(p.add_argument_group("model"), MODEL, CONFIG)
    add_sampling_options(p)
    out = p.add_argument_group("output")
    out.add_argument("--model-dir", help="save the trained model here (default: model/ in the run folder)")
    out.add_argument("--run-dir", help="folder for what the run writes (default: runs/generate-<time>)")
    p.set_defaults(run=run)


def check_sampling(args: argparse.Namespace) -> None:
    if args.length < 0:
        raise ConfigError(f"--length must be >= 0, got {args.length}")


def run(args: argparse.Namespace) -> int:
    from lstmkit.data.corpora import bundled_corpus, read_corpus, split_tail
    from lstmkit.tasks.language_model import LanguageModel, LanguageModelConfig
    from lstmkit.utils.files import atomic_write_text

    clock = RunClock()
    run_dir = new_run_dir("generate", args.run_dir)
    options = job_kwargs(args, MODEL)
    if options.get("time_budget") == 0:
        options["time_budget"] = None
    check_sampling(args)
    model_dir = Path(args.model_dir) if args.model_dir else run_dir / "model"
    check_model_dir(model_dir)
    if args.data:
        text, name = read_corpus(args.data), args.data
    else:
        text, name = bundled_corpus()
    head, tail = split_tail(text, HELD_OUT)
    data = {"corpus": name, "characters": len(text), "training characters": len(head), "held-out characters": len(tail)}
    lm = LanguageModel(**options, **job_constructor_kwargs(args, LanguageModelConfig))
    budget = f", at most {lm.config.time_budget:.0f} s" if lm.config.time_budget else ""
    print(
        f"lstmkit generate: training a {lm.config.level}-level LSTM ({lm.config.hidden_size} units) on "
        f"{len(head):,} characters of {name}{budget}; run folder {run_dir}",
        flush=True,
    )
    lm.fit(head, **fit_kwargs(args, lm.fit))
    metrics: dict = {}
    if _has_two_tokens(lm, tail):
        metrics = _score(lm, head, tail, f"the held-out last {HELD_OUT:.0%} ({len(tail):,} characters)")
    else:
        print("note: the held-out tail is too short to score; give a longer corpus for a perplexity")
    lm.save(model_dir, metrics=metrics)

    seed = lm.config.seed
    sample = generate_text(lm, args.prompt, args.length, args.temperature, args.top_k, args.top_p, seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "sample.txt", sample + "\n")
    atomic_write_text(run_dir / "metrics.json", json.dumps({**metrics, "level": lm.config.level}, indent=2) + "\n")
    config = resolved_config(lm)
    report = _report(lm, config, data, metrics, sample, args, seed, run_dir, clock)
    write_run_json(run_dir, "generate", config, clock)
    print(
        f"wrote {run_dir / 'sample.txt'}, {run_dir / 'metrics.json'}, {report} and the model in {model_dir} "
        f"({clock.seconds():.0f} s)"
    )
    return 0


def _report(lm, config: dict, data: dict, metrics: dict, sample: str, args, seed: int, run_dir: Path, clock) -> Path:
    """``report.html``: data, configuration, training curves, perplexity next to the n-gram, the sample."""
    import pandas as pd

    from lstmkit.report.html import Section, write_report
    from lstmkit.report.run_report import (
        config_table,
        plot_training_curves,
        summary_table,
    )

    sections = [
        Section("Data", tables=[summary_table({**data, "tokens": lm.config.level})]),
        Section("Configuration", tables=[config_table(config)]),
    ]
    curves = plot_training_curves(
        lm.history, run_dir / "training.png", title="loss per epoch (solid: training, dashed: validation)"
    )
    sections.append(
        Section(
            "Training",
            images=[curves] if curves else [],
            text=[] if curves else "no training log (a model saved without one)",
        )
    )
    if metrics:
        rows = _score_rows(metrics)
        table = pd.DataFrame(
            {"perplexity": [r[1] for r in rows], "bits_per_char": [r[2] for r in rows]},
            index=pd.Index([r[0] for r in rows], name="model"),
        )
        sections.append(
            Section(
                "Held-out perplexity",
                tables=[table],
                text=f"{metrics['tokens']:,} {lm.config.level} tokens; lower is better. " + _shipped_note(metrics),
            )
        )
    decoding = (
        f"temperature {args.temperature}"
        + (f", top-k {args.top_k}" if args.top_k else "")
        + (f", top-p {args.top_p}" if args.top_p else "")
        + f", seed {seed}"
    )
    sections.append(
        Section(
            "Generated sample",
            text=[
                f"{args.length} {lm.config.level} tokens ({decoding})"
                + (f", prompt {args.prompt!r}" if args.prompt else ""),
                sample,
            ],
        )
    )
    return write_report(
        run_dir / "report.html",
        f"lstmkit generate: {lm.config.level}-level language model",
        [*sections, run_section(clock)],
    )


def _has_two_tokens(lm, text: str) -> bool:
    return bool(text.strip()) and len(lm.tokenizer.encode(text, add_special=False)) >= 2


def _score_rows(r: dict) -> list[tuple[str, float, float]]:
    """(label, perplexity, bits per character): the LSTM alone, the n-gram alone, the shipped model."""
    rows = [
        ("LSTM alone", r["lstm_perplexity"], r["lstm_bits_per_char"]),
        (f"{r['ngram_order']}-gram Kneser-Ney alone", r["ngram_perplexity"], r["ngram_bits_per_char"]),
    ]
    if r["mixture_weight"] < 1:  # with no mixture the shipped model is the LSTM row
        rows.append(
            (
                f"shipped: {r['mixture_weight']:.2f} LSTM + {1 - r['mixture_weight']:.2f} KN",
                r["perplexity"],
                r["bits_per_char"],
            )
        )
    return rows


def _shipped_note(r: dict) -> str:
    if r["mixture_weight"] < 1:
        return (
            "The shipped model (scored, saved and sampled from) mixes the two probabilities with the LSTM's "
            "weight chosen on the last part of the training text, never on the held-out text."
        )
    return "The shipped model is the LSTM alone."


def _score(lm, head: str, tail: str, where: str) -> dict:
    r = lm.evaluate(tail, train_text=head)
    print(f"held-out perplexity on {where}, {r['tokens']:,} {lm.config.level} tokens:")
    for label, perplexity, bits in _score_rows(r):
        print(f"  {label:<32} {perplexity:9.3f}   ({bits:.3f} bits/char)")
    print(f"  ({_shipped_note(r)})", flush=True)
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()}


def generate_text(
    lm: LanguageModel,
    prompt: str,
    length: int,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    seed: int | None,
) -> str:
    """Stream ``length`` sampled tokens after ``prompt`` to stdout; return the prompt and the text."""
    from lstmkit.tasks.language_model import UnknownTokensWarning

    tokenizer = lm.tokenizer
    assert tokenizer is not None  # the command hands over a loaded, fitted model
    prompt_ids = tokenizer.encode(prompt, add_special=False) if prompt else []
    bptt = lm.config.resolved().bptt
    if len(prompt_ids) > bptt:
        print(
            f"note: the prompt has {len(prompt_ids)} tokens, more than the {bptt}-token training "
            "chunk; it is read in chunks with the state carried, so all of it counts",
            file=sys.stderr,
        )
    start = tokenizer.decode(lm.encode_prompt("")) if not prompt else ""
    shown = prompt or start.strip()  # with no prompt: the corpus's first token, or nothing for a new line
    print(
        f"--- {length} generated {lm.config.level} tokens (temperature {temperature}"
        + (f", top-k {top_k}" if top_k else "")
        + (f", top-p {top_p}" if top_p else "")
        + f", seed {seed}) ---"
    )
    sys.stdout.write(shown)
    pieces = [shown]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownTokensWarning)
        for piece in lm.stream(prompt, length, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed):
            if caught:  # the prompt's unknown pieces, said before the text goes on
                sys.stdout.flush()
                for w in caught:
                    print(f"\nnote: {w.message}", file=sys.stderr)
                caught.clear()
            sys.stdout.write(piece)
            sys.stdout.flush()
            pieces.append(piece)
        for w in caught:
            print(f"note: {w.message}", file=sys.stderr)
    print()
    return "".join(pieces)
