"""BLEU against published values (sacreBLEU's README, NLTK's docs), exact match, token accuracy."""

import math

import pytest

from lstmkit.errors import ConfigError, DataError
from lstmkit.evaluate import corpus_bleu, exact_match, token_accuracy
from lstmkit.evaluate.text_metrics import tokenize_13a

# sacreBLEU README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)
SYSTEM = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
REF_STREAMS = [
    ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
    ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
]

# NLTK's corpus_bleu docstring example: 0.5920778868801042; sentence_bleu of the first: 0.5045666840058485
HYP1 = "It is a guide to action which ensures that the military always obeys the commands of the party"
REF1 = [
    "It is a guide to action that ensures that the military will forever heed Party commands",
    "It is the guiding principle which guarantees the military forces always being under the command of the Party",
    "It is the practical guide for the army always to heed the directions of the party",
]
HYP2 = "he read the book because he was interested in world history"
REF2 = ["he was interested in world history because he read the book"]


def test_matches_sacrebleu_readme_example():
    per_sentence = [list(refs) for refs in zip(*REF_STREAMS)]
    bleu = corpus_bleu(SYSTEM, per_sentence)
    assert round(bleu.score, 2) == 48.53
    assert [round(p, 1) for p in bleu.precisions] == [82.4, 50.0, 45.5, 37.5]
    assert (bleu.hyp_len, bleu.ref_len) == (17, 18)
    assert round(bleu.brevity_penalty, 3) == 0.943
    assert str(bleu).startswith("BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944")


def test_matches_nltk_documented_values():
    corpus = corpus_bleu([HYP1, HYP2], [REF1, REF2], tokenize="none", smooth="none")
    assert corpus.score / 100 == pytest.approx(0.5920778868801042, abs=1e-12)
    sentence = corpus_bleu([HYP1], [REF1], tokenize="none", smooth="none")
    assert sentence.score / 100 == pytest.approx(0.5045666840058485, abs=1e-12)


def test_exp_smoothing_and_zero_cases_by_hand():
    # "a b c d" vs "a b c e": 1-grams 3/4, 2-grams 2/3, 3-grams 1/2, 4-grams 0/1 -> smoothed 1/(2*1)
    bleu = corpus_bleu(["a b c d"], ["a b c e"], tokenize="none")
    expected = math.exp((math.log(3 / 4) + math.log(2 / 3) + math.log(1 / 2) + math.log(1 / 2)) / 4)
    assert bleu.score == pytest.approx(100 * expected)
    assert corpus_bleu(["a b c d"], ["a b c e"], tokenize="none", smooth="none").score == 0.0
    assert corpus_bleu([""], ["a b"]).score == 0.0
    # brevity: 2 output tokens against 4 reference tokens, all matching
    short = corpus_bleu(["a b"], ["a b c d"], tokenize="none", max_order=2)
    assert short.brevity_penalty == pytest.approx(math.exp(1 - 4 / 2))
    assert short.score == pytest.approx(100 * math.exp(1 - 4 / 2))


def test_closest_reference_length_prefers_the_shorter_on_ties():
    bleu = corpus_bleu(["a b c"], [["a b", "a b c d"]], tokenize="none", max_order=1)
    assert bleu.ref_len == 2


def test_tokenize_13a():
    assert tokenize_13a("Hello, world! 3.14 and 1,000; (x) 1998-03-03 a-b") == [
        "Hello",
        ",",
        "world",
        "!",
        "3.14",
        "and",
        "1,000",
        ";",
        "(",
        "x",
        ")",
        "1998",
        "-",
        "03",
        "-",
        "03",
        "a-b",
    ]
    assert tokenize_13a("Tom &amp; Jerry") == ["Tom", "&", "Jerry"]


def test_exact_match_and_token_accuracy():
    assert exact_match([" 1998-03-03", "x"], ["1998-03-03 ", "y"]) == 0.5
    # position by position over the longer side: a=a, x!=b, c=c, (missing) d -> 2 of 4
    assert token_accuracy(["a x c"], ["a b c d"]) == 0.5
    # an extra output token counts against the longer length too
    assert token_accuracy(["a b c d e"], ["a b c d"]) == pytest.approx(4 / 5)
    assert token_accuracy(["1998-03-04", "2001-01-01"], ["1998-03-03", "2001-01-01"], tokenize="char") == 19 / 20


def test_errors():
    with pytest.raises(DataError, match="2 predictions but 1 references"):
        exact_match(["a", "b"], ["a"])
    with pytest.raises(DataError, match="single string"):
        corpus_bleu("a b", ["a b"])
    with pytest.raises(ConfigError, match="tokenize must be one of"):
        corpus_bleu(["a"], ["a"], tokenize="moses")
    with pytest.raises(DataError, match="no predictions"):
        token_accuracy([], [])


def test_agrees_with_sacrebleu_when_installed():
    sacrebleu = pytest.importorskip("sacrebleu")
    system = ["the cat is on the mat", "there is a cat here.", "1998-03-03", "no overlap at all"]
    refs = [["the cat sat on the mat"], ["a cat is here."], ["1998-03-04"], ["something else entirely"]]
    ours = corpus_bleu(system, refs).score
    theirs = sacrebleu.corpus_bleu(system, [[r[0] for r in refs]]).score
    assert ours == pytest.approx(theirs, abs=1e-9)
