"""Property-based tests: any generated input either works or raises lstmkit's own error,
and what goes through a reader, a scaler, a window cutter or a tokeniser comes back."""

import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmkit.data import make_windows, read_table, scaler_from_dict, validate_series
from lstmkit.data.scaling import MinMaxScaler, RobustScaler, StandardScaler
from lstmkit.data.sequence_files import read_ts
from lstmkit.data.text import make_tokenizer
from lstmkit.errors import LstmkitError

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# bytes that look like a CSV, a .ts file, or nothing at all
CSV_ALPHABET = "abcxyz019.,-+e\"'\n\r\t $;:#@"
csv_text = st.text(alphabet=CSV_ALPHABET, max_size=300)
numbers = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.integers(-(10**20), 10**20)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=64)


def _written(data: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp())
    path = folder / f"data{suffix}"
    path.write_bytes(data)
    return path


@FAST
@given(st.one_of(csv_text.map(str.encode), st.binary(max_size=300)))
def test_read_table_reads_a_frame_or_raises_its_own_error(data):
    try:
        frame = read_table(_written(data, ".csv"))
    except LstmkitError as e:
        assert "\n" not in str(e).strip()
    else:
        assert isinstance(frame, pd.DataFrame)


@FAST
@given(st.one_of(st.text(alphabet="@problemNamtimeStsSeriesclassLabel:,.0123456789-\n? truefalse", max_size=300)))
def test_read_ts_reads_sequences_or_raises_its_own_error(text):
    try:
        read_ts(_written(text.encode(), ".ts"))
    except LstmkitError:
        pass


@FAST
@given(st.binary(max_size=200))
def test_a_binary_ts_file_raises_its_own_error(data):
    try:
        read_ts(_written(data, ".ts"))
    except LstmkitError:
        pass


@FAST
@given(
    st.lists(numbers | st.text(max_size=4) | st.none(), min_size=0, max_size=30),
    st.sampled_from([None, "ffill", "interpolate", "zero"]),
)
def test_validate_series_validates_or_raises_its_own_error(values, fill):
    frame = pd.DataFrame({"y": pd.Series(values, dtype=object)})
    try:
        vs = validate_series(frame, "y", fill=fill)
    except LstmkitError:
        return
    assert np.isfinite(vs.frame["y"].to_numpy(np.float64)).all()  # a validated series is finite


@FAST
@given(
    st.lists(finite, min_size=2, max_size=40),
    st.integers(1, 12),
    st.integers(1, 6),
)
def test_windows_are_slices_of_the_series_in_order(values, lookback, horizon):
    frame = pd.DataFrame({"y": values})
    try:
        w = make_windows(frame, "y", lookback, horizon, dtype=np.float64)
    except LstmkitError:
        assert len(values) < lookback + horizon  # refused only when no window fits
        return
    y = np.asarray(values)
    assert len(w.past) == len(values) - lookback - horizon + 1
    for i in range(len(w.past)):
        np.testing.assert_array_equal(w.past[i, :, 0], y[i : i + lookback])
        np.testing.assert_array_equal(w.target[i, :, 0], y[i + lookback : i + lookback + horizon])


@FAST
@given(
    st.sampled_from([StandardScaler, MinMaxScaler, RobustScaler]),
    st.lists(st.tuples(finite, finite), min_size=1, max_size=30),
)
def test_scalers_round_trip_through_json_and_back_to_the_data(kind, rows):
    frame = pd.DataFrame(rows, columns=["a", "b"])
    scaler = kind().fit(frame, ["a", "b"])
    again = scaler_from_dict(scaler.to_dict())
    scaled = again.transform(frame)
    assert np.isfinite(scaled[["a", "b"]].to_numpy()).all()
    back = again.inverse_transform(scaled)
    np.testing.assert_allclose(back[["a", "b"]].to_numpy(), frame.to_numpy(), rtol=1e-9, atol=1e-6)


@FAST
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=8))
def test_a_char_tokeniser_gives_back_every_text_it_was_fitted_on(texts):
    tok = make_tokenizer("char").fit(texts)
    for text in texts:
        assert tok.decode(tok.encode(text)) == text
        assert all(0 <= i < tok.vocab_size for i in tok.encode(text + "\u2603"))  # unseen: the unknown id


@FAST
@given(st.lists(st.lists(st.from_regex(r"[a-z]{1,6}", fullmatch=True), min_size=1, max_size=6), min_size=1, max_size=6))
def test_a_word_tokeniser_gives_back_texts_of_known_words(sentences):
    texts = [" ".join(words) for words in sentences]
    tok = make_tokenizer("word").fit(texts)
    for text in texts:
        assert tok.decode(tok.encode(text)) == text


@pytest.mark.parametrize("value", [1e308, -1e308, 5e-324])
def test_extreme_but_finite_values_scale_without_overflow_or_an_error_of_its_own(value):
    frame = pd.DataFrame({"y": [value, 0.0, 1.0]})
    try:
        scaled = StandardScaler().fit(frame, ["y"]).transform(frame)
    except LstmkitError:
        return
    assert all(math.isfinite(v) for v in scaled["y"])
