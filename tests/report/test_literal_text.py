"""Strings a user chose reach the figures as written: ``$`` is not mathematics there."""

import matplotlib
import numpy as np
import pandas as pd

from lstmkit.report.anomaly_plot import plot_detections
from lstmkit.report.run_report import plot_training_curves

NAMES = ["$x^{$", r"$\frac{a$", "price in $ (US$)"]


def test_dollar_signs_in_names_draw_literally(tmp_path):
    before = matplotlib.rcParams["text.parse_math"]
    frame = pd.DataFrame({name: np.sin(np.arange(40) / (3 + k)) for k, name in enumerate(NAMES)})
    detections = pd.DataFrame({"score": np.linspace(0.1, 1.0, 40), "is_anomaly": np.arange(40) % 9 == 0})
    out = plot_detections(frame, NAMES, None, detections, 0.5, 20, tmp_path / "d.png")
    assert out.stat().st_size > 1000
    log = [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.1}, {"epoch": 2, "train_loss": 0.5, "val_loss": 0.7}]
    assert plot_training_curves([log], tmp_path / "t.png", title=NAMES[1]).stat().st_size > 1000
    assert matplotlib.rcParams["text.parse_math"] == before  # only for the call


def test_values_matplotlib_cannot_place_skip_the_figure_with_a_note(tmp_path):
    import pytest

    from lstmkit.report.html import Section, write_report
    from lstmkit.utils.figures import FigureSkipped

    frame = pd.DataFrame({"v": [1e308, -1e308, 1e308, np.inf]})
    detections = pd.DataFrame({"score": [1e308, 1.0, 1e308, 1.0], "is_anomaly": [True, False, True, False]})
    with pytest.warns(FigureSkipped, match="figure plot_detections skipped"):
        out = plot_detections(frame, ["v"], None, detections, 1e308, 2, tmp_path / "d.png")
    assert out is None and not (tmp_path / "d.png").exists()
    page = write_report(tmp_path / "r.html", "run", [Section("Detections", images=[out])]).read_text()
    assert "A figure was skipped" in page
