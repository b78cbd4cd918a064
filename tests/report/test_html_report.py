"""`write_report`: one self-contained HTML file that a browser opens with every image in it."""

import base64
import re
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend, before pyplot loads
import pandas as pd  # noqa: E402 - after choosing the backend, before pyplot loads
import pytest  # noqa: E402 - after choosing the backend, before pyplot loads

from lstmkit.report import Section, write_report  # noqa: E402 - after choosing the backend, before pyplot loads

PNG = b"\x89PNG\r\n\x1a\n"
CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and shutil.os.path.exists(p)), None)
DATA_URI = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _figure(path, color):
    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.plot([0, 1, 2, 3], [1, 3, 2, 4], color=color)
    fig.savefig(path)
    plt.close(fig)
    return path


@pytest.fixture
def report(tmp_path):
    images = [_figure(tmp_path / "forecast.png", "tab:blue"), _figure(tmp_path / "gates.png", "tab:red")]
    metrics = pd.DataFrame({"method": ["lstm", "naive"], "MASE": [0.81234567, 1.0]})
    path = write_report(
        tmp_path / "run" / "report.html",
        "Forecast <run>",
        [
            Section("Summary", text=["24 steps ahead", "trained 3 epochs & stopped"], tables=[metrics]),
            {"heading": "Figures", "images": images},
        ],
    )
    return path


def _decoded_images(page: str) -> list[bytes]:
    return [base64.b64decode(b64, validate=True) for b64 in DATA_URI.findall(page)]


def test_report_is_self_contained(report):
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert [p.name for p in report.parent.iterdir()] == ["report.html"]  # written atomically, nothing left over
    images = _decoded_images(page)
    assert len(images) == 2 and all(img.startswith(PNG) and len(img) > 1000 for img in images)
    assert "Forecast &lt;run&gt;" in page and "trained 3 epochs &amp; stopped" in page  # text is escaped
    assert "<td>0.8123</td>" in page and "<th>MASE</th>" in page
    # nothing to fetch: no links, scripts or style sheets from elsewhere
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert "<script" not in page and "@import" not in page


def test_bad_sections_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.png"):
        write_report(tmp_path / "r.html", "t", [Section("s", images=[tmp_path / "missing.png"])])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="unknown type"):
        write_report(tmp_path / "r.html", "t", [Section("s", images=[tmp_path / "notes.txt"])])
    with pytest.raises(ValueError, match=r"sections\[1\]"):
        write_report(tmp_path / "r.html", "t", [Section("ok"), {"title": "no heading"}])
    with pytest.raises(ValueError, match="DataFrame"):
        write_report(tmp_path / "r.html", "t", [Section("s", tables=[[1, 2]])])
    assert not (tmp_path / "r.html").exists()


def _chromium(tmp_path, *args):
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium) to open the report")
def test_chromium_opens_the_report_with_its_images(report, tmp_path):
    # a copy with a probe: after loading, the page writes each image's decoded size into the DOM
    probe = tmp_path / "probe.html"
    probe.write_text(
        report.read_text(encoding="utf-8").replace(
            "</body>",
            (
                "<script>window.addEventListener('load', () => { document.body.dataset.images = "
                "[...document.images].map(i => i.complete ? i.naturalWidth + 'x' + i.naturalHeight "
                ": 'pending').join(','); "
                "});</script></body>"
            ),
        ),
        encoding="utf-8",
    )
    dom = _chromium(tmp_path, "--dump-dom", probe.as_uri()).stdout
    assert "<h1>Forecast &lt;run&gt;</h1>" in dom and "<th>MASE</th>" in dom
    sizes = re.search(r'data-images="([^"]*)"', dom).group(1).split(",")
    assert sizes == ["400x250", "400x250"]  # figsize (4, 2.5) at matplotlib's 100 dpi, decoded by the browser
    assert [img[:8] for img in _decoded_images(dom)] == [PNG, PNG]

    shot = tmp_path / "shot.png"
    _chromium(tmp_path, "--window-size=1280,900", f"--screenshot={shot}", report.as_uri())
    assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 5000


def test_a_default_index_is_not_a_column_but_a_named_one_is(tmp_path):
    plain = pd.DataFrame({"mae": [1.5, 2.5]})
    page = write_report(tmp_path / "a.html", "Run", [Section("Metrics", tables=[plain])]).read_text()
    assert "<th></th>" not in page and "<td>0</td>" not in page  # no 0, 1 row numbers
    named = plain.set_index(pd.Index(["lstmkit", "naive"], name="method"))
    page = write_report(tmp_path / "b.html", "Run", [Section("Metrics", tables=[named])]).read_text()
    assert "<th>method</th>" in page and "<th>lstmkit</th>" in page


def test_importing_the_cli_keeps_the_users_matplotlib_backend():
    import sys

    code = (
        "import matplotlib; matplotlib.use('svg')\n"
        "import lstmkit.cli.main, lstmkit.cli.detect, lstmkit.cli.classify\n"
        "print(matplotlib.get_backend())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "svg"
