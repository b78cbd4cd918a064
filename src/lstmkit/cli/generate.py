"""`lstmkit generate`: train a language model on a text (or load one), score it, generate.

With no ``--corpus`` and no ``--model-dir`` it trains on the bundled public-domain
text (the Book of Genesis, King James Version) for about a minute, prints the
held-out perplexity next to a smoothed n-gram's, then streams generated text.
Everything it writes goes under ``runs/generate-<time>/`` (model, metrics, sample, training
curves and ``report.html``).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

from lstmkit.data.corpora import bundled_corpus, read_corpus, split_tail
from lstmkit.errors import ConfigError
from lstmkit.report.html import Section, write_report
from lstmkit.report.run_report import config_table, plot_training_curves, summary_table
from lstmkit.tasks.language_model import LanguageModel, UnknownTokensWarning
from lstmkit.utils.files import atomic_write_text

__all__ = ["register", "run"]

HELD_OUT = 0.1  # the corpus's tail kept for the reported perplexity
LEVELS = ("char", "word", "bpe", "subword", "symbol")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "generate", help="train a language model on a text (or the bundled one) and generate from it",
        description="Train an LSTM language model on --corpus (default: the bundled Book of Genesis, KJV), report "
                    "the held-out perplexity next to a Kneser-Ney n-gram, and generate text from --prompt. With "
                    "an existing --model-dir, load it instead of training.",
    )
    p.add_argument("--corpus", help="UTF-8 text file to train on (default: the bundled public-domain text)")
    p.add_argument("--level", choices=LEVELS, default="char",
                   help="tokens: characters, words, byte-level BPE subwords, or whitespace-separated symbols "
                        "(music, any symbolic sequence); default char")
    p.add_argument("--model-dir", help="load this model if it exists; otherwise train and save it here")
    p.add_argument("--prompt", default="", help="text to continue (default: start a new line)")
    p.add_argument("--length", type=int, default=300, help="tokens to generate (default 300)")
    p.add_argument("--temperature", type=float, default=0.8, help="sampling temperature; 0 is greedy (default 0.8)")
    p.add_argument("--top-k", type=int, help="sample among the k most likely tokens only")
    p.add_argument("--top-p", type=float, help="sample within the nucleus of probability p")
    p.add_argument("--seed", type=int, default=0, help="seed for training and sampling (default 0)")
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=20, help="most epochs (early stopping decides; default 20)")
    g.add_argument("--time-budget", type=float, default=None,
                   help="also stop training after this many seconds, keeping the best weights (default: none; "
                        "makes the result depend on the machine's speed and load)")
    g.add_argument("--hidden-size", type=int, default=None, help="LSTM units (default 128)")
    g.add_argument("--embedding-dim", type=int, default=None, help="embedding size (default 32 for char, "
                                                                    "the hidden size otherwise, tied)")
    g.add_argument("--layers", type=int, default=1, help="stacked LSTM layers (default 1)")
    g.add_argument("--bptt", type=int, default=None, help="truncated-BPTT chunk length (default 64 char, 32 otherwise)")
    g.add_argument("--batch-size", type=int, default=None,
                   help="contiguous streams trained side by side (default 32 for char, 16 otherwise)")
    g.add_argument("--lr", type=float, default=None, help="Adam learning rate")
    g.add_argument("--recurrent-dropout", type=float, default=0.0, help="variational dropout on the recurrent state")
    g.add_argument("--run-dir", help="folder for what the run writes (default: runs/generate-<time>)")
    p.set_defaults(run=run)


def _model_options(args) -> dict:
    for name in ("length", "epochs", "hidden_size", "embedding_dim", "layers", "bptt", "batch_size"):
        value = getattr(args, name)
        minimum = 0 if name == "length" else 1
        if value is not None and value < minimum:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= {minimum}, got {value}")
    if args.time_budget is not None and args.time_budget < 0:
        raise ConfigError(f"--time-budget must be >= 0 seconds, got {args.time_budget}")
    char = args.level == "char"
    hidden = args.hidden_size or 128
    embedding = args.embedding_dim or (32 if char else hidden)
    # measured on the bundled text with a 45 s budget: more dropout than this underfits in a minute
    return dict(
        level=args.level, hidden_size=hidden, embedding_dim=embedding, num_layers=args.layers,
        tie_weights=not char and embedding == hidden, bptt=args.bptt or (64 if char else 32),
        batch_size=args.batch_size or (32 if char else 16), lr=args.lr or 1e-2, max_epochs=args.epochs,
        recurrent_dropout=args.recurrent_dropout, dropout=0.2 if args.layers > 1 else 0.0,
        output_dropout=0.1 if char else 0.3, embedding_dropout=0.0,
        time_budget=args.time_budget or None, seed=args.seed,
    )


def run(args) -> int:
    started = time.perf_counter()
    run_dir = Path(args.run_dir or Path("runs") / time.strftime("generate-%Y%m%d-%H%M%S"))
    options = _model_options(args)
    model_dir = Path(args.model_dir) if args.model_dir else None
    metrics: dict = {}
    data: dict = {}
    if model_dir is not None and model_dir.exists() and not (model_dir / "manifest.json").is_file() and (
            not model_dir.is_dir() or any(model_dir.iterdir())):
        raise ConfigError(f"--model-dir {model_dir} exists and is not an lstmkit model directory; "
                          "give a saved model or a new path")
    if model_dir is not None and (model_dir / "manifest.json").is_file():
        lm = LanguageModel.load(model_dir)
        print(f"lstmkit generate: loaded the {lm.config.level}-level model in {model_dir}")
        data = {"model": f"loaded from {model_dir}"}
        if args.corpus:
            head, tail = split_tail(read_corpus(args.corpus), HELD_OUT)
            data.update({"scored on": args.corpus, "held-out characters": len(tail)})
            metrics = _score(lm, head, tail, f"the last {HELD_OUT:.0%} of {args.corpus}")
    else:
        if args.corpus:
            text, name = read_corpus(args.corpus), args.corpus
        else:
            text, name = bundled_corpus()
        head, tail = split_tail(text, HELD_OUT)
        data = {"corpus": name, "characters": len(text), "training characters": len(head),
                "held-out characters": len(tail)}
        lm = LanguageModel(**options)
        budget = f", at most {args.time_budget:.0f} s" if args.time_budget else ""
        print(f"lstmkit generate: training a {lm.config.level}-level LSTM ({options['hidden_size']} units) on "
              f"{len(head):,} characters of {name}{budget}; run folder {run_dir}", flush=True)
        lm.fit(head, verbose=True)
        if _has_two_tokens(lm, tail):
            metrics = _score(lm, head, tail, f"the held-out last {HELD_OUT:.0%} ({len(tail):,} characters)")
        else:
            print("note: the held-out tail is too short to score; give a longer corpus for a perplexity")
        model_dir = model_dir or run_dir / "model"
        lm.save(model_dir, metrics=metrics)

    sample = _generate(lm, args)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "sample.txt", sample + "\n")
    atomic_write_text(run_dir / "metrics.json", json.dumps({**metrics, "level": lm.config.level}, indent=2) + "\n")
    report = _report(lm, data, metrics, sample, args, run_dir)
    print(f"wrote {run_dir / 'sample.txt'}, {run_dir / 'metrics.json'}, {report} and the model in {model_dir} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0


def _report(lm: LanguageModel, data: dict, metrics: dict, sample: str, args, run_dir: Path) -> Path:
    """``report.html``: data, configuration, training curves, perplexity next to the n-gram, the sample."""
    sections = [Section("Data", tables=[summary_table({**data, "tokens": lm.config.level})]),
                Section("Configuration", tables=[config_table(lm.config)])]
    curves = plot_training_curves(lm.history, run_dir / "training.png",
                                  title="loss per epoch (solid: training, dashed: validation)")
    sections.append(Section("Training", images=[curves] if curves else [],
                            text=[] if curves else "no training log (a model saved without one)"))
    if metrics:
        table = pd.DataFrame({"perplexity": [metrics["perplexity"], metrics["ngram_perplexity"]],
                              "bits_per_char": [metrics["bits_per_char"], metrics["ngram_bits_per_char"]]},
                             index=pd.Index(["LSTM", f"{metrics['ngram_order']}-gram, Kneser-Ney"], name="model"))
        sections.append(Section("Held-out perplexity", tables=[table],
                                text=f"{metrics['tokens']:,} {lm.config.level} tokens; lower is better"))
    decoding = f"temperature {args.temperature}" + (f", top-k {args.top_k}" if args.top_k else "") + \
        (f", top-p {args.top_p}" if args.top_p else "") + f", seed {args.seed}"
    sections.append(Section("Generated sample", text=[f"{args.length} {lm.config.level} tokens ({decoding})"
                                                      + (f", prompt {args.prompt!r}" if args.prompt else ""), sample]))
    return write_report(run_dir / "report.html", f"lstmkit generate: {lm.config.level}-level language model",
                        sections)


def _has_two_tokens(lm: LanguageModel, text: str) -> bool:
    return bool(text.strip()) and len(lm.tokenizer.encode(text, add_special=False)) >= 2


def _score(lm: LanguageModel, head: str, tail: str, where: str) -> dict:
    r = lm.evaluate(tail, train_text=head)
    print(f"held-out perplexity on {where}, {r['tokens']:,} {lm.config.level} tokens:")
    print(f"  LSTM                      {r['perplexity']:9.3f}   ({r['bits_per_char']:.3f} bits/char)")
    print(f"  {r['ngram_order']}-gram, Kneser-Ney       {r['ngram_perplexity']:9.3f}   "
          f"({r['ngram_bits_per_char']:.3f} bits/char)", flush=True)
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()}


def _generate(lm: LanguageModel, args) -> str:
    prompt_ids = lm.tokenizer.encode(args.prompt, add_special=False) if args.prompt else []
    if len(prompt_ids) > lm.config.bptt:
        print(f"note: the prompt has {len(prompt_ids)} tokens, more than the {lm.config.bptt}-token training "
              "chunk; it is read in chunks with the state carried, so all of it counts", file=sys.stderr)
    start = lm.tokenizer.decode(lm.encode_prompt("")) if not args.prompt else ""
    shown = args.prompt or start.strip()  # with no prompt: the corpus's first token, or nothing for a new line
    print(f"--- {args.length} generated {lm.config.level} tokens (temperature {args.temperature}"
          + (f", top-k {args.top_k}" if args.top_k else "") + (f", top-p {args.top_p}" if args.top_p else "")
          + f", seed {args.seed}) ---")
    sys.stdout.write(shown)
    pieces = [shown]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownTokensWarning)
        for piece in lm.stream(args.prompt, args.length, temperature=args.temperature, top_k=args.top_k,
                               top_p=args.top_p, seed=args.seed):
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
