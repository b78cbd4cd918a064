"""ClassifierNet: pooling over real steps only, padding that changes nothing, token input, learning."""

import json

import pytest
import torch
import torch.nn.functional as F

from lstmkit.models import ClassifierNet, ClassifierNetConfig
from lstmkit.models.classifier import LSTM_INPUTS, POOLINGS, masked_mean


def _net(**options):
    torch.manual_seed(0)
    config = ClassifierNetConfig(**{"n_classes": 3, "n_features": 2, "hidden_size": 5, "dropout": 0.0, **options})
    return ClassifierNet(config).eval()


@pytest.mark.parametrize("lstm_input", LSTM_INPUTS)
@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("conv", [(), (4, 3)])
def test_a_padded_sequence_gets_the_logits_it_gets_alone(lstm_input, pooling, bidirectional, conv):
    net = _net(
        pooling=pooling,
        bidirectional=bidirectional,
        conv_channels=conv,
        conv_kernels=(4, 3)[: len(conv)],
        lstm_input=lstm_input,
        max_length=9 if lstm_input == "shuffle" else 0,
    )
    torch.manual_seed(1)
    short, long = torch.randn(1, 4, 2), torch.randn(1, 7, 2)
    batch = torch.cat([F.pad(short, (0, 0, 0, 3), value=123.0), long])  # garbage after the short one's end
    logits = net(batch, torch.tensor([4, 7]))
    torch.testing.assert_close(logits[0], net(short)[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(logits[1], net(long)[0], rtol=1e-5, atol=1e-5)


def test_pooled_features_match_the_lstm_outputs_by_hand():
    x, lengths = torch.randn(2, 6, 2), torch.tensor([6, 3])
    uni = _net(pooling="last", bidirectional=False)
    outputs, _ = uni.encoder(x, lengths=lengths)
    pooled, weights = uni.features(x, lengths)
    torch.testing.assert_close(pooled, torch.stack([outputs[0, 5], outputs[1, 2]]))
    assert weights is None

    bi = _net(pooling="last", bidirectional=True)
    outputs, _ = bi.encoder(x, lengths=lengths)
    H = 5
    # forward direction ends at the last real step; the backward one ends at step 0
    expected = torch.stack([torch.cat([outputs[b, n - 1, :H], outputs[b, 0, H:]]) for b, n in enumerate([6, 3])])
    torch.testing.assert_close(bi.features(x, lengths)[0], expected)

    mean = _net(pooling="mean")
    outputs, _ = mean.encoder(x, lengths=lengths)
    torch.testing.assert_close(mean.features(x, lengths)[0][1], outputs[1, :3].mean(dim=0))
    top = _net(pooling="max")
    outputs, _ = top.encoder(x, lengths=lengths)
    torch.testing.assert_close(top.features(x, lengths)[0][1], outputs[1, :3].amax(dim=0))


def test_dimension_shuffle_feeds_each_channel_as_one_step():
    """With lstm_input="shuffle" the LSTM reads (B, F, max_length): step f is channel f's zero-padded series."""
    net = _net(pooling="last", bidirectional=False, lstm_input="shuffle", max_length=6)
    assert net.encoder.input_size == 6
    x, lengths = torch.randn(2, 5, 2), torch.tensor([5, 3])
    series = torch.zeros(2, 2, 6)  # batch, channels, max_length
    series[0, :, :5] = x[0].T
    series[1, :, :3] = x[1, :3].T  # steps after the end read as zeros, not as x[1, 3:]
    outputs, _ = net.encoder(series)  # (2, 2 channel steps, H)
    pooled, weights = net.features(x, lengths)
    torch.testing.assert_close(pooled, outputs[:, -1])  # "last": after the last channel
    assert weights is None
    attention = _net(pooling="attention", lstm_input="shuffle", max_length=6)
    _, weights = attention.features(x, lengths)
    assert weights.shape == (2, 2)  # over channels, every one real
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(2))
    with pytest.raises(ValueError, match=r"at most max_length=6 time steps, got sequences padded to 7"):
        net(torch.randn(1, 7, 2))


def test_dimension_shuffle_learns_and_gets_gradients_at_every_input():
    torch.manual_seed(0)
    N, T = 32, 10
    y = torch.arange(N) % 2
    x = torch.randn(N, T, 1) * 0.1
    x[:, :, 0] += torch.where(y[:, None] == 1, torch.linspace(-1, 1, T), torch.linspace(1, -1, T))  # up or down
    net = ClassifierNet(
        ClassifierNetConfig(
            n_classes=2, n_features=1, hidden_size=4, dropout=0.0, pooling="last", lstm_input="shuffle", max_length=T
        )
    )
    x.requires_grad_(True)
    F.cross_entropy(net(x), y).backward()
    assert (x.grad.abs().sum(dim=0) > 0).all()  # every step of the series reaches the single LSTM step
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(60):
        optimizer.zero_grad()
        F.cross_entropy(net(x.detach()), y).backward()
        optimizer.step()
    assert (net.eval()(x.detach()).argmax(dim=1) == y).float().mean() == 1.0


def test_attention_weights_are_a_distribution_over_real_steps():
    net = _net(pooling="attention")
    pooled, weights = net.features(torch.randn(3, 5, 2), torch.tensor([5, 2, 1]))
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(3))
    assert weights[1, 2:].abs().sum() == 0 and weights[2, 0] == 1.0


