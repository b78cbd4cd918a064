"""Saved JSON read back against the dataclasses that wrote it; tensors against the network's shapes."""

from dataclasses import dataclass

import pytest
import torch

from lstmkit.errors import CheckpointError
from lstmkit.models import ForecastNet, ForecastNetConfig
from lstmkit.utils.schema import check_shapes, check_value, from_saved


@dataclass(frozen=True)
class Net:
    hidden_size: int
    quantiles: tuple[float, ...] = (0.5,)
    name: str | None = None
    scale: float = 1.0
    flag: bool = False

    def __post_init__(self):
        if self.hidden_size < 1:
            raise ValueError(f"hidden_size must be at least 1, got {self.hidden_size}")


def test_a_valid_object_is_rebuilt_with_tuples_where_tuples_are_declared():
    net = from_saved(Net, {"hidden_size": 4, "quantiles": [0.1, 0.9], "name": None, "flag": True}, "m.json")
    assert net == Net(hidden_size=4, quantiles=(0.1, 0.9), flag=True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"hidden_size": "4"}, "m.json: net.hidden_size must be an integer, got '4'"),
        ({"hidden_size": True}, "m.json: net.hidden_size must be an integer, got True"),
        ({"hidden_size": 4.0}, "m.json: net.hidden_size must be an integer, got 4.0"),
        ({"hidden_size": 4, "quantiles": 0.5}, "m.json: net.quantiles must be a list, got 0.5"),
        ({"hidden_size": 4, "quantiles": ["a"]}, "m.json: net.quantiles[0] must be a finite number, got 'a'"),
        ({"hidden_size": 4, "scale": 1e400}, "m.json: net.scale must be a finite number, got inf"),
        ({"hidden_size": 4, "name": 3}, "m.json: net.name must be a string or null, got 3"),
        ({"hidden_size": 4, "flag": 1}, "m.json: net.flag must be true or false, got 1"),
        ({"hidden_size": 4, "extra": 1}, "m.json: net: unknown field(s) ['extra']"),
        ({}, "m.json: net: missing field(s) ['hidden_size']"),
        ({"hidden_size": 0}, "m.json: net: hidden_size must be at least 1, got 0"),
        ([1, 2], "m.json: net must be an object, got [1, 2]"),
    ],
)
def test_each_wrong_field_is_named_with_its_file(value, message):
    with pytest.raises(CheckpointError) as info:
        from_saved(Net, value, "m.json: net")
    assert str(info.value) == message


def test_null_for_a_field_with_a_default_reads_as_the_default():
    # folders saved before a field was required wrote null for it
    assert from_saved(Net, {"hidden_size": 2, "scale": None}, "m.json").scale == 1.0


def test_nested_dataclasses_are_checked_too():
    with pytest.raises(CheckpointError, match=r"net\.cell\.proj_size must be an integer, got 'x'"):
        from_saved(ForecastNetConfig, {"hidden_size": 4, "cell": {"proj_size": "x"}}, "net")


def test_a_literal_names_its_choices():
    from typing import Literal

    with pytest.raises(CheckpointError, match=r"must be one of \['a', 'b'\], got 'c'"):
        check_value("c", Literal["a", "b"], "f")


def test_shapes_are_compared_without_building_the_claimed_network():
    small = ForecastNet(ForecastNetConfig(hidden_size=4)).state_dict()
    huge = ForecastNetConfig(hidden_size=50_000)  # 10 GB of float32 weights if it were built
    with pytest.raises(CheckpointError, match=r"'encoder.weight_ih_l0' has shape \[16, 1\].*implies \[200000, 1\]"):
        check_shapes(lambda: ForecastNet(huge), small, "folder")
    check_shapes(lambda: ForecastNet(ForecastNetConfig(hidden_size=4)), small, "folder")  # the right one passes


def test_missing_extra_and_retyped_tensors_are_named():
    state = ForecastNet(ForecastNetConfig(hidden_size=4)).state_dict()
    build = lambda: ForecastNet(ForecastNetConfig(hidden_size=4))  # noqa: E731
    name = next(iter(state))
    with pytest.raises(CheckpointError, match=f"lacks tensor\\(s\\) \\['{name}'\\]"):
        check_shapes(build, {k: v for k, v in state.items() if k != name}, "f")
    with pytest.raises(CheckpointError, match=r"holds tensor\(s\) \['stray'\]"):
        check_shapes(build, {**state, "stray": torch.zeros(1)}, "f")
    with pytest.raises(CheckpointError, match="has dtype torch.float64"):
        check_shapes(build, {**state, name: state[name].double()}, "f")
