"""Every network with every cell (LSTM, GRU, RNN) and the LSTM variants, through `CellOptions`."""

import json

import pytest
import torch

from lstmkit.errors import ConfigError
from lstmkit.models import (
    CellOptions,
    ClassifierNet,
    ClassifierNetConfig,
    ForecastNet,
    ForecastNetConfig,
    LanguageModelNet,
    LanguageModelNetConfig,
    LSTMAutoencoder,
    LSTMAutoencoderConfig,
    NextStepNet,
    Seq2Seq,
    Seq2SeqConfig,
)
from lstmkit.models.recurrent import hidden_of, map_state
from lstmkit.nn import GRU, LSTM, RNN

# torch's own warning: projected LSTMs leave oneDNN for its default kernel
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")

LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
TORCH_LAYERS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
SRC, SRC_LENGTHS = torch.tensor([[4, 5, 6, 4], [5, 4, 0, 0]]), torch.tensor([4, 2])


def seq2seq_config(cell, **options):
    return Seq2SeqConfig(
        source_vocab_size=7,
        target_vocab_size=6,
        bos_id=2,
        eos_id=3,
        hidden_size=8,
        embedding_dim=4,
        decoder_layers=2,
        cell=cell,
        **options,
    )


# name: (config, network, inputs -> output tensor, output shape); inputs come from torch.manual_seed(1)
NETWORKS = {
    "forecast_direct": (
        lambda cell: ForecastNetConfig(horizon=3, n_future=1, hidden_size=8, num_layers=2, cell=cell),
        ForecastNet,
        lambda net: net(torch.randn(2, 6, 2), torch.randn(2, 3, 1)),
        (2, 3, 1, 3),
    ),
    "forecast_recursive": (
        lambda cell: ForecastNetConfig(horizon=3, n_future=1, hidden_size=8, strategy="recursive", cell=cell),
        ForecastNet,
        lambda net: net(torch.randn(2, 6, 2), torch.randn(2, 3, 1)),
        (2, 3, 1, 3),
    ),
    "classifier_attention": (
        lambda cell: ClassifierNetConfig(n_classes=3, n_features=2, hidden_size=8, cell=cell),
        ClassifierNet,
        lambda net: net(torch.randn(2, 5, 2), torch.tensor([5, 3])),
        (2, 3),
    ),
    "classifier_last": (
        lambda cell: ClassifierNetConfig(
            n_classes=3, n_features=2, hidden_size=8, num_layers=2, pooling="last", cell=cell
        ),
        ClassifierNet,
        lambda net: net(torch.randn(2, 5, 2), torch.tensor([5, 3])),
        (2, 3),
    ),
    "classifier_shuffle": (
        lambda cell: ClassifierNetConfig(
            n_classes=3,
            n_features=2,
            hidden_size=8,
            pooling="max",
            lstm_input="shuffle",
            max_length=6,
            conv_channels=(4,),
            conv_kernels=(3,),
            cell=cell,
        ),
        ClassifierNet,
        lambda net: net(torch.randn(2, 5, 2), torch.tensor([5, 3])),
        (2, 3),
    ),
    "language_model": (
        lambda cell: LanguageModelNetConfig(
            vocab_size=10, embedding_dim=6, hidden_size=8, num_layers=2, tie_weights=True, cell=cell
        ),
        LanguageModelNet,
        lambda net: net(torch.randint(0, 10, (2, 5)))[0],
        (2, 5, 10),
    ),
    "seq2seq": (
        seq2seq_config,
        Seq2Seq,
        lambda net: net(SRC, SRC_LENGTHS, torch.tensor([[2, 4, 5], [2, 5, 0]])),
        (2, 3, 6),
    ),
    "autoencoder": (
        lambda cell: LSTMAutoencoderConfig(n_features=2, hidden_size=8, num_layers=2, cell=cell),
        LSTMAutoencoder,
        lambda net: net(torch.randn(2, 5, 2)),
        (2, 5, 2),
    ),
    "next_step": (
        lambda cell: cell,
        lambda cell: NextStepNet(2, 8, cell=cell),
        lambda net: net(torch.randn(2, 5, 2))[0],
        (2, 5, 2),
    ),
}


def build(name, cell):
    config, network, _, _ = NETWORKS[name]
    torch.manual_seed(0)
    return network(config(cell))


