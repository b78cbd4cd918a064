"""The shared pieces of a run's report: training curves and key/value tables."""

import dataclasses

import pytest

from lstmkit.report import Section, write_report
from lstmkit.report.run_report import config_table, plot_training_curves, summary_table
from lstmkit.tasks.forecasting import ForecasterConfig

PNG = b"\x89PNG\r\n\x1a\n"


def _log(epochs, val=True):
    return [
        {"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e if val else None, "lr": 0.01}
        for e in range(1, epochs + 1)
    ]


@pytest.mark.parametrize(
    "history",
    [
        _log(5),  # one training log
        [_log(5), _log(3)],  # one per ensemble member, of different lengths
        [_log(4, val=False)],  # no validation data
        [_log(1)],  # a single epoch
    ],
)
def test_training_curves_are_a_png(tmp_path, history):
    path = plot_training_curves(history, tmp_path / "sub" / "training.png")
    assert path == tmp_path / "sub" / "training.png"
    assert path.read_bytes().startswith(PNG) and path.stat().st_size > 5_000
    assert [p.name for p in path.parent.iterdir()] == ["training.png"]  # written atomically


def test_no_history_draws_nothing(tmp_path):
    assert plot_training_curves([], tmp_path / "t.png") is None
    assert plot_training_curves([[]], tmp_path / "t.png") is None
    assert not (tmp_path / "t.png").exists()


def test_malformed_history_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="per-epoch dicts"):
        plot_training_curves([1, 2], tmp_path / "t.png")


def test_config_table_from_a_task_config_a_dataclass_or_a_mapping():
    config = ForecasterConfig(target="y", horizon=6, quantiles=(0.1, 0.5, 0.9))
    table = config_table(config)
    assert table.columns.tolist() == ["option", "value"]
    values = dict(zip(table["option"], table["value"]))
    assert values["horizon"] == "6" and values["quantiles"] == "0.1, 0.5, 0.9" and values["target"] == "y"
    assert len(table) == len(config.to_dict())

    @dataclasses.dataclass
    class Plain:
        size: int = 3
        names: tuple = ()
        extra: object = None

    assert config_table(Plain()).to_dict("records") == [
        {"option": "size", "value": "3"},
        {"option": "names", "value": "(none)"},
        {"option": "extra", "value": "-"},
    ]
    assert config_table({"lr": 0.01})["value"].tolist() == ["0.01"]
    with pytest.raises(TypeError, match="to_dict"):
        config_table(42)


def test_tables_and_curves_go_into_a_report(tmp_path):
    curves = plot_training_curves([_log(3), _log(3)], tmp_path / "training.png")
    summary = summary_table({"rows": 144, "series": 1, "targets": ["passengers"], "frequency": "MS"})
    assert summary.to_dict("records")[2] == {"item": "targets", "value": "passengers"}
    page = write_report(
        tmp_path / "report.html",
        "run",
        [
            Section("Data", tables=[summary]),
            Section("Configuration", tables=[config_table({"horizon": 12})]),
            Section("Training", images=[curves]),
        ],
    ).read_text()
    assert "<td>frequency</td>" in page and "<td>MS</td>" in page and "<td>horizon</td>" in page
    assert page.count("data:image/png;base64,") == 1
