"""`lstmkit forecast` and `lstmkit backtest` (forecasting with a saved model: `lstmkit predict`).

``lstmkit forecast`` with no arguments runs the main job on the bundled monthly
sunspots: a rolling-origin backtest against the baselines, the metric table, then a
fit on all the data and the forecast of the next ``horizon`` months, written as CSV
and PNG under ``runs/``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lstmkit.cli.options import (
    ConfigDefault,
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
from lstmkit.errors import ConfigError, DataError

__all__ = ["register"]

DEMO = {"dataset": "sunspots", "target": "sunspots", "time_col": "month"}
CONFIG = [("", "ForecasterConfig")]


def names(text: str) -> tuple[str, ...]:
    """``"a, b"`` -> ``("a", "b")``: a comma-separated option."""
    return tuple(s.strip() for s in text.split(",") if s.strip())


def floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(q) for q in names(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


MODEL = [
    Opt("--lookback", ("lookback",), "input steps", int, minimum=1, note=": max(2*horizon, 3*season), chosen by fit"),
    Opt(
        "--seasonal-period",
        ("seasonal_period",),
        "m, for seasonal naive and MASE",
        int,
        minimum=1,
        note=": from the time column",
    ),
    Opt("--quantiles", ("quantiles",), "comma-separated quantiles", floats),
    Opt("--ensemble", ("ensemble",), "networks averaged", int, minimum=1, note=": 10 on small data, 3 on large"),
    Opt("--strategy", ("strategy",), "multi-step strategy", None, ("direct", "recursive")),
    *size_options(),
    *training_options(),
]


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    forecast = subparsers.add_parser(
        "forecast",
        parents=parents,
        help="fit on a CSV/Parquet file (or the bundled sunspots) and forecast the next steps",
        description="Fit an LSTM forecaster, backtest it against naive, seasonal naive, drift, ETS and Theta, "
        "and forecast the steps after the data's end. With no --data: the bundled monthly sunspots.",
    )
    _data_options(forecast)
    _model_options(forecast)
    out = forecast.add_argument_group("output")
    out.add_argument(
        "--windows", type=int, default=3, help="backtest origins before the final fit, 0: none (default 3)"
    )
    out.add_argument("--future", help="CSV/Parquet with the future covariates of the forecast steps (default: none)")
    out.add_argument("--output", help="forecast CSV path (default: forecast.csv in the run folder)")
    out.add_argument("--model-dir", help="save the trained model here (default: model/ in the run folder)")
    add_run_options(out, "forecast")
    forecast.set_defaults(run=run_forecast)

    backtest = subparsers.add_parser(
        "backtest",
        parents=parents,
        help="rolling-origin backtest of the forecaster and the baselines",
        description="Refit on K rolling origins and print the metric table of lstmkit and the baselines.",
    )
    _data_options(backtest)
    _model_options(backtest)
    out = backtest.add_argument_group("output")
    out.add_argument("--windows", type=int, default=3, help="number of origins K (default 3)")
    out.add_argument("--json", action="store_true", help="print the summary table as JSON (default: a table)")
    backtest.set_defaults(run=run_backtest)


def _data_options(parser) -> None:
    g = parser.add_argument_group("data")
    g.add_argument(
        "--data", "--train", dest="data", help="CSV or Parquet file to train on (default: the bundled monthly sunspots)"
    )
    g.add_argument("--target", help="column(s) to forecast, comma-separated (default: none; required with --data)")
    g.add_argument("--time-col", help="time column (default: none, positions)")
    g.add_argument("--id-col", help="series-id column: many series, one global model (default: none, one series)")
    g.add_argument(
        "--past-covariates",
        type=names,
        default=(),
        help="comma-separated columns known only up to the origin (default: none)",
    )
    g.add_argument(
        "--future-covariates", type=names, default=(), help="comma-separated columns known ahead (default: none)"
    )
    g.add_argument("--calendar", action="store_true", help="add calendar features of the time column (default: off)")
    g.add_argument(
        "--fill", choices=["interpolate", "ffill"], help="fill missing values instead of failing (default: fail)"
    )


def _model_options(parser) -> None:
    g = parser.add_argument_group("model")
    horizon = g.add_argument(
        "--horizon",
        type=int,
        default=argparse.SUPPRESS,
        help="steps to forecast (default here: the seasonal period inferred from the time column, or 12; unlike "
        "Python's Forecaster, whose default is %(config_default)s, the command reads it from the data)",
    )
    horizon.config_default = ConfigDefault(CONFIG, "horizon")
    add_job_options(g, MODEL, CONFIG)
    g.add_argument("--no-statistical", action="store_true", help="skip the ETS and Theta baselines (default: run them)")


def _load(args):
    """The data and the column options; with no --data, the bundled demo."""
    import pandas as pd

    from lstmkit.data import datasets, read_table

    if args.data is None:
        if args.target or args.id_col:
            raise ConfigError("--target/--id-col describe a --data file; give --data too")
        return datasets.load(DEMO["dataset"]), {"target": DEMO["target"], "time_col": DEMO["time_col"]}
    frame = read_table(args.data)
    target = names(args.target or "")
    if not target:
        numeric = [
            c
            for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c]) and c not in (args.time_col, args.id_col)
        ]
        raise ConfigError(f"--target is required with --data; numeric columns in {args.data}: {numeric}")
    columns = {"target": target[0] if len(target) == 1 else target, "time_col": args.time_col, "id_col": args.id_col}
    return frame, columns


def _forecaster(args, columns: dict, frame):
    from lstmkit.tasks import Forecaster, ForecasterConfig

    if args.windows < 0:
        raise ConfigError(f"--windows must be >= 0, got {args.windows}")
    options = job_kwargs(args, MODEL)
    horizon = getattr(args, "horizon", None)
    if horizon is not None and horizon < 1:
        raise ConfigError(f"--horizon must be >= 1, got {horizon}")
    horizon = horizon or _default_horizon(frame, columns, options.get("seasonal_period"))
    return Forecaster(
        horizon=horizon,
        past_covariates=args.past_covariates,
        future_covariates=args.future_covariates,
        calendar=args.calendar,
        fill=args.fill,
        **columns,
        **options,
        **job_constructor_kwargs(args, ForecasterConfig),
    )


def _default_horizon(frame, columns, m) -> int:
    if m:
        return max(m, 1) if m > 1 else 12
    time_col = columns.get("time_col")
    if time_col:
        import pandas as pd

        from lstmkit.data import infer_frequency, infer_seasonal_period

        try:
            times = pd.to_datetime(frame[time_col].drop_duplicates().sort_values())
            season = infer_seasonal_period(infer_frequency(times))
        except (ValueError, TypeError, DataError):
            season = 1
        if season > 1:
            return season
    return 12


def run_forecast(args: argparse.Namespace) -> int:
    from lstmkit.data import read_table
    from lstmkit.report.forecast_plot import plot_forecast
    from lstmkit.report.html import Section, write_report
    from lstmkit.report.run_report import (
        config_table,
        plot_training_curves,
        summary_table,
    )
    from lstmkit.report.tables import print_table
    from lstmkit.utils.files import atomic_path, atomic_write_text

    clock = RunClock()
    check_output_file(args.output)
    if args.model_dir:
        check_model_dir(Path(args.model_dir))
    frame, columns = _load(args)
    model = _forecaster(args, columns, frame)
    run_dir = new_run_dir("forecast", args.run_dir)
    start_checkpoints(run_dir, args, "forecast")
    name = args.data or f"bundled {DEMO['dataset']} ({len(frame)} points)"
    print(f"lstmkit forecast: {name}, horizon {model.config.horizon}, run folder {run_dir}")

    result = None
    if args.windows:
        print(f"backtest: {args.windows} rolling origins, each a fresh fit on the data before it")
        result = model.backtest(
            frame, windows=args.windows, statistical=not args.no_statistical, **fit_kwargs(args, model.backtest)
        )
        print_table(
            result.summary,
            title=f"Backtest, {args.windows} windows of {model.config.horizon} steps "
            "(lower is better; coverage_80 ideal 0.80)",
        )
        with atomic_path(run_dir / "backtest.csv") as tmp:
            result.per_window.to_csv(tmp, index=False)
        atomic_write_text(run_dir / "backtest.json", result.summary.reset_index().to_json(orient="records", indent=2))

    print(f"final fit on all {len(frame)} rows")
    model.fit(frame, **fit_kwargs(args, model.fit))
    model_dir = Path(args.model_dir) if args.model_dir else run_dir / "model"
    model.save(model_dir)  # first: nothing that can fail after the fit loses it
    future = read_table(args.future) if args.future else None
    forecast = model.predict(future=future)
    output = Path(args.output) if args.output else run_dir / "forecast.csv"
    with atomic_path(output) as tmp:
        forecast.to_csv(tmp, index=False)
    validated = model.validated(frame)
    config = resolved_config(model)
    plot = plot_forecast(validated, forecast, model.config, run_dir / "forecast.png", backtest=result)
    sections = [
        Section("Data", text=name, tables=[summary_table(_data_summary(validated, model.config))]),
        Section("Configuration", tables=[config_table(config)]),
    ]
    if result is not None:
        sections.append(
            Section(
                "Backtest",
                text=f"{args.windows} rolling origins, each a fresh fit on the data before it; lower is better",
                tables=[result.summary],
            )
        )
    sections.append(
        Section("Forecast", text=f"{name}: {model.config.horizon} steps ahead", tables=[forecast], images=[plot])
    )
    curves = plot_training_curves(
        model.history, run_dir / "training.png", title="final fit: loss per epoch (solid: training, dashed: validation)"
    )
    sections.append(
        Section(
            "Training",
            text=f"{len(model.history)} ensemble member(s) of the final fit; "
            "early stopping keeps each member's best validation epoch",
            images=[curves] if curves else [],
        )
    )
    sections.append(_inside_section(model, future, run_dir / "gates.png"))
    report = write_report(run_dir / "report.html", f"lstmkit forecast: {name}", [*sections, run_section(clock)])
    write_run_json(run_dir, "forecast", config, clock)
    print(f"wrote {output}, {plot}, {report} and the model in {model_dir} ({clock.seconds():.0f} s)")
    return 0


def _data_summary(frame, config) -> dict:
    """Rows, series, time span and frequency of the validated data, for the report."""
    import pandas as pd

    id_col, time_col = config.id_col, config.time_col
    summary = {"rows": len(frame), "series": frame[id_col].nunique() if id_col else 1, "targets": list(config.targets)}
    if time_col:
        times = pd.to_datetime(frame[time_col])
        summary["time span"] = f"{times.min()} to {times.max()}"
        first = times if id_col is None else times[frame[id_col] == frame[id_col].iloc[0]]
        try:
            from lstmkit.data import infer_frequency

            summary["frequency"] = infer_frequency(first.drop_duplicates().sort_values()) or "irregular"
        except (ValueError, TypeError, DataError):
            summary["frequency"] = "irregular"
    else:
        summary["time span"] = f"positions 0 to {len(frame) - 1}" if id_col is None else "positions (no time column)"
        summary["frequency"] = "- (no time column)"
    return summary


def _inside_section(model, future, path: Path):
    """The gates and cell state of the first ensemble member's encoder LSTM on the last input window."""
    import torch

    from lstmkit.explain import plot_gates, record_lstm
    from lstmkit.report.html import Section

    encoder = model.networks[0].encoder
    past, _ = model.network_inputs(future=future)
    was_training = encoder.training
    encoder.eval()
    try:
        recording = record_lstm(encoder, torch.from_numpy(past[:1]))
    finally:
        encoder.train(was_training)
    series = " of the first series" if model.config.id_col else ""
    gates = plot_gates(recording, path)
    return Section(
        "Inside the network",
        images=[gates],
        text=(
            f"The first ensemble member's encoder LSTM (layer 0) reading the last {past.shape[1]}-step input window"
            f"{series} (scaled, targets relative to the window's last value), the window the forecast starts from: "
            "gates on a 0-1 scale, candidate, cell and hidden state around zero."
        ),
    )


def run_backtest(args: argparse.Namespace) -> int:
    from lstmkit.report.tables import print_table

    frame, columns = _load(args)
    model = _forecaster(args, columns, frame)
    # with --json, standard output is the JSON alone
    quiet = argparse.Namespace(quiet=args.quiet or args.json)
    result = model.backtest(
        frame, windows=args.windows, statistical=not args.no_statistical, **fit_kwargs(quiet, model.backtest)
    )
    if args.json:
        print(json.dumps(result.summary.reset_index().to_dict(orient="records"), indent=2, default=float))
    else:
        print_table(result.summary, title=f"Backtest, {args.windows} windows of {model.config.horizon} steps")
    return 0
