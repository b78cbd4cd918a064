"""validate_series: clean output, and errors that name source, column, series and rows."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.io import read_table
from lstmkit.data.validation import check_series_length, validate_series
from lstmkit.errors import ConfigError, DataError


def monthly(n=6, **extra):
    return pd.DataFrame({"t": pd.date_range("2020-01-01", periods=n, freq="MS"), "y": np.arange(n) + 1.0, **extra})


def long_frame():
    # two series, rows interleaved by time as many exports are
    return pd.DataFrame(
        {
            "id": ["b", "a", "b", "a", "b", "a"],
            "t": ["2021-01-01", "2021-01-01", "2021-01-02", "2021-01-02", "2021-01-03", "2021-01-03"],
            "y": [10, 1, 20, 2, 30, 3],
            "temp": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        }
    )


def test_clean_multi_series_sorted_by_id_then_time_with_row_map():
    vs = validate_series(long_frame(), "y", time_col="t", id_col="id", past_covariates=["temp"])
    f = vs.frame
    assert f.columns.tolist() == ["id", "t", "y", "temp"]
    assert f["id"].tolist() == ["a", "a", "a", "b", "b", "b"]
    assert f["y"].tolist() == [1.0, 2.0, 3.0, 10.0, 20.0, 30.0]
    assert f["y"].dtype == np.float64 and pd.api.types.is_datetime64_any_dtype(f["t"])
    assert vs.rows.tolist() == [1, 3, 5, 0, 2, 4]  # 0-based input rows of each output row
    assert vs.freq == "D" and vs.seasonal_period == 7
    assert vs.lengths == {"a": 3, "b": 3}
    assert vs.roles == {
        "target": ["y"],
        "id_col": "id",
        "time_col": "t",
        "past_covariates": ["temp"],
        "future_covariates": [],
    }


def test_several_targets_and_numeric_strings_become_floats():
    df = monthly(3).assign(z=["1.5", "2", " 3 "])
    vs = validate_series(df, ["y", "z"], time_col="t")
    assert vs.target == ("y", "z")
    assert vs.frame["z"].tolist() == [1.5, 2.0, 3.0]


def test_without_time_column_rows_are_taken_in_order():
    vs = validate_series(pd.DataFrame({"y": [3, 1, 2]}), "y")
    assert vs.frame["y"].tolist() == [3.0, 1.0, 2.0] and vs.freq is None


def test_missing_columns_lists_what_exists():
    with pytest.raises(DataError) as e:
        validate_series(monthly(), "sales", time_col="date", source="shop.csv")
    assert str(e.value) == "shop.csv: missing column(s) 'sales', 'date'; columns found: 't', 'y'"


def test_column_with_two_roles():
    with pytest.raises(ConfigError, match="column 'y' is given both as target and as past covariate"):
        validate_series(monthly(), "y", past_covariates=["y"])


def test_non_numeric_value_names_column_row_and_value():
    df = monthly(5).assign(y=[1, 2, "n/a!", 4, "x"])
    with pytest.raises(DataError) as e:
        validate_series(df, "y", time_col="t", source="s.csv")
    msg = str(e.value)
    assert msg.startswith("s.csv: column 'y' has a non-numeric value 'n/a!' at row 2 (0-based data row)")
    assert "2 non-numeric values in all: rows 2, 4 (0-based data rows)" in msg


def test_non_numeric_covariate_from_csv_names_file(tmp_path):
    path = tmp_path / "cov.csv"
    path.write_text("t,y,price\n1,1,9.5\n2,2,cheap\n3,3,9.0\n")
    with pytest.raises(DataError, match=rf"^{path}: column 'price' has a non-numeric value 'cheap' at row 1 "):
        validate_series(read_table(path), "y", time_col="t", future_covariates=["price"])


def test_datetime_column_as_target_is_rejected():
    with pytest.raises(DataError, match="column 't' holds datetime64.* values; expected numbers"):
        validate_series(monthly(), "t")


def test_nan_is_an_error_naming_column_row_and_series():
    df = long_frame()
    df.loc[2, "y"] = np.nan  # series b, second row
    with pytest.raises(DataError) as e:
        validate_series(df, "y", time_col="t", id_col="id")
    msg = str(e.value)
    assert "column 'y' has a missing value (NaN) in series id='b' at row 2 (0-based data row)" in msg
    assert "fill='interpolate'" in msg


def test_blank_string_cell_counts_as_missing():
    with pytest.raises(DataError, match=r"column 'y' has a missing value \(NaN\) at row 1"):
        validate_series(monthly(3).assign(y=["1", "  ", "3"]), "y", time_col="t")


def test_inf_is_an_error_even_with_fill():
    df = monthly(4).assign(y=[1.0, np.inf, 3.0, 4.0])
    with pytest.raises(DataError, match=r"column 'y' is infinite at row 1 \(0-based data row\)"):
        validate_series(df, "y", time_col="t", fill="interpolate")


def test_fill_interpolate_is_linear_per_series_and_nearest_at_edges():
    df = pd.DataFrame(
        {
            "id": ["a"] * 4 + ["b"] * 4,
            "t": [0, 1, 2, 3] * 2,
            "y": [np.nan, 1.0, np.nan, 5.0, 10.0, np.nan, np.nan, 40.0],
        }
    )
    vs = validate_series(df, "y", time_col="t", id_col="id", fill="interpolate")
    assert vs.frame["y"].tolist() == [1.0, 1.0, 3.0, 5.0, 10.0, 20.0, 30.0, 40.0]
    assert vs.filled == {"y": 4}


def test_fill_ffill_carries_last_value_within_series():
    df = pd.DataFrame({"id": ["a", "a", "a", "b", "b"], "t": [0, 1, 2, 0, 1], "y": [1.0, np.nan, np.nan, 7.0, np.nan]})
    vs = validate_series(df, "y", time_col="t", id_col="id", fill="ffill")
    assert vs.frame["y"].tolist() == [1.0, 1.0, 1.0, 7.0, 7.0]  # b does not inherit from a


def test_ffill_cannot_fill_a_leading_gap():
    df = pd.DataFrame({"id": ["a", "a", "b", "b"], "t": [0, 1, 0, 1], "y": [1.0, 2.0, np.nan, 3.0]})
    with pytest.raises(DataError, match=r"column 'y' in series id='b' starts with a missing value at row 2"):
        validate_series(df, "y", time_col="t", id_col="id", fill="ffill")


def test_all_missing_series_has_nothing_to_fill_from():
    df = pd.DataFrame({"id": ["a", "a"], "t": [0, 1], "y": [np.nan, np.nan]})
    with pytest.raises(DataError, match=r"in series id='a' has no values at all \(rows 0, 1 \(0-based data rows\)\)"):
        validate_series(df, "y", time_col="t", id_col="id", fill="interpolate")


def test_unknown_fill_method():
    with pytest.raises(ConfigError, match="fill must be None, 'interpolate' or 'ffill', got 'mean'"):
        validate_series(monthly(), "y", time_col="t", fill="mean")


def test_unparsable_timestamp_names_row_and_value():
    df = monthly(4).assign(t=["2020-01", "2020-02", "March 2020?", "2020-04"])
    with pytest.raises(
        DataError, match=r"time column 't' has a value that is not a timestamp: 'March 2020\?' at row 2"
    ):
        validate_series(df, "y", time_col="t")


def test_missing_timestamp_names_row():
    df = monthly(3).assign(t=["2020-01", None, "2020-03"])
    with pytest.raises(DataError, match=r"time column 't' is empty at row 1 \(0-based data row\)"):
        validate_series(df, "y", time_col="t")


def test_unsorted_timestamps_name_rows_unless_sort():
    df = monthly(4).iloc[[0, 2, 1, 3]].reset_index(drop=True)
    with pytest.raises(DataError) as e:
        validate_series(df, "y", time_col="t")
    assert (
        "time column 't' is not in increasing order: row 2 (2020-02-01 00:00:00) comes after row 1 "
        "(2020-03-01 00:00:00), 0-based data rows; sort the table by time or pass sort=True"
    ) in str(e.value)
    vs = validate_series(df, "y", time_col="t", sort=True)
    assert vs.frame["y"].tolist() == [1.0, 2.0, 3.0, 4.0] and vs.rows.tolist() == [0, 2, 1, 3]


def test_interleaved_series_are_not_unsorted():
    # each series is in time order even though the file alternates between them
    assert validate_series(long_frame(), "y", time_col="t", id_col="id").freq == "D"


def test_duplicate_timestamp_within_a_series_names_rows():
    df = long_frame()
    df.loc[4, "t"] = "2021-01-02"  # series b now has 2021-01-02 twice (rows 2 and 4)
    with pytest.raises(DataError) as e:
        validate_series(df, "y", time_col="t", id_col="id")
    assert "timestamp 2021-01-02 00:00:00 appears more than once in series id='b': rows 2, 4" in str(e.value)


def test_same_timestamp_in_different_series_is_fine():
    vs = validate_series(long_frame(), "y", time_col="t", id_col="id")
    assert len(vs.frame) == 6


def test_gap_in_monthly_series_names_where():
    df = monthly(6).drop(index=3).reset_index(drop=True)  # April 2020 missing
    with pytest.raises(DataError) as e:
        validate_series(df, "y", time_col="t")
    assert (
        "not regularly spaced: between row 2 (2020-03-01 00:00:00) and row 3 (2020-05-01 00:00:00), 0-based data "
        "rows, the step is not the series' usual step of 1 month (freq 'MS')"
    ) in str(e.value)


def test_gap_in_numeric_time_names_series_and_rows():
    df = pd.DataFrame({"id": ["a"] * 5, "t": [0.0, 0.5, 1.0, 2.0, 2.5], "y": range(5)})
    with pytest.raises(
        DataError, match=r"in series id='a': between row 2 \(1\.0\) and row 3 \(2\.0\).*usual step of 0\.5"
    ):
        validate_series(df, "y", time_col="t", id_col="id")


def test_numeric_time_index_is_allowed():
    vs = validate_series(pd.DataFrame({"t": [10, 12, 14, 16], "y": [1, 2, 3, 4]}), "y", time_col="t")
    assert vs.step == 2.0 and vs.freq is None and vs.seasonal_period == 1


def test_series_with_different_steps_are_rejected():
    df = pd.DataFrame({"id": ["a"] * 3 + ["b"] * 3, "t": [0, 1, 2, 0, 2, 4], "y": range(6)})
    with pytest.raises(DataError, match="series do not share one time step: id='a' has 1, id='b' has 2"):
        validate_series(df, "y", time_col="t", id_col="id")


def test_two_row_series_must_follow_the_common_frequency():
    df = pd.DataFrame(
        {
            "id": ["a"] * 3 + ["b"] * 2,
            "t": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01", "2020-01-01", "2020-03-01"]),
            "y": range(5),
        }
    )
    with pytest.raises(DataError, match=r"series id='b': rows 3 and 4 \(0-based data rows\) are not 1 month"):
        validate_series(df, "y", time_col="t", id_col="id")


def test_missing_id_names_rows():
    df = long_frame()
    df.loc[3, "id"] = None
    with pytest.raises(DataError, match=r"id column 'id' is empty at row 3 \(0-based data row\)"):
        validate_series(df, "y", time_col="t", id_col="id")


def test_empty_frame():
    with pytest.raises(DataError, match="the table has columns but no data rows"):
        validate_series(pd.DataFrame({"y": []}), "y")


def test_not_a_frame():
    with pytest.raises(DataError, match="expects a pandas DataFrame, got ndarray"):
        validate_series(np.zeros(3), "y")


def test_series_too_short_names_id_and_length():
    vs = validate_series(long_frame(), "y", time_col="t", id_col="id")
    check_series_length(vs.frame, lookback=2, horizon=1, id_col="id")
    with pytest.raises(DataError) as e:
        check_series_length(vs.frame, lookback=3, horizon=1, id_col="id", source="shop.csv")
    assert str(e.value) == (
        "shop.csv: 2 series too short for lookback 3 + horizon 1 = 4 rows: id 'a' (3 rows), 'b' (3 rows)"
    )


def test_single_series_too_short():
    with pytest.raises(DataError, match="the series has 6 rows, but lookback 5 \\+ horizon 2 needs at least 7 rows"):
        check_series_length(monthly(6), lookback=5, horizon=2)


def test_check_length_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="lookback must be a positive integer, got 0"):
        check_series_length(monthly(), lookback=0, horizon=1)