def run(name, net):
    torch.manual_seed(1)
    return NETWORKS[name][2](net)


def recurrent_layers(net):
    return [m for m in net.modules() if isinstance(m, (LSTM, GRU, RNN))]


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("name", NETWORKS)
def test_every_network_runs_and_learns_with_every_cell(name, cell):
    net = build(name, CellOptions(cell=cell))
    layers = recurrent_layers(net)
    assert layers and all(type(layer) is LAYERS[cell] for layer in layers)
    out = run(name, net)
    assert tuple(out.shape) == NETWORKS[name][3]
    out.square().mean().backward()
    for param_name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), param_name
    # every recurrent layer is on the path to the output (the autoencoder's and seq2seq's
    # encoders only through the state handed to the decoder)
    for layer in layers:
        assert layer.weight_hh_l0.grad.abs().sum() > 0


@pytest.mark.parametrize("name", NETWORKS)
def test_the_cells_give_different_numbers(name):
    outputs = {cell: run(name, build(name, CellOptions(cell=cell)).eval()) for cell in ("lstm", "gru", "rnn")}
    assert not torch.allclose(outputs["lstm"], outputs["gru"])
    assert not torch.allclose(outputs["lstm"], outputs["rnn"])
    assert not torch.allclose(outputs["gru"], outputs["rnn"])


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_forecast_net_equals_torch_layer_and_head(cell):
    net = build("forecast_direct", CellOptions(cell=cell)).eval()
    reference = TORCH_LAYERS[cell](2, 8, num_layers=2, batch_first=True)
    reference.load_state_dict(net.encoder.state_dict())
    torch.manual_seed(1)
    past, future = torch.randn(2, 6, 2), torch.randn(2, 3, 1)
    h = hidden_of(reference(past)[1])  # torch's LSTM returns (h, c), GRU and RNN h
    expected = net.head(torch.cat([h[-1], future.flatten(1)], dim=1)).view(2, 3, 1, 3)
    torch.testing.assert_close(net(past, future), expected)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_next_step_net_streams_one_step_at_a_time(cell):
    from lstmkit.tasks.anomaly import NextStepNet as FromAnomaly

    assert FromAnomaly is NextStepNet
    net = build("next_step", CellOptions(cell=cell)).eval()
    x = torch.randn(1, 7, 2)
    whole, _ = net(x)
    state, steps = None, []
    for t in range(7):  # what AnomalyDetector.update does: one step, the state carried
        pred, state = net(x[:, t : t + 1], state)
        steps.append(pred)
    torch.testing.assert_close(torch.cat(steps, dim=1), whole)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_language_model_carries_state_and_generates(cell):
    net = build("language_model", CellOptions(cell=cell)).eval()
    ids = torch.tensor([[2, 3, 4, 5, 6]])
    whole, state = net(ids)
    assert isinstance(state, tuple) == (cell == "lstm")
    first, s = net(ids[:, :2])
    second, _ = net(ids[:, 2:], s)
    torch.testing.assert_close(torch.cat([first, second], 1), whole)
    zeros = CellOptions(cell=cell).zero_state(1, 8, num_layers=2)
    torch.testing.assert_close(net(ids, zeros)[0], whole)
    # greedy streaming (state carried) equals re-reading the whole prefix at every step
    streamed = list(net.stream([2, 3], 4, temperature=0))
    prefix = [2, 3]
    for _ in range(4):
        prefix.append(int(net(torch.tensor([prefix]))[0][0, -1].argmax()))
    assert streamed == prefix[2:]


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_seq2seq_hands_over_state_and_decodes(cell):
    net = build("seq2seq", CellOptions(cell=cell)).eval()
    memory = net.encode(SRC, SRC_LENGTHS)
    h = hidden_of(memory.state)
    assert isinstance(memory.state, tuple) == (cell == "lstm") and tuple(h.shape) == (2, 2, 8)
    # one id at a time with the carried state equals the whole target at once
    tgt_in = torch.tensor([[2, 4, 5], [2, 5, 4]])
    whole, _, whole_weights = net.decode(tgt_in, memory)
    state, steps = None, []
    for t in range(3):
        logits, state, _ = net.decode(tgt_in[:, t : t + 1], memory, state)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, 1), whole)
    assert whole_weights[1, :, 2:].abs().max() == 0  # no attention on padding
    greedy = net.greedy(SRC, SRC_LENGTHS, max_len=5)
    assert net.beam_search(SRC, SRC_LENGTHS, max_len=5, beam=1).tokens == greedy.tokens
    beam = net.beam_search(SRC, SRC_LENGTHS, max_len=5, beam=3)
    assert len(beam.tokens) == 2 and all(len(t) <= 5 for t in beam.tokens)
    assert tuple(beam.attention[1].shape)[1] == 2


