"""The hashed n-gram bag: the n-grams it reads, by hand; padding ignored; a linear model that learns."""

import torch

from lstmkit.models import ClassifierNet, ClassifierNetConfig
from lstmkit.nn.ngrams import GAIN, HashedNGrams, ngram_ids


def _grams_by_hand(tokens: list[int], order: int) -> list[tuple]:
    marked = ["|", *tokens, "|"]  # one boundary mark at both ends, like the space of char_wb
    return [tuple(marked[t : t + n]) for n in range(1, order + 1) for t in range(len(marked) - n + 1)]


def test_each_sequence_reads_its_own_n_grams_and_padding_changes_nothing():
    x = torch.tensor([[5, 6, 7, 0, 0], [7, 6, 5, 9, 9]])
    lengths = torch.tensor([3, 5])
    ids = ngram_ids(x, lengths, order=3, buckets=2**20)
    for row, n in zip(range(2), lengths.tolist()):
        grams = _grams_by_hand(x[row, :n].tolist(), 3)
        found = ids[row][ids[row] > 0]
        assert len(found) == len(grams)
        # a table of 2**20 rows: distinct n-grams get distinct ids here
        assert len(set(found.tolist())) == len(set(grams))
    alone = ngram_ids(x[:1, :3], lengths[:1], order=3, buckets=2**20)
    assert sorted(alone[alone > 0].tolist()) == sorted(ids[0][ids[0] > 0].tolist())
    # the same n-gram gets the same id in another sequence: only the unigrams 5, 6, 7 and the
    # boundary mark (one mark for both ends, like the space of char_wb) are shared here
    assert len(set(ids[0].tolist()) & set(ids[1].tolist()) - {0}) == 4


def test_the_output_is_the_mean_of_the_n_grams_rows():
    layer = HashedNGrams(order=2, buckets=64, out_features=3)
    with torch.no_grad():
        layer.table.weight.normal_()
        layer.table.weight[0] = 0.0
    x, lengths = torch.tensor([[3, 4, 8], [2, 0, 0]]), torch.tensor([3, 1])
    ids = ngram_ids(x, lengths, 2, 64)
    for row in range(2):
        expected = layer.table.weight[ids[row][ids[row] > 0]].mean(0) * GAIN
        torch.testing.assert_close(layer(x, lengths)[row], expected)


def test_the_bag_inside_a_network_learns_a_class_marked_by_a_suffix():
    torch.manual_seed(0)
    # class 1 ends in tokens (7, 8); everything else is random
    x = torch.randint(2, 12, (64, 6))
    y = torch.randint(0, 2, (64,))
    x[y == 1, 4:] = torch.tensor([7, 8])
    x[(y == 0) & (x[:, 4] == 7) & (x[:, 5] == 8), 5] = 9
    config = ClassifierNetConfig(
        n_classes=2, vocab_size=12, hidden_size=4, embedding_dim=4, ngram_order=2, ngram_buckets=256
    )
    net = ClassifierNet(config)
    net.head.weight.data.zero_()
    net.head.weight.requires_grad_(False)  # only the bag (and the head's bias) can learn
    optimiser = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=0.1)
    for _ in range(60):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimiser.step()
    assert (net.eval()(x).argmax(1) == y).float().mean() == 1.0
