"""`lstmkit forecast`, `lstmkit backtest` and `lstmkit predict`.

``lstmkit forecast`` with no arguments runs the main job on the bundled monthly
sunspots: a rolling-origin backtest against the baselines, the metric table, then a
fit on all the data and the forecast of the next ``horizon`` months, written as CSV
and PNG under ``runs/``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from lstmkit.data import datasets, read_table
from lstmkit.errors import ConfigError, DataError
from lstmkit.report.forecast_plot import plot_forecast
from lstmkit.report.html import Section, write_report
from lstmkit.report.run_report import config_table, plot_training_curves, summary_table
from lstmkit.report.tables import print_table
from lstmkit.tasks import Forecaster
from lstmkit.utils.files import atomic_path, atomic_write_text

__all__ = ["register"]

DEMO = {"dataset": "sunspots", "target": "sunspots", "time_col": "month"}


def register(subparsers) -> None:
    forecast = subparsers.add_parser(
        "forecast", help="fit on a CSV/Parquet file (or the bundled sunspots) and forecast the next steps",
        description="Fit an LSTM forecaster, backtest it against naive, seasonal naive, drift, ETS and Theta, "
                    "and forecast the steps after the data's end. With no --data: the bundled monthly sunspots.",
    )
    _data_options(forecast, required=False)
    _model_options(forecast)
    forecast.add_argument("--windows", type=int, default=3, help="backtest origins before the final fit (0: none)")
    forecast.add_argument("--output", help="forecast CSV path (default: forecast.csv in the run folder)")
    forecast.add_argument("--model-dir", help="save the fitted model here (default: model/ in the run folder)")
    forecast.add_argument("--run-dir", help="folder for everything the run writes (default: runs/forecast-<time>)")
    forecast.add_argument("--future", help="CSV/Parquet with the future covariates of the forecast steps")
    forecast.set_defaults(run=run_forecast)

    backtest = subparsers.add_parser(
        "backtest", help="rolling-origin backtest of the forecaster and the baselines",
        description="Refit on K rolling origins and print the metric table of lstmkit and the baselines.",
    )
    _data_options(backtest, required=False)
    _model_options(backtest)
    backtest.add_argument("--windows", type=int, default=3, help="number of origins K")
    backtest.add_argument("--json", action="store_true", help="print the summary table as JSON")
    backtest.set_defaults(run=run_backtest)

    predict = subparsers.add_parser(
        "predict", help="forecast with a saved model from newer data (no refit)",
        description="Load a model saved by `lstmkit forecast` and forecast after the end of --data.",
    )
    predict.add_argument("--model-dir", required=True, help="a model directory written by `lstmkit forecast`")
    predict.add_argument("--data", help="newer history (default: the data the model was fitted on)")
    predict.add_argument("--future", help="CSV/Parquet with the future covariates of the forecast steps")
    predict.add_argument("--output", help="forecast CSV path (default: print it)")
    predict.set_defaults(run=run_predict)


def _data_options(parser, required: bool) -> None:
    g = parser.add_argument_group("data")
    g.add_argument("--data", required=required, help="CSV or Parquet file (default: the bundled monthly sunspots)")
    g.add_argument("--target", help="column(s) to forecast, comma-separated")
    g.add_argument("--time-col", help="time column")
    g.add_argument("--id-col", help="series-id column (many series, one global model)")
    g.add_argument("--past-covariates", default="", help="comma-separated columns known only up to the origin")
    g.add_argument("--future-covariates", default="", help="comma-separated columns known ahead")
    g.add_argument("--calendar", action="store_true", help="add calendar features of the time column")
    g.add_argument("--fill", choices=["interpolate", "ffill"], help="fill missing values instead of failing")


def _model_options(parser) -> None:
    g = parser.add_argument_group("model")
    g.add_argument("--horizon", type=int, default=None, help="steps to forecast (default: the seasonal period, "
                                                              "or 12)")
    g.add_argument("--lookback", type=int, help="input steps (default: max(2*horizon, 3*season))")
    g.add_argument("--seasonal-period", type=int, help="m, for seasonal naive and MASE (default: from the time "
                                                        "column)")
    g.add_argument("--quantiles", default="0.1,0.5,0.9", help="comma-separated quantiles (default 0.1,0.5,0.9)")
    g.add_argument("--ensemble", type=int, help="networks averaged (default: 10 on small data, 3 on large)")
    g.add_argument("--epochs", type=int, default=100, help="maximum epochs per network (early stopping decides)")
    g.add_argument("--strategy", choices=["direct", "recursive"], default="direct")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--no-statistical", action="store_true", help="skip the ETS and Theta baselines")


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(s.strip() for s in (text or "").split(",") if s.strip())


def _load(args) -> tuple[pd.DataFrame, dict]:
    """The data and the column options; with no --data, the bundled demo."""
    if args.data is None:
        if args.target or args.id_col:
            raise ConfigError("--target/--id-col describe a --data file; give --data too")
        return datasets.load(DEMO["dataset"]), {"target": DEMO["target"], "time_col": DEMO["time_col"]}
    frame = read_table(args.data)
    target = _split(args.target)
    if not target:
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and c not in
                   (args.time_col, args.id_col)]
        raise ConfigError(f"--target is required with --data; numeric columns in {args.data}: {numeric}")
    columns = {"target": target[0] if len(target) == 1 else target, "time_col": args.time_col, "id_col": args.id_col}
    return frame, columns


def _forecaster(args, columns: dict, frame: pd.DataFrame) -> Forecaster:
    for name in ("windows", "epochs", "horizon", "lookback", "ensemble", "seasonal_period"):
        value = getattr(args, name, None)
        if value is not None and value < (0 if name == "windows" else 1):
            raise ConfigError(f"--{name.replace('_', '-')} must be {'>= 0' if name == 'windows' else '>= 1'}, "
                              f"got {value}")
    try:
        quantiles = tuple(float(q) for q in _split(args.quantiles))
    except ValueError:
        raise ConfigError(f"--quantiles must be comma-separated numbers, got {args.quantiles!r}") from None
    horizon = args.horizon or _default_horizon(frame, columns, args.seasonal_period)
    return Forecaster(
        horizon=horizon, lookback=args.lookback, seasonal_period=args.seasonal_period, quantiles=quantiles,
        ensemble=args.ensemble, max_epochs=args.epochs, strategy=args.strategy, seed=args.seed,
        past_covariates=_split(args.past_covariates), future_covariates=_split(args.future_covariates),
        calendar=args.calendar, fill=args.fill, **columns,
    )


def _default_horizon(frame, columns, m) -> int:
    if m:
        return max(m, 1) if m > 1 else 12
    time_col = columns.get("time_col")
    if time_col:
        from lstmkit.data import infer_frequency, infer_seasonal_period

        try:
            times = pd.to_datetime(frame[time_col].drop_duplicates().sort_values())
            season = infer_seasonal_period(infer_frequency(times))
        except (ValueError, TypeError, DataError):
            season = 1
        if season > 1:
            return season
    return 12


def run_forecast(args) -> int:
    started = time.perf_counter()
    frame, columns = _load(args)
    model = _forecaster(args, columns, frame)
    run_dir = Path(args.run_dir or Path("runs") / time.strftime("forecast-%Y%m%d-%H%M%S"))
    name = args.data or f"bundled {DEMO['dataset']} ({len(frame)} points)"
    print(f"lstmkit forecast: {name}, horizon {model.config.horizon}, run folder {run_dir}")

    result = None
    if args.windows:
        print(f"backtest: {args.windows} rolling origins, each a fresh fit on the data before it")
        result = model.backtest(frame, windows=args.windows, statistical=not args.no_statistical, verbose=True)
        print_table(result.summary, title=f"Backtest, {args.windows} windows of {model.config.horizon} steps "
                                          "(lower is better; coverage_80 ideal 0.80)")
        with atomic_path(run_dir / "backtest.csv") as tmp:
            result.per_window.to_csv(tmp, index=False)
        atomic_write_text(run_dir / "backtest.json", result.summary.reset_index().to_json(orient="records",
                                                                                          indent=2))

    print(f"final fit on all {len(frame)} rows")
    model.fit(frame)
    future = read_table(args.future) if args.future else None
    forecast = model.predict(future=future)
    output = Path(args.output) if args.output else run_dir / "forecast.csv"
    with atomic_path(output) as tmp:
        forecast.to_csv(tmp, index=False)
    model_dir = Path(args.model_dir) if args.model_dir else run_dir / "model"
    model.save(model_dir)
    validated = model.validated(frame)
    plot = plot_forecast(validated, forecast, model.config, run_dir / "forecast.png", backtest=result)
    sections = [Section("Data", text=name, tables=[summary_table(_data_summary(validated, model.config))]),
                Section("Configuration", tables=[config_table(model.config)])]
    if result is not None:
        sections.append(Section("Backtest", text=f"{args.windows} rolling origins, each a fresh fit on the data "
                                                 "before it; lower is better", tables=[result.summary]))
    sections.append(Section("Forecast", text=f"{name}: {model.config.horizon} steps ahead", tables=[forecast],
                            images=[plot]))
    curves = plot_training_curves(model.history, run_dir / "training.png",
                                  title="final fit: loss per epoch (solid: training, dashed: validation)")
    sections.append(Section("Training", text=f"{len(model.history)} ensemble member(s) of the final fit; "
                                             "early stopping keeps each member's best validation epoch",
                            images=[curves] if curves else []))
    sections.append(_inside_section(model, future, run_dir / "gates.png"))
    report = write_report(run_dir / "report.html", f"lstmkit forecast: {name}", sections)
    print(f"wrote {output}, {plot}, {report} and the model in {model_dir} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0


def _data_summary(frame: pd.DataFrame, config) -> dict:
    """Rows, series, time span and frequency of the validated data, for the report."""
    id_col, time_col = config.id_col, config.time_col
    summary = {"rows": len(frame), "series": frame[id_col].nunique() if id_col else 1,
               "targets": list(config.targets)}
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


def _inside_section(model: Forecaster, future, path: Path) -> Section:
    """The gates and cell state of the first ensemble member's encoder LSTM on the last input window."""
    import torch

    from lstmkit.explain import plot_gates, record_lstm

    encoder = model._nets[0].encoder
    past, _ = model.network_inputs(future=future)
    was_training = encoder.training
    encoder.eval()
    try:
        recording = record_lstm(encoder, torch.from_numpy(past[:1]))
    finally:
        encoder.train(was_training)
    series = " of the first series" if model.config.id_col else ""
    gates = plot_gates(recording, path)
    return Section("Inside the network", images=[gates], text=(
        f"The first ensemble member's encoder LSTM (layer 0) reading the last {past.shape[1]}-step input window"
        f"{series} (scaled, targets relative to the window's last value), the window the forecast starts from: "
        "gates on a 0-1 scale, candidate, cell and hidden state around zero."))


def run_backtest(args) -> int:
    frame, columns = _load(args)
    model = _forecaster(args, columns, frame)
    result = model.backtest(frame, windows=args.windows, statistical=not args.no_statistical,
                            verbose=not args.json)
    if args.json:
        print(json.dumps(result.summary.reset_index().to_dict(orient="records"), indent=2, default=float))
    else:
        print_table(result.summary, title=f"Backtest, {args.windows} windows of {model.config.horizon} steps")
    return 0


def run_predict(args) -> int:
    model = Forecaster.load(args.model_dir)
    data = read_table(args.data) if args.data else None
    future = read_table(args.future) if args.future else None
    forecast = model.predict(data, future=future)
    if args.output:
        with atomic_path(args.output) as tmp:
            forecast.to_csv(tmp, index=False)
        print(f"wrote {args.output}")
    else:
        print(forecast.to_string(index=False))
    return 0
