"""read_table: every malformed file becomes a DataError naming the file (and line)."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.io import read_table
from lstmkit.errors import DataError


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_csv_with_types_and_source(tmp_path):
    path = write(tmp_path, "sales.csv", "date,store,y\n2024-01-01,a,1.5\n2024-01-02,a,2\n")
    df = read_table(path)
    assert df.columns.tolist() == ["date", "store", "y"]
    assert df["y"].tolist() == [1.5, 2.0]
    assert df.attrs["source"] == str(path)


def test_reads_tsv_and_skips_blank_lines(tmp_path):
    path = write(tmp_path, "s.tsv", "t\ty\n\n1\t10\n2\t20\n\n")
    assert read_table(path)["y"].tolist() == [10, 20]


def test_reads_parquet(tmp_path):
    path = tmp_path / "s.parquet"
    pd.DataFrame({"t": [1, 2, 3], "y": [0.5, 1.5, 2.5]}).to_parquet(path)
    df = read_table(path)
    assert df["y"].tolist() == [0.5, 1.5, 2.5]
    assert df.attrs["source"] == str(path)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: no such file"):
        read_table(tmp_path / "nope.csv")


def test_empty_file_names_it(tmp_path):
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty \(0 bytes\)"):
        read_table(write(tmp_path, "empty.csv", ""))


def test_blank_only_file(tmp_path):
    with pytest.raises(DataError, match=r"blank\.csv: the file has only blank lines"):
        read_table(write(tmp_path, "blank.csv", "\n\n\n"))


def test_unsupported_extension_lists_supported(tmp_path):
    with pytest.raises(DataError, match=r"data\.xlsx: unsupported file type '\.xlsx'; expected one of \.csv, \.tsv"):
        read_table(write(tmp_path, "data.xlsx", "a"))


def test_ragged_row_too_many_fields_names_line(tmp_path):
    path = write(tmp_path, "r.csv", "a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n")
    with pytest.raises(DataError) as e:
        read_table(path)
    assert str(e.value) == f"{path}: line 3 has 4 fields, expected 3 like the header on line 1 (data row 1, 0-based)"


def test_ragged_row_too_few_fields_names_line_after_blank_lines(tmp_path):
    # pandas would silently pad the short line with NaN
    path = write(tmp_path, "r.csv", "a,b,c\n1,2,3\n\n4,5,6\n7,8\n")
    with pytest.raises(DataError, match=r"r\.csv: line 5 has 2 fields, expected 3 .*\(data row 2, 0-based\)"):
        read_table(path)


def test_header_only_file(tmp_path):
    with pytest.raises(DataError, match=r"h\.csv: the file has a header \('a', 'b'\) but no data rows"):
        read_table(write(tmp_path, "h.csv", "a,b\n"))


def test_repeated_column_name(tmp_path):
    with pytest.raises(
        DataError, match=r"d\.csv: column name 'y' appears twice in the header on line 1 \(fields 2 and 3\)"
    ):
        read_table(write(tmp_path, "d.csv", "t,y,y\n1,2,3\n"))


def test_binary_file_is_not_utf8(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"a,b\n\xff\xfe\x00\x81,2\n")
    with pytest.raises(DataError, match=r"bin\.csv: not UTF-8 text \(byte 4 cannot be decoded\)"):
        read_table(path)


def test_unclosed_quote_is_unparsable(tmp_path):
    path = write(tmp_path, "q.csv", 'a,b\n1,"never closed\n2,3\n')
    with pytest.raises(DataError, match=r"q\.csv: "):
        read_table(path)


def test_corrupt_parquet_names_file(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(DataError, match=r"broken\.parquet: could not read the file as Parquet"):
        read_table(path)


def test_directory_is_not_a_file(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DataError, match=r"dir\.csv: is a directory"):
        read_table(tmp_path / "dir.csv")


def test_quoted_commas_are_one_field(tmp_path):
    df = read_table(write(tmp_path, "q.csv", 'name,y\n"a, b",1\n"c",2\n'))
    assert df["name"].tolist() == ["a, b", "c"]
    assert np.array_equal(df["y"].to_numpy(), [1, 2])