def test_token_input_pad_row_is_zero_and_gets_no_gradient():
    torch.manual_seed(0)
    net = ClassifierNet(ClassifierNetConfig(n_classes=2, vocab_size=10, embedding_dim=4, hidden_size=3, pad_id=0))
    assert net.embedding.weight[0].abs().sum() == 0
    ids = torch.tensor([[3, 4, 5], [6, 0, 0]])
    loss = F.cross_entropy(net(ids, torch.tensor([3, 1])), torch.tensor([0, 1]))
    loss.backward()
    assert net.embedding.weight.grad[0].abs().sum() == 0
    assert net.embedding.weight.grad[6].abs().sum() > 0
    frozen = ClassifierNet(ClassifierNetConfig(n_classes=2, vocab_size=10, freeze_embedding=True))
    assert not frozen.embedding.weight.requires_grad
    with pytest.raises(ValueError, match=r"expects token ids \(batch, time\) of int64"):
        net(torch.randn(2, 3, 4))


def test_masked_mean():
    x = torch.tensor([[[1.0], [2.0], [9.0]], [[4.0], [9.0], [9.0]]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    torch.testing.assert_close(masked_mean(x, mask), torch.tensor([[1.5], [4.0]]))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"n_classes": 1, "n_features": 1}, "n_classes must be at least 2"),
        ({"n_classes": 2}, "give exactly one of n_features"),
        ({"n_classes": 2, "n_features": 1, "vocab_size": 5}, "give exactly one of n_features"),
        ({"n_classes": 2, "n_features": 1, "pooling": "sum"}, "pooling must be one of"),
        ({"n_classes": 2, "n_features": 1, "conv_channels": (4, 4), "conv_kernels": (3,)}, "one kernel size per conv"),
        ({"n_classes": 2, "vocab_size": 5, "pad_id": 5}, r"pad_id must be in \[0, vocab_size=5\)"),
        (
            {"n_classes": 2, "n_features": 1, "lstm_input": "channels"},
            r"lstm_input must be one of \('time', 'shuffle'\)",
        ),
        ({"n_classes": 2, "n_features": 1, "lstm_input": "shuffle"}, "needs max_length.*got 0"),
        ({"n_classes": 2, "n_features": 1, "lstm_input": "shuffle", "max_length": 2.5}, "needs max_length.*got 2.5"),
        ({"n_classes": 2, "n_features": 1, "max_length": 10}, "max_length is only used with lstm_input='shuffle'"),
        ({"n_classes": 2, "vocab_size": 5, "lstm_input": "shuffle", "max_length": 4}, "token input needs lstm_input"),
        ({"n_classes": 2, "n_features": 1, "ngram_order": 2, "ngram_buckets": 8}, "ngram_order needs token input"),
        ({"n_classes": 2, "vocab_size": 5, "ngram_order": 2}, "ngram_buckets >= 2"),
    ],
)
def test_config_errors(options, message):
    with pytest.raises(ValueError, match=message):
        ClassifierNetConfig(**options)


def test_config_json_round_trip():
    c = ClassifierNetConfig(n_classes=4, n_features=3, conv_channels=(8, 8), conv_kernels=(5, 3))
    assert ClassifierNetConfig.from_dict(c.to_dict()) == c
    shuffled = ClassifierNetConfig(n_classes=2, n_features=1, lstm_input="shuffle", max_length=17)
    assert ClassifierNetConfig.from_dict(json.loads(json.dumps(shuffled.to_dict()))) == shuffled
    # a configuration saved before lstm_input existed reads as the time-step LSTM
    old = {k: v for k, v in c.to_dict().items() if k not in ("lstm_input", "max_length")}
    assert ClassifierNetConfig.from_dict(old).lstm_input == "time"


def test_learns_which_half_of_a_sequence_holds_the_peak():
    """Position matters here: a bag of steps cannot solve it, a sequence model can."""
    torch.manual_seed(0)
    N, T = 64, 8
    x = torch.zeros(N, T, 1)
    y = torch.arange(N) % 2
    where = torch.randint(0, T // 2, (N,)) + y * (T // 2)
    x[torch.arange(N), where, 0] = 1.0
    net = ClassifierNet(ClassifierNetConfig(n_classes=2, n_features=1, hidden_size=8, pooling="last", dropout=0.0))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.03)
    for _ in range(150):
        optimizer.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
    assert (net.eval()(x).argmax(dim=1) == y).float().mean() == 1.0


def test_dropout_never_touches_numeric_inputs_but_does_token_embeddings():
    numeric = _net(dropout=0.5, pooling="mean").train()
    x = torch.randn(4, 6, 2)
    torch.testing.assert_close(numeric.features(x)[0], numeric.features(x)[0])  # deterministic before the head
    assert not torch.equal(numeric(x), numeric(x))  # the pooled features are dropped out
    torch.manual_seed(0)
    tokens = ClassifierNet(ClassifierNetConfig(n_classes=2, vocab_size=20, hidden_size=4, dropout=0.5)).train()
    ids = torch.randint(1, 20, (4, 6))
    assert not torch.equal(tokens.features(ids)[0], tokens.features(ids)[0])
