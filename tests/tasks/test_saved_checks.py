"""Hand-edited model folders (manifest fixed up, so the checksums pass) are refused at load,
with one message naming the file and the field, and before any network is built."""

import hashlib
import json
import resource
import shutil
from pathlib import Path

import pytest

import lstmkit
from lstmkit.errors import CheckpointError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "saved-aca45bb"


def _edited(tmp_path: Path, job: str, file: str, change) -> Path:
    model = tmp_path / job
    shutil.copytree(FIXTURES / job, model)
    doc = json.loads((model / file).read_text())
    change(doc)
    (model / file).write_text(json.dumps(doc))
    manifest = json.loads((model / "manifest.json").read_text())
    for name in manifest["files"]:
        data = (model / name).read_bytes()
        manifest["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (model / "manifest.json").write_text(json.dumps(manifest))
    return model


def _set(*path_and_value):
    *path, value = path_and_value

    def change(doc):
        for key in path[:-1]:
            doc = doc[key]
        doc[path[-1]] = value

    return change


CASES = [
    ("forecaster", "config.json", _set("forecaster", "horizon", "3"), "config.json: forecaster.horizon must be an"),
    (
        "forecaster",
        "config.json",
        _set("forecaster", "horizon", 5),
        "fitted.net.horizon is 3 but config.json implies 5",
    ),
    ("forecaster", "metadata.json", _set("fitted", "members", 0), "fitted.members must be an integer from 1 to 100"),
    ("forecaster", "metadata.json", _set("fitted", "m", 99), "fitted.m (the seasonal period, at most the lookback)"),
    ("forecaster", "metadata.json", _set("fitted", "freq", "blue moon"), "fitted.freq 'blue moon' is not a pandas"),
    ("forecaster", "metadata.json", _set("fitted", "tail", "passengers", "values", ["x"]), "fitted.tail.passengers"),
    ("forecaster", "metadata.json", _set("fitted", "scaler", "scale", [[0.0]]), "not finite and positive"),
    ("sequence_classifier", "metadata.json", _set("fitted", "classes", ["a"]), "fitted.classes has 1 labels"),
    ("sequence_classifier", "metadata.json", _set("fitted", "prepare", "channels", []), "prepare.channels must list"),
    (
        "text_classifier",
        "metadata.json",
        _set("fitted", "net", "vocab_size", 9),
        "(the network's vocab_size) is 9 but the saved tokeniser has 7 ids",
    ),
    ("language_model", "metadata.json", _set("start_ids", [10**6]), "start_ids must be a list of token ids"),
    ("language_model", "metadata.json", _set("net", "hidden_size", [8]), "net.hidden_size must be an integer, got [8]"),
    ("translator", "metadata.json", _set("max_length", 10**12), "max_length must be an integer from 1 to 100000"),
    ("translator", "metadata.json", _set("net", "target_vocab_size", 30), "net.target_vocab_size is 30 but the saved"),
    ("anomaly", "config.json", _set("fitted", "threshold", "x"), "fitted.threshold must be a finite number, got 'x'"),
    ("anomaly", "config.json", _set("detector", "hidden_size", 4000), "configuration implies [16000, 1]"),
    ("anomaly", "metadata.json", _set("task", ["anomaly"]), "the folder holds no lstmkit job"),
]


@pytest.mark.parametrize(("job", "file", "change", "message"), CASES, ids=[f"{c[0]}-{c[3][:24]}" for c in CASES])
def test_an_edited_folder_is_refused_naming_the_field(tmp_path, job, file, change, message):
    model = _edited(tmp_path, job, file, change)
    with pytest.raises(CheckpointError) as info:
        lstmkit.load(model)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_small_folder_claiming_a_huge_network_costs_no_memory(tmp_path):
    # 20000 hidden units would be 6.4 GB of float32 weights; the shapes are compared first
    model = _edited(tmp_path, "forecaster", "metadata.json", _set("fitted", "net", "hidden_size", 20_000))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match=r"tensor 'encoder.weight_ih_l0' has shape \[16, 1\]"):
        lstmkit.load(model)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KB


@pytest.mark.parametrize(
    "job", ["forecaster", "sequence_classifier", "text_classifier", "language_model", "translator", "anomaly"]
)
def test_an_unedited_folder_still_loads(tmp_path, job):
    assert lstmkit.load(_edited(tmp_path, job, "metadata.json", lambda doc: None)).task == job
