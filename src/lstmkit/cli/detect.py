"""`lstmkit detect`: fit an anomaly detector on the first rows, score and flag every row.

With no ``--data`` it runs on the bundled monthly sunspots with labelled, injected
anomalies (spikes and level shifts after the training half; see `lstmkit.data.synthetic.anomaly_demo`
and ``lstmkit/data/datasets/README.md``), and prints precision/recall/F1 beside the
rolling z-score baseline. It writes ``detections.csv``, ``detections.png``, ``training.png``
and ``report.html`` under ``runs/detect-<time>/``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
    training_options,
    write_run_json,
)
from lstmkit.cli.resume import add_run_options, start_checkpoints
from lstmkit.errors import ConfigError, DataError

__all__ = ["register", "run"]
CONFIG = [("", "AnomalyDetectorConfig")]
# lstmkit.tasks.anomaly.METHODS and SCORINGS, without importing torch for the help
METHODS = ("autoencoder", "forecast")
SCORINGS = ("raw", "robust")
MODEL = [
    Opt(
        "--method",
        ("method",),
        "what the network learns: to rebuild each window, or to forecast the next step",
        None,
        METHODS,
    ),
    Opt("--window-length", ("window",), "steps in each input window", int, minimum=1),
    Opt("--hidden-size", ("hidden_size",), "LSTM units", int, minimum=1),
    Opt("--cell", ("cell",), "recurrent cell", None, ("lstm", "gru", "rnn")),
    Opt(
        "--scoring",
        ("scoring",),
        "score: each error against the median/MAD of the recent errors (robust), or the squared error (raw)",
        None,
        SCORINGS,
    ),
    Opt("--scale-window", ("scale_window",), "earlier errors in the robust median and MAD", int, minimum=2),
    Opt("--threshold-quantile", ("quantile",), "threshold: this quantile of the training scores", float),
    Opt(
        "--false-alarm-rate",
        ("false_alarm_rate",),
        "threshold for this share of flagged training steps, instead of --threshold-quantile",
        float,
        note=": use --threshold-quantile",
    ),
    *training_options(dropout=False),
]


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "detect",
        parents=parents,
        help="flag anomalies in a series (or a bundled labelled demo)",
        description="Fit an LSTM anomaly detector on the first rows, write score and is_anomaly for every row, "
        "and with labels print precision/recall/F1 next to a rolling z-score baseline. "
        "With no --data: the bundled sunspots with injected, labelled anomalies.",
    )
    data = p.add_argument_group("data")
    data.add_argument("--data", "--train", dest="data", help="CSV or Parquet file (default: the bundled labelled demo)")
    data.add_argument("--target", help="value column(s), comma-separated (default: none; required with --data)")
    data.add_argument(
        "--label-col", help="0/1 column of known anomalies, for the metrics, not a model input (default: none)"
    )
    data.add_argument("--time-col", help="time column (default: none)")
    data.add_argument(
        "--train-until", help="train on rows before this row number, or up to this time (default: the first half)"
    )
    data.add_argument(
        "--fill", choices=["interpolate", "ffill"], help="fill missing values instead of failing (default: fail)"
    )
    add_job_options(p.add_argument_group("model"), MODEL, CONFIG)
    out = p.add_argument_group("output")
    out.add_argument("--output", help="CSV path (default: detections.csv in the run folder)")
    out.add_argument("--model-dir", help="save the trained detector here (default: model/ in the run folder)")
    add_run_options(out, "detect", "the outputs")
    p.set_defaults(run=run)


def _load(args) -> tuple:
    """The frame, target columns, time column, label column and a name for messages."""
    import pandas as pd

    from lstmkit.data import read_table

    if args.data is None:
        if args.target or args.label_col or args.time_col:
            raise ConfigError("--target/--label-col/--time-col describe a --data file; give --data too")
        from lstmkit.data.synthetic import DEMO_SEED, anomaly_demo

        frame = anomaly_demo()
        return (
            frame,
            ["sunspots"],
            "month",
            "is_anomaly",
            f"bundled sunspots with injected anomalies ({len(frame)} points, seed {DEMO_SEED})",
        )
    frame = read_table(args.data)
    targets = [s.strip() for s in (args.target or "").split(",") if s.strip()]
    if not targets:
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        raise ConfigError(f"--target is required with --data; numeric columns in {args.data}: {numeric}")
    for col, option in [
        *((t, "--target") for t in targets),
        (args.label_col, "--label-col"),
        (args.time_col, "--time-col"),
    ]:
        if col is not None and col not in frame.columns:
            raise DataError(f"{option} {col!r} is not a column of {args.data}; columns: {list(frame.columns)}")
    return frame, targets, args.time_col, args.label_col, str(args.data)


def _train_rows(frame, until: str | None, time_col: str | None) -> int:
    """How many leading rows to train on."""
    import pandas as pd

    n = len(frame)
    if until is None:
        return n // 2
    if until.strip().isdigit():
        rows = int(until)
    else:
        if time_col is None:
            raise ConfigError(f"--train-until {until!r} is not a row number; a time needs --time-col")
        try:
            times, limit = pd.to_datetime(frame[time_col]), pd.Timestamp(until)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"--train-until {until!r}: cannot compare with column {time_col!r}: {e}") from None
        rows = int((times <= limit).sum())
    if not 0 < rows < n:
        raise ConfigError(
            f"--train-until {until!r} leaves {rows} training rows of {n}; it must leave some rows on each side"
        )
    return rows


def _labels(frame, col: str):
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(frame[col], errors="coerce")
    bad = ~values.isin([0, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"--label-col {col!r} must hold 0 or 1 in every row; row {row} has {frame[col].iloc[row]!r}")
    return values.to_numpy(dtype=np.int64)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from lstmkit.evaluate.anomaly import anomaly_metrics, zscore_flags
    from lstmkit.report.tables import print_table
    from lstmkit.tasks.anomaly import AnomalyDetector, AnomalyDetectorConfig
    from lstmkit.utils.files import atomic_path

    clock = RunClock()
    check_output_file(args.output)
    if args.model_dir:
        check_model_dir(Path(args.model_dir))
    options = job_kwargs(args, MODEL)
    frame, targets, time_col, label_col, name = _load(args)
    n_train = _train_rows(frame, args.train_until, time_col)
    run_dir = new_run_dir("detect", args.run_dir)
    start_checkpoints(run_dir, args, "detect")
    detector = AnomalyDetector(
        target=targets[0] if len(targets) == 1 else tuple(targets),
        time_col=time_col,
        fill=args.fill,
        **options,
        **job_constructor_kwargs(args, AnomalyDetectorConfig),
    )
    c = detector.config
    print(
        f"lstmkit detect: {name}; {c.method} method, training on the first {n_train} of {len(frame)} rows, "
        f"run folder {run_dir}"
    )
    detector.fit(frame.iloc[:n_train], **fit_kwargs(args, detector.fit))
    model_dir = Path(args.model_dir) if args.model_dir else run_dir / "model"
    detector.save(model_dir)  # first: nothing that can fail after the fit loses it
    # scored from the first row, so the forecast method's state has the history behind it
    detections = detector.predict(frame)
    output = Path(args.output) if args.output else run_dir / "detections.csv"
    with atomic_path(output) as tmp:
        frame.assign(
            score=detections["score"].to_numpy(), is_anomaly=detections["is_anomaly"].to_numpy().astype(int)
        ).to_csv(tmp, index=False)
    flagged = detections["is_anomaly"].to_numpy()
    print(
        f"threshold {detector.threshold:.4f}: {int(flagged[n_train:].sum())} of {len(frame) - n_train} rows "
        "after training flagged"
    )

    table = None
    if label_col is not None:
        labels = _labels(frame, label_col)
        values = detector.validated(frame)[targets].to_numpy(float)
        level = 1 - c.false_alarm_rate if c.false_alarm_rate is not None else c.quantile
        z_flags = zscore_flags(values, n_train, window=c.window, level=level)  # the same window and level
        test = slice(n_train, None)  # metrics on the rows the detector never trained on
        table = pd.DataFrame(
            [anomaly_metrics(labels[test], flagged[test]), anomaly_metrics(labels[test], z_flags[test])],
            index=pd.Index([f"lstmkit {c.method}", "rolling z-score"], name="method"),
        )
        print_table(
            table,
            title=f"Rows after training ({len(frame) - n_train}, {int(labels[n_train:].sum())} labelled anomalous)",
        )
    labelled = _labels(frame, label_col) if label_col is not None else None
    from lstmkit.report.anomaly_plot import plot_detections

    threshold = detector.threshold
    assert threshold is not None  # fit sets it
    plot = plot_detections(
        frame, targets, time_col, detections, threshold, n_train, run_dir / "detections.png", labelled
    )
    config = resolved_config(detector)
    report = _report(detector, config, frame, targets, time_col, name, n_train, flagged, table, plot, run_dir, clock)
    write_run_json(run_dir, "detect", config, clock)
    print(f"wrote {output}, {plot}, {report} and the detector in {model_dir} ({clock.seconds():.1f} s)")
    return 0


def _report(
    detector, config, frame, targets, time_col, name, n_train, flagged, table, plot, run_dir: Path, clock
) -> Path:
    """``report.html``: data, configuration, training curves, the detections figure and the metric table."""
    import pandas as pd

    from lstmkit.report.html import Section, write_report
    from lstmkit.report.run_report import (
        config_table,
        plot_training_curves,
        summary_table,
    )

    data = {"rows": len(frame), "training rows": n_train, "targets": targets}
    if time_col:
        times = pd.to_datetime(frame[time_col])
        data["time span"] = f"{times.min()} to {times.max()}"
        try:
            from lstmkit.data import infer_frequency

            data["frequency"] = infer_frequency(times) or "irregular"
        except (ValueError, TypeError, DataError):
            data["frequency"] = "irregular"
    sections = [
        Section("Data", text=name, tables=[summary_table(data)]),
        Section("Configuration", tables=[config_table(config)]),
    ]
    curves = plot_training_curves(
        detector.fitted_["history"],
        run_dir / "training.png",
        title="loss per epoch (solid: training, dashed: validation)",
    )
    sections.append(Section("Training", images=[curves] if curves else []))
    text = (
        f"threshold {detector.threshold:.4g}: {int(flagged[n_train:].sum())} of {len(frame) - n_train} rows after "
        "training flagged"
    )
    tables = []
    if table is not None:
        text += "; metrics on the rows after training, next to a rolling z-score baseline"
        tables.append(table)
    sections.append(Section("Detections", text=text, tables=tables, images=[plot]))
    return write_report(run_dir / "report.html", f"lstmkit detect: {name}", [*sections, run_section(clock)])
