"""Tokenisers and vocabularies: ids, round trips, saving, and the errors a user sees."""

import importlib.util
import json

import numpy as np
import pytest

from lstmkit.data.text import (
    BPETokenizer,
    CharTokenizer,
    Vocabulary,
    WordTokenizer,
    make_tokenizer,
    pad_ids,
    tokenizer_from_dict,
)
from lstmkit.errors import ConfigError, DataError

# ---- Vocabulary ----------------------------------------------------------------------


def test_vocabulary_orders_by_count_then_alphabet_and_reserves_specials():
    v = Vocabulary.build([["b", "a", "c"], ["c", "a"], ["a"]])
    assert v.tokens == ["<pad>", "<unk>", "a", "c", "b"]
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (0, 1, None, None)
    # the same texts in another order give the same ids
    assert Vocabulary.build([["a"], ["c", "a"], ["b", "a", "c"]]).tokens == v.tokens


def test_vocabulary_min_freq_and_max_size():
    lists = [["x"] * 5 + ["y"] * 3 + ["z"]]
    assert Vocabulary.build(lists, min_freq=2).tokens[2:] == ["x", "y"]
    assert Vocabulary.build(lists, max_size=3).tokens == ["<pad>", "<unk>", "x"]
    with_specials = Vocabulary.build(lists, max_size=5, bos=True, eos=True)
    assert with_specials.tokens == ["<pad>", "<unk>", "<bos>", "<eos>", "x"]
    with pytest.raises(ConfigError, match="max_size must be an integer above the 4 special tokens"):
        Vocabulary.build(lists, max_size=4, bos=True, eos=True)
    with pytest.raises(ConfigError, match="min_freq must be a positive integer, got 0"):
        Vocabulary.build(lists, min_freq=0)


def test_vocabulary_encode_decode_with_bos_eos_and_unknowns():
    v = Vocabulary(["hello", "world"], bos=True, eos=True)
    assert (v.bos_id, v.eos_id) == (2, 3)
    assert v.encode(["hello", "there"]) == [2, 4, 1, 3]
    assert v.encode(["hello"], add_special=False) == [4]
    assert v.decode([2, 4, 1, 3, 0, 0]) == ["hello", "<unk>"]
    assert v.decode([2, 4, 3], skip_special=False) == ["<bos>", "hello", "<eos>"]
    with pytest.raises(DataError, match=r"token id 6 is outside the vocabulary \[0, 6\)"):
        v.decode([6])


def test_vocabulary_literal_special_tokens_in_text_are_not_duplicated():
    v = Vocabulary.build([["<unk>", "<pad>", "a"]])
    assert v.tokens == ["<pad>", "<unk>", "a"]
    with pytest.raises(DataError, match="'<pad>' is a special token"):
        Vocabulary(["<pad>"])
    with pytest.raises(DataError, match="'a' is id 2 already"):
        Vocabulary(["a", "a"])


def test_vocabulary_json_round_trip():
    v = Vocabulary.build([["é", "b", "é"]], eos=True)
    back = Vocabulary.from_dict(json.loads(json.dumps(v.to_dict())))
    assert back.tokens == v.tokens and back.eos_id == 2
    with pytest.raises(DataError, match="not a saved Vocabulary"):
        Vocabulary.from_dict({"tokens": ["a"]})


# ---- character and word levels ---------------------------------------------------------


def test_char_round_trip_and_unknown_characters():
    tok = CharTokenizer().fit(["abc abc\n", "cab"])
    ids = tok.encode("cab ba\n")
    assert tok.decode(ids) == "cab ba\n"
    assert tok.encode("axb") == [tok.encode("a")[0], 1, tok.encode("b")[0]]
    assert tok.decode(tok.encode("axb")) == "a<unk>b"
    assert tok.vocab_size == 2 + 5  # specials + a b c space newline


def test_char_nfc_normalisation_makes_one_token_of_an_accented_letter():
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    tok = CharTokenizer().fit([composed])
    assert tok.encode(decomposed) == tok.encode(composed)
    assert 1 not in tok.encode(decomposed)
    assert tok.decode(tok.encode(decomposed)) == composed


def test_char_lowercase_option():
    tok = CharTokenizer(lowercase=True).fit(["AbC"])
    assert tok.vocab.tokens[2:] == ["a", "b", "c"]
    assert tok.encode("ABC") == tok.encode("abc")