def test_map_state_keeps_the_form():
    h, c = torch.ones(1, 2, 3), torch.zeros(1, 2, 3)
    doubled = map_state(lambda s: s.repeat_interleave(2, 1), (h, c))
    assert isinstance(doubled, tuple) and doubled[1].shape == (1, 4, 3)
    assert map_state(lambda s: s[:, [1]], h).shape == (1, 1, 3)


LSTM_VARIANTS = [
    {"peephole": True},
    {"layer_norm": True},
    {"coupled_gates": True},
    {"proj_size": 4},
    {"zoneout": 0.3},
    {"recurrent_dropout": 0.3},
    {"peephole": True, "layer_norm": True, "proj_size": 4},
]
ANY_CELL_VARIANTS = [
    {"cell": cell, **options} for cell in ("gru", "rnn") for options in ({"zoneout": 0.3}, {"recurrent_dropout": 0.3})
]
LAYER_OPTION = {"coupled_gates": "input_forget"}  # where the layer's name differs


@pytest.mark.parametrize(
    "options", LSTM_VARIANTS + ANY_CELL_VARIANTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items())
)
@pytest.mark.parametrize("name", ["forecast_direct", "forecast_recursive", "classifier_last", "classifier_shuffle"])
def test_variants_reach_the_layer_and_run(name, options):
    net = build(name, CellOptions(**options))
    for layer in recurrent_layers(net):
        for key, value in options.items():
            if key != "cell":
                assert getattr(layer, LAYER_OPTION.get(key, key)) == value
    if options.get("peephole"):
        assert "encoder.weight_ch_l0" in net.state_dict()
    out = run(name, net)
    assert tuple(out.shape) == NETWORKS[name][3]
    out.square().mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
    if "zoneout" in options or "recurrent_dropout" in options:
        # the random masks act in training only
        assert not torch.allclose(run(name, net), run(name, net.eval()))


@pytest.mark.parametrize("name", NETWORKS)
def test_projection_sizes_every_head(name):
    net = build(name, CellOptions(proj_size=4))
    layers = recurrent_layers(net)
    assert all(layer.proj_size == 4 for layer in layers)
    out = run(name, net)
    assert tuple(out.shape) == NETWORKS[name][3]
    out.sum().backward()
    assert all(layer.weight_hr_l0.grad.abs().sum() > 0 for layer in layers)


def test_seq2seq_with_projection_decodes():
    net = build("seq2seq", CellOptions(proj_size=4)).eval()
    h, c = net.encode(SRC, SRC_LENGTHS).state
    assert tuple(h.shape) == (2, 2, 4) and tuple(c.shape) == (2, 2, 8)
    assert len(net.beam_search(SRC, SRC_LENGTHS, max_len=4, beam=2).tokens) == 2


CONFIGS = [name for name in NETWORKS if name != "next_step"]


@pytest.mark.parametrize("name", CONFIGS)
def test_config_round_trips_through_json(name):
    config = NETWORKS[name][0](CellOptions(cell="lstm", peephole=True, proj_size=4, zoneout=0.1))
    saved = json.loads(json.dumps(config.to_dict()))
    assert saved["cell"]["proj_size"] == 4
    assert type(config).from_dict(saved) == config
    assert type(config)(**saved).cell == config.cell  # how the task modules load a saved net config
    gru = NETWORKS[name][0]("gru")
    assert gru.cell == CellOptions(cell="gru") and type(gru).from_dict(json.loads(json.dumps(gru.to_dict()))) == gru


@pytest.mark.parametrize("name", CONFIGS)
def test_a_dict_saved_before_cell_existed_is_the_plain_lstm(name):
    config = NETWORKS[name][0](CellOptions())
    old = {k: v for k, v in json.loads(json.dumps(config.to_dict())).items() if k != "cell"}
    loaded = type(config).from_dict(old)
    assert loaded == config and loaded.cell == CellOptions()
    default = build(name, CellOptions())
    net = NETWORKS[name][1](loaded)
    assert list(net.state_dict()) == list(default.state_dict())
    net.load_state_dict(default.state_dict())  # strict: the same names and shapes
    torch.testing.assert_close(run(name, net.eval()), run(name, default.eval()), rtol=0, atol=0)


