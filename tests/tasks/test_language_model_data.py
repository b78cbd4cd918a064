"""The language model's data: corpus files, the bundled text, the held-out split, the symbol tokeniser."""

import hashlib
import json

import pytest

from lstmkit.data.corpora import bundled_corpus, read_corpus, split_tail
from lstmkit.data.text import SymbolTokenizer, make_tokenizer, tokenizer_from_dict
from lstmkit.errors import ConfigError, DataError


def test_bundled_corpus_is_the_documented_file():
    text, source = bundled_corpus()
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == (
        "037cbb491e232356eaa005801cd5a2676667952fda9dd6b2db3c37625eaf7784"
    )  # as in datasets/README.md
    assert len(text) == 196_867 and text.count("\n") == 1533 + 49  # verses and blank lines between chapters
    assert text.startswith("In the beginning God created the heaven and the earth.\n")
    assert text.rstrip().endswith("and he was put in a coffin in Egypt.")
    assert "King James Version" in source and "bible-kjv-text 4.38" in source


def test_read_corpus(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes("\ufeffline one\nline two\n".encode("utf-8"))
    assert read_corpus(path) == "line one\nline two\n"  # the byte-order mark is not text
    (tmp_path / "blank.txt").write_text(" \n\t\n", encoding="utf-8")
    with pytest.raises(DataError, match="blank.txt: the corpus is empty"):
        read_corpus(tmp_path / "blank.txt")
    with pytest.raises(DataError, match="not a file"):
        read_corpus(tmp_path)
    (tmp_path / "bad.txt").write_bytes(b"ok\nok\n\xff\xfe oops")
    with pytest.raises(DataError, match="not UTF-8 text \\(byte 6, line 3"):
        read_corpus(tmp_path / "bad.txt")


def test_split_tail_cuts_at_a_line_then_a_word():
    head, tail = split_tail("aaaa\nbbbb\ncccc\ndddd\n", 0.3)
    assert (head, tail) == ("aaaa\nbbbb\ncccc\n", "dddd\n")
    head, tail = split_tail("one two three four", 0.3)
    assert head + tail == "one two three four" and tail == "three four"  # back to the word start
    with pytest.raises(ConfigError, match="held-out fraction must be in \\(0, 1\\)"):
        split_tail("abc", 1.0)


def test_symbol_tokenizer_keeps_symbols_whole_and_round_trips():
    tok = make_tokenizer("symbol", min_freq=2).fit(["C4 E4 G4 C#5/8 r", "C4 C#5/8 G4 Bb3"])
    assert tok.tokenize("C#5/8  Bb3\nC4") == ["C#5/8", "Bb3", "C4"]
    assert tok.decode(tok.encode("C4 C#5/8 G4")) == "C4 C#5/8 G4"
    assert tok.decode(tok.encode("E4 C4")) == "<unk> C4"  # E4 was seen once, below min_freq
    state = json.loads(json.dumps(tok.to_dict()))
    again = tokenizer_from_dict(state)
    assert isinstance(again, SymbolTokenizer) and again.encode("G4 C4 X") == tok.encode("G4 C4 X")
    with_eos = SymbolTokenizer(eos=True).fit(["a b"])
    assert with_eos.encode("a")[-1] == with_eos.eos_id == 2


def test_tokenizer_levels_include_symbols():
    assert make_tokenizer("bpe", vocab_size=300).level == "subword"
    assert tokenizer_from_dict(make_tokenizer("char").fit(["ab"]).to_dict()).encode("ba") == [3, 2]
    with pytest.raises(ConfigError, match="tokeniser level must be one of"):
        make_tokenizer("morpheme")
    with pytest.raises(ConfigError, match="SymbolTokenizer: .*lowercase"):
        make_tokenizer("symbol", lowercase=True)