def test_word_tokenize_keeps_contractions_and_splits_punctuation():
    tok = WordTokenizer()
    assert tok.tokenize("It's 3.5 km, l'eau (Paris)!") == [
        "it's",
        "3",
        ".",
        "5",
        "km",
        ",",
        "l'eau",
        "(",
        "paris",
        ")",
        "!",
    ]
    assert WordTokenizer(lowercase=False).tokenize("Hi there") == ["Hi", "there"]


def test_word_min_freq_sends_rare_words_to_unk_and_decode_rejoins():
    tok = WordTokenizer(min_freq=2).fit(["the cat sat (once).", "the dog sat (twice)."])
    assert tok.vocab.tokens[2:] == ["(", ")", ".", "sat", "the"]
    assert tok.decode(tok.encode("The bird sat (again).")) == "the <unk> sat (<unk>)."


def test_bos_eos_ids_are_the_same_at_every_level():
    for tok in (CharTokenizer(bos=True, eos=True), WordTokenizer(bos=True, eos=True)):
        tok.fit(["ab ab"])
        ids = tok.encode("ab")
        assert (tok.bos_id, tok.eos_id) == (2, 3)
        assert ids[0] == 2 and ids[-1] == 3
        assert tok.decode(ids) == "ab"
        assert tok.id_to_token(2) == "<bos>"


def test_unfitted_and_bad_input_errors():
    with pytest.raises(ConfigError, match="CharTokenizer is not fitted: call fit"):
        CharTokenizer().encode("a")
    with pytest.raises(DataError, match=r"text 1 \(0-based\) is nan of type float, expected a string"):
        WordTokenizer().fit(["ok", float("nan")])
    with pytest.raises(DataError, match="got a single string; wrap it in a list"):
        CharTokenizer().fit("abc")


# ---- subword level ----------------------------------------------------------------------

needs_tokenizers = pytest.mark.skipif(
    importlib.util.find_spec("tokenizers") is None, reason="subword tokenisation needs the 'tokenizers' package"
)

TRAIN = ["the quick brown fox jumps over the lazy dog"] * 20 + ["the lazy cat sleeps"] * 10


@needs_tokenizers
def test_bpe_learns_frequent_words_from_the_training_texts_only():
    tok = BPETokenizer(vocab_size=320).fit(TRAIN)
    assert tok.tokenize("the lazy dog") == ["the", "Ġlazy", "Ġdog"]
    # a word never seen in training is split into smaller known pieces, never unknown
    pieces = tok.tokenize("the zebra")
    assert pieces[0] == "the" and len(pieces) > 2 and 1 not in tok.encode("the zebra")
    assert tok.vocab_size <= 320


@needs_tokenizers
def test_bpe_round_trip_is_exact_for_any_text():
    tok = BPETokenizer(vocab_size=300).fit(TRAIN)
    for s in ["the lazy dog", "  two  spaces\tand\ttabs\n", "Zürich 日本語 🙂", "", "<unk> literally"]:
        assert tok.decode(tok.encode(s)) == s


@needs_tokenizers
def test_bpe_special_ids_bos_eos_and_vocab_limit():
    tok = BPETokenizer(vocab_size=280, bos=True, eos=True).fit(TRAIN)
    assert [tok.id_to_token(i) for i in range(4)] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    ids = tok.encode("the dog")
    assert ids[0] == tok.bos_id == 2 and ids[-1] == tok.eos_id == 3
    assert tok.decode(ids + [0, 0]) == "the dog"
    assert tok.vocab_size == 280
    with pytest.raises(ConfigError, match="vocab_size must be an integer above 260"):
        BPETokenizer(vocab_size=260, bos=True, eos=True)
    with pytest.raises(DataError, match="outside the vocabulary"):
        tok.decode([280])


@needs_tokenizers
def test_bpe_min_freq_limits_merges():
    rare = BPETokenizer(vocab_size=400, min_freq=50).fit(TRAIN)
    common = BPETokenizer(vocab_size=400, min_freq=2).fit(TRAIN)
    assert rare.vocab_size < common.vocab_size
    assert len(rare.tokenize("the lazy cat sleeps")) > len(common.tokenize("the lazy cat sleeps"))