def test_default_lstm_numbers_are_those_of_the_networks_before_cell_options():
    # golden values printed by the networks before `cell` existed, same seeds
    x = torch.linspace(-1, 1, 12).view(2, 6, 1)
    torch.manual_seed(0)
    forecast = ForecastNet(ForecastNetConfig(horizon=2, hidden_size=4)).eval()
    expected = [
        -0.444351,
        -0.043069,
        -0.335962,
        -0.512374,
        -0.126190,
        -0.011216,
        -0.438203,
        0.007367,
        -0.430546,
        -0.307027,
        0.032977,
        0.131809,
    ]
    torch.testing.assert_close(forecast(x).flatten(), torch.tensor(expected), atol=1e-5, rtol=0)
    torch.manual_seed(0)
    classifier = ClassifierNet(ClassifierNetConfig(n_classes=2, n_features=1, hidden_size=4)).eval()
    expected = [-0.381672, 0.145636, -0.303772, 0.174748]
    torch.testing.assert_close(classifier(x).flatten(), torch.tensor(expected), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"cell": "lstmx"}, r"cell must be one of \('lstm', 'gru', 'rnn'\), got 'lstmx'"),
        ({"cell": "gru", "peephole": True}, r"peephole=True needs cell='lstm', got cell='gru'"),
        ({"cell": "rnn", "layer_norm": True}, r"layer_norm=True needs cell='lstm', got cell='rnn'"),
        ({"cell": "gru", "coupled_gates": True}, r"coupled_gates=True needs cell='lstm', got cell='gru'"),
        ({"cell": "rnn", "proj_size": 2}, r"proj_size=2 needs cell='lstm', got cell='rnn'"),
        ({"proj_size": -1}, r"proj_size must be a non-negative integer, got -1"),
        ({"zoneout": 1.0}, r"zoneout must be a number in \[0, 1\), got 1.0"),
        ({"recurrent_dropout": -0.1}, r"recurrent_dropout must be a number in \[0, 1\), got -0.1"),
        ({"peephole": "yes"}, r"peephole must be True or False, got 'yes'"),
    ],
)
def test_bad_cell_options_are_refused_up_front(options, message):
    with pytest.raises(ConfigError, match=message):
        CellOptions(**options)


def test_bad_cell_values_in_network_configs():
    with pytest.raises(ConfigError, match=r"proj_size must be smaller than hidden_size=8, got 8"):
        ForecastNetConfig(hidden_size=8, cell=CellOptions(proj_size=8))
    with pytest.raises(ConfigError, match=r"proj_size must be smaller than hidden_size=8, got 9"):
        ClassifierNetConfig(n_classes=2, n_features=1, hidden_size=8, cell={"proj_size": 9})
    with pytest.raises(ConfigError, match=r"cell must be one of .*, got 'lstmx'"):
        LSTMAutoencoderConfig(cell="lstmx")
    with pytest.raises(ConfigError, match=r"unknown cell option\(s\) \['peepholes'\]"):
        Seq2SeqConfig.from_dict({**seq2seq_config("lstm").to_dict(), "cell": {"peepholes": True}})
    with pytest.raises(ConfigError, match=r"recurrent_dropout is given twice, 0.1 and cell.recurrent_dropout=0.2"):
        LanguageModelNetConfig(vocab_size=5, recurrent_dropout=0.1, cell=CellOptions(recurrent_dropout=0.2))
    with pytest.raises(ConfigError, match=r"proj_size must be smaller than hidden_size=4, got 4"):
        CellOptions(proj_size=4).build(3, 4)
    with pytest.raises(ConfigError, match=r"cell must be a CellOptions, its dict form or one of .*, got 3"):
        NextStepNet(2, 8, cell=3)


def test_language_model_recurrent_dropout_from_either_place():
    for config in (
        LanguageModelNetConfig(vocab_size=5, recurrent_dropout=0.25),
        LanguageModelNetConfig(vocab_size=5, cell=CellOptions(cell="gru", recurrent_dropout=0.25)),
    ):
        assert LanguageModelNet(config).lstm.recurrent_dropout == 0.25
