"""Classification inputs: long tables, .npz, .ts, text tables and folders, padding, buckets, scaling."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.data.datasets.classification import UCR_DATASETS, load_language_words, load_ucr, ucr_path
from lstmkit.data.sequences import (
    PaddedBatches,
    fit_channel_scaler,
    from_arrays,
    from_long_frame,
    length_buckets,
    read_npz,
    read_sequences,
    read_ts,
    scale_channels,
)
from lstmkit.data.text_io import read_texts, texts_from_frame
from lstmkit.errors import ConfigError, DataError

# ---- arrays ----------------------------------------------------------------------------


def test_from_arrays_pads_lists_and_reads_trailing_nan_as_padding():
    s = from_arrays([np.ones((3, 2)), 2 * np.ones((1, 2))], y=np.array([1, 2]))
    assert s.X.shape == (2, 3, 2) and s.X.dtype == np.float32
    np.testing.assert_array_equal(s.lengths, [3, 1])
    np.testing.assert_array_equal(s.X[1, 1:], 0.0)  # padding is zero, not NaN
    assert s.y.tolist() == [1, 2] and type(s.y[0]) is int  # plain Python labels, JSON-able
    nan_padded = np.array([[1.0, 2.0, np.nan], [3.0, np.nan, np.nan]])
    assert from_arrays(nan_padded).lengths.tolist() == [2, 1]
    assert not from_arrays(nan_padded).equal_length


def test_from_arrays_errors_name_the_place():
    with pytest.raises(
        DataError, match=r"sequence 1 \(0-based\) has an infinite value \(inf\) at step 0, channel 'x0'"
    ):
        from_arrays(np.array([[1.0], [np.inf]]))
    with pytest.raises(DataError, match=r"lengths must be in \[1, 2\].*sequence 0 \(0-based\) has length 3"):
        from_arrays(np.zeros((1, 2, 1)), lengths=np.array([3]))
    with pytest.raises(DataError, match="3 labels for 2 sequences"):
        from_arrays(np.zeros((2, 2)), y=["a", "b", "c"])
    with pytest.raises(DataError, match=r"sequence\(s\) \[1\] \(0-based\) have no label"):
        from_arrays(np.zeros((2, 2)), y=["a", None])
    with pytest.raises(DataError, match=r"X must have shape \(N, T\) or \(N, T, F\)"):
        from_arrays(np.zeros(3))


# ---- long tables ------------------------------------------------------------------------


def _long_frame():
    return pd.DataFrame(
        {
            "id": ["s1"] * 3 + ["s2"] * 2 + ["s3"] * 4,
            "t": [3, 1, 2, 1, 2, 4, 3, 2, 1],
            "a": [3.0, 1.0, 2.0, 10.0, 20.0, 4.0, 3.0, 2.0, 1.0],
            "b": [0.3, 0.1, 0.2, 1.0, 2.0, 0.4, 0.3, 0.2, 0.1],
            "label": ["up", "up", "up", "flat", "flat", "up", "up", "up", "up"],
        }
    )


def test_long_frame_orders_by_time_and_pads_unequal_lengths():
    s = from_long_frame(_long_frame(), id_col="id", label_col="label", time_col="t")
    assert s.ids.tolist() == ["s1", "s2", "s3"] and s.y.tolist() == ["up", "flat", "up"]
    assert s.channels == ("a", "b") and s.lengths.tolist() == [3, 2, 4]
    np.testing.assert_array_equal(s.X[0, :, 0], [1, 2, 3, 0])
    np.testing.assert_array_equal(s.X[2, :, 0], [1, 2, 3, 4])
    np.testing.assert_allclose(s.X[1, :, 1], [1.0, 2.0, 0.0, 0.0])


def test_long_frame_mixed_labels_repeated_times_and_bad_values_are_clear_errors():
    frame = _long_frame()
    frame.loc[4, "label"] = "up"
    with pytest.raises(
        DataError, match=r"constant within each id, but 1 id\(s\) have mixed labels \(id 's2': \['flat', 'up'\]\)"
    ):
        from_long_frame(frame, id_col="id", label_col="label")
    frame = _long_frame()
    frame.loc[1, "t"] = 3
    with pytest.raises(DataError, match=r"id 's1' has time 3 twice \(data rows \[0, 1\], 0-based\)"):
        from_long_frame(frame, id_col="id", label_col="label", time_col="t")
    frame = _long_frame()
    frame.loc[5, "b"] = np.nan
    with pytest.raises(DataError, match=r"column 'b' is nan at data row 5 \(0-based\)"):
        from_long_frame(frame, id_col="id", label_col="label", time_col="t")
    frame = _long_frame().assign(note="x")
    with pytest.raises(DataError, match="feature column 'note' must be numeric, found 'x' at data row 0"):
        from_long_frame(frame, id_col="id", label_col="label", time_col="t")
    with pytest.raises(DataError, match=r"column\(s\) \['nope'\] not found"):
        from_long_frame(_long_frame(), id_col="nope")


def test_read_sequences_csv_and_npz(tmp_path):
    csv = tmp_path / "long.csv"
    _long_frame().to_csv(csv, index=False)
    s = read_sequences(csv, id_col="id", label_col="label", time_col="t")
    assert s.source == str(csv) and s.lengths.tolist() == [3, 2, 4]
    with pytest.raises(ConfigError, match="a long table needs id_col"):
        read_sequences(csv)
    npz = tmp_path / "data.npz"
    np.savez(npz, X=np.arange(12.0).reshape(2, 3, 2), y=np.array(["a", "b"]), lengths=np.array([3, 2]))
    s = read_npz(npz)
    assert s.y.tolist() == ["a", "b"] and s.lengths.tolist() == [3, 2]
    np.testing.assert_array_equal(s.X[1, 2], [0, 0])  # beyond the given length: padding
    np.savez(tmp_path / "objects.npz", X=np.zeros((1, 2)), y=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="without unpickling"):
        read_npz(tmp_path / "objects.npz")
    np.savez(tmp_path / "nox.npz", data=np.zeros(2))
    with pytest.raises(DataError, match=r"no array named 'X'; found \['data'\]"):
        read_npz(tmp_path / "nox.npz")


# ---- .ts files ---------------------------------------------------------------------------

TS = """# a comment
@problemName toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true yes no
@data
1,2,3:4,5,6:yes
7,8:9,10:no
1,2,?:3,4,?:no
"""


def test_read_ts_multivariate_unequal_lengths(tmp_path):
    path = tmp_path / "toy.ts"
    path.write_text(TS)
    s = read_ts(path)
    assert s.X.shape == (3, 3, 2) and s.lengths.tolist() == [3, 2, 2]
    assert s.y.tolist() == ["yes", "no", "no"] and s.channels == ("dim_0", "dim_1")
    np.testing.assert_array_equal(s.X[0], [[1, 4], [2, 5], [3, 6]])
    np.testing.assert_array_equal(s.X[2], [[1, 3], [2, 4], [0, 0]])


@pytest.mark.parametrize(
    "line, message",
    [
        ("1,2:3,4:maybe", r"line 10: class label 'maybe' is not among the @classLabel labels \['yes', 'no'\]"),
        ("1,?,3:4,5,6:yes", r"line 10: missing value at step 1 of dimension 0 \(0-based\)"),
        ("1,2,3:4,5:yes", r"line 10: the dimensions of one case have different lengths \[3, 2\]"),
        ("1,x:4,5:yes", r"line 10, dimension 0: 'x' is not a number"),
    ],
)
def test_read_ts_errors_name_the_line(tmp_path, line, message):
    path = tmp_path / "bad.ts"
    path.write_text(TS.split("@data")[0] + "@data\n" + line + "\n")
    with pytest.raises(DataError, match=message):
        read_ts(path)


def test_bundled_ucr_sets_read_as_published():
    expected = {
        "ItalyPowerDemand": ((67, 24, 1), (1029, 24, 1), 2),
        "ArrowHead": ((36, 251, 1), (175, 251, 1), 3),
        "BasicMotions": ((40, 100, 6), (40, 100, 6), 4),
    }
    for name in UCR_DATASETS:
        train, test = load_ucr(name, "train"), load_ucr(name, "test")
        assert (train.X.shape, test.X.shape, len(set(train.y))) == expected[name]
        assert train.equal_length and test.equal_length
    first = load_ucr("ItalyPowerDemand", "train")
    assert first.y[0] == "1" and abs(first.X[0, 0, 0] - (-0.71051757)) < 1e-6
    with pytest.raises(DataError, match="unknown UCR/UEA dataset 'Coffee'"):
        ucr_path("Coffee", "train")


# ---- texts -----------------------------------------------------------------------------


def test_text_table_folder_of_folders_and_txt(tmp_path):
    frame = pd.DataFrame({"text": ["hi", None, 42], "y": ["a", "b", "a"]})
    ts = texts_from_frame(frame, "text", "y")
    assert ts.texts == ["hi", "", "42"] and ts.ids.tolist() == [0, 1, 2]
    with pytest.raises(DataError, match=r"label column 'y' is empty at data row\(s\) \[1\]"):
        texts_from_frame(pd.DataFrame({"text": ["a", "b"], "y": ["x", None]}), "text", "y")
    for label, name, body in [("neg", "1.txt", "bad\n"), ("pos", "2.txt", "good film"), ("pos", "3.txt", "great")]:
        (tmp_path / "reviews" / label).mkdir(parents=True, exist_ok=True)
        (tmp_path / "reviews" / label / name).write_text(body)
    ts = read_texts(tmp_path / "reviews")
    assert ts.texts == ["bad", "good film", "great"] and ts.y.tolist() == ["neg", "pos", "pos"]
    assert ts.ids.tolist() == ["neg/1.txt", "pos/2.txt", "pos/3.txt"]
    (tmp_path / "new.txt").write_text("one\n\ntwo\n")
    assert read_texts(tmp_path / "new.txt").texts == ["one", "two"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no texts found"):
        read_texts(tmp_path / "empty")
    (tmp_path / "t.csv").write_text("text,label\nx,1\n")
    with pytest.raises(ConfigError, match=r"name the text column \(--text-col\); columns found: \['text', 'label'\]"):
        read_texts(tmp_path / "t.csv")


def test_bundled_language_words():
    words = load_language_words()
    assert list(words.columns) == ["word", "language"]
    assert words["language"].value_counts().to_dict() == {"english": 3000, "spanish": 3000, "dutch": 3000}
    assert words["word"].is_unique  # words in two lists were left out: every label is unambiguous
    assert words["word"].str.len().between(3, 20).all()
    assert (words["word"] == words["word"].str.lower()).all()


# ---- batching and scaling -------------------------------------------------------------------


def test_length_buckets_cover_everything_once_and_keep_lengths_together():
    lengths = np.array([5, 1, 9, 2, 8, 1, 7, 3])
    batches = length_buckets(lengths, 3, shuffle=True, seed=4)
    assert sorted(np.concatenate(batches).tolist()) == list(range(8))
    spans = sorted(int(np.ptp(lengths[b])) for b in batches)
    assert spans == sorted(int(np.ptp(np.sort(lengths)[i : i + 3])) for i in range(0, 8, 3))
    assert [b.tolist() for b in length_buckets(lengths, 3, seed=4)] == [b.tolist() for b in batches]
    assert [b.tolist() for b in length_buckets(lengths, 3, seed=5)] != [b.tolist() for b in batches]


def test_padded_batches_trim_to_the_longest_and_reshuffle_each_pass():
    X = np.arange(6 * 4).reshape(6, 4)
    lengths = np.array([4, 1, 2, 4, 1, 2])
    batches = PaddedBatches(X, lengths, np.arange(6), batch_size=2, shuffle=True, seed=0)
    assert len(batches) == 3
    first = list(batches)
    for x, n, y in first:
        assert x.shape[1] == int(n.max()) and x.dtype == torch.int64
        np.testing.assert_array_equal(x.numpy(), X[y.numpy(), : x.shape[1]])
    orders = {tuple(np.concatenate([y.numpy() for *_, y in batches]).tolist()) for _ in range(5)}
    assert len(orders) > 1


def test_channel_scaler_ignores_padding_and_keeps_it_zero():
    X = np.array([[[1.0, 10.0], [3.0, 30.0]], [[5.0, 50.0], [1000.0, 1000.0]]])
    lengths = np.array([2, 1])
    scaler = fit_channel_scaler(X, lengths, ["a", "b"])
    np.testing.assert_allclose(scaler.center, [[3.0, 30.0]])
    scaled = scale_channels(scaler.to_dict(), X, lengths, ["a", "b"])
    np.testing.assert_allclose(scaled[:, :, 0], [[-1.2247449, 0.0], [1.2247449, 0.0]], rtol=1e-6)
    assert scaled.dtype == np.float32