@needs_tokenizers
def test_bpe_save_round_trip_and_determinism():
    tok = BPETokenizer(vocab_size=300, lowercase=True).fit(TRAIN)
    state = json.loads(json.dumps(tok.to_dict()))
    back = tokenizer_from_dict(state)
    assert isinstance(back, BPETokenizer)
    assert back.encode("The Lazy FOX") == tok.encode("the lazy fox")
    assert BPETokenizer(vocab_size=300, lowercase=True).fit(TRAIN).to_dict() == tok.to_dict()


def test_bpe_without_the_package_names_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tokenizers(name, *args, **kwargs):
        if name == "tokenizers":
            raise ImportError("No module named 'tokenizers'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tokenizers)
    with pytest.raises(ConfigError, match="pip install tokenizers"):
        BPETokenizer(vocab_size=300).fit(["a"])


# ---- choosing by name, saving, padding -------------------------------------------------


@pytest.mark.parametrize(
    "level, cls", [("char", CharTokenizer), ("word", WordTokenizer), ("subword", BPETokenizer), ("bpe", BPETokenizer)]
)
def test_make_tokenizer_by_level_and_round_trip(level, cls):
    if cls is BPETokenizer and importlib.util.find_spec("tokenizers") is None:
        pytest.skip("subword tokenisation needs the 'tokenizers' package")
    tok = make_tokenizer(level).fit(TRAIN)
    assert isinstance(tok, cls)
    back = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert type(back) is cls and back.encode("the lazy fox") == tok.encode("the lazy fox")
    assert back.vocab_size == tok.vocab_size


def test_make_tokenizer_errors():
    with pytest.raises(ConfigError, match=r"level must be one of \['char', 'word', 'subword', 'symbol'\], got 'bytes'"):
        make_tokenizer("bytes")
    with pytest.raises(ConfigError, match="CharTokenizer: .*vocab_size"):
        make_tokenizer("char", vocab_size=10)
    with pytest.raises(DataError, match="not a saved tokeniser: level 'x'"):
        tokenizer_from_dict({"level": "x"})
    with pytest.raises(DataError, match="not a saved WordTokenizer: level 'char'"):
        WordTokenizer.from_dict(CharTokenizer().fit(["a"]).to_dict())


def test_pad_ids():
    ids, lengths = pad_ids([[3, 4], [5, 6, 7], [8]], pad_id=0, length=4)
    np.testing.assert_array_equal(ids, [[3, 4, 0, 0], [5, 6, 7, 0], [8, 0, 0, 0]])
    np.testing.assert_array_equal(lengths, [2, 3, 1])
    assert ids.dtype == np.int64
    with pytest.raises(DataError, match=r"sequence 1 \(0-based\) has 3 tokens, more than length=2"):
        pad_ids([[1], [1, 2, 3]], length=2)
    with pytest.raises(DataError, match=r"sequence 0 \(0-based\) has no tokens"):
        pad_ids([[], [1]])


def test_load_word_vectors_glove_and_word2vec_formats(tmp_path):
    from lstmkit.data.text import load_word_vectors

    glove = tmp_path / "glove.txt"
    glove.write_text("The 1 2\nthe 3 4\ncat 5 6\n\n", encoding="utf-8")
    vectors, found = load_word_vectors(glove, ["<pad>", "<unk>", "the", "dog"])
    np.testing.assert_array_equal(vectors, [[0, 0], [0, 0], [3, 4], [0, 0]])
    assert found.tolist() == [False, False, True, False]
    lowered, _ = load_word_vectors(glove, ["the"], lowercase=True)
    np.testing.assert_array_equal(lowered, [[1, 2]])  # the first of "The"/"the" wins
    w2v = tmp_path / "w2v.vec"
    w2v.write_text("2 3\ncat 1 2 3\ndog 4 5 6\r\n", encoding="utf-8")
    vectors, found = load_word_vectors(w2v, ["dog"])
    np.testing.assert_array_equal(vectors, [[4, 5, 6]])
    bad = tmp_path / "bad.txt"
    bad.write_text("cat 1 x\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 1: the values after 'cat' are not all numbers"):
        load_word_vectors(bad, ["cat"])
    with pytest.raises(DataError, match="no such file"):
        load_word_vectors(tmp_path / "none.txt", ["cat"])
