"""Tests of mmlib.nets: the MLP encoders."""

import numpy as np
import pytest
import torch
from torch import nn

from mmlib.nets import MLP, make_encoders


def test_mlp_shapes_and_layers():
    net = MLP(7, 3, hidden=(16, 8), activation="tanh", batch_norm=True, dropout=0.1)
    assert net(torch.randn(5, 7)).shape == (5, 3)
    kinds = [type(m) for m in net.layers]
    assert kinds == [
        nn.Linear, nn.BatchNorm1d, nn.Tanh, nn.Dropout,
        nn.Linear, nn.BatchNorm1d, nn.Tanh, nn.Dropout,
        nn.Linear,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "cls"), [("relu", nn.ReLU), ("GELU", nn.GELU), ("sigmoid", nn.Sigmoid)]
)
def test_mlp_activations(name, cls):
    net = MLP(4, 2, hidden=(5,), activation=name)
    assert isinstance(net.layers[1], cls)


def test_mlp_without_hidden_layers_is_linear():
    net = MLP(4, 2, hidden=())
    assert len(net.layers) == 1 and isinstance(net.layers[0], nn.Linear)
    x, y = torch.randn(3, 4), torch.randn(3, 4)
    torch.testing.assert_close(net(x + y) - net(y), net(x) - net(torch.zeros(3, 4)))


def test_make_encoders():
    encoders = make_encoders([3, 5, 2], 4, hidden=(8,))
    assert isinstance(encoders, nn.ModuleList) and len(encoders) == 3
    assert [e.in_features for e in encoders] == [3, 5, 2]
    assert all(e(torch.randn(6, e.in_features)).shape == (6, 4) for e in encoders)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"in_features": 0}, ValueError, "in_features must be >= 1"),
        ({"in_features": 2.5}, TypeError, "in_features must be an int"),
        ({"out_features": -1}, ValueError, "out_features"),
        ({"hidden": 64}, TypeError, r"write \(64,\)"),
        ({"hidden": "64"}, TypeError, "sequence of layer widths"),
        ({"hidden": (64, 0)}, ValueError, r"hidden\[1\] must be >= 1"),
        ({"activation": "swish"}, ValueError, "activation must be one of"),
        ({"batch_norm": "yes"}, TypeError, "batch_norm must be a bool"),
        ({"dropout": 1.0}, ValueError, "dropout"),
    ],
)
def test_mlp_bad_arguments(kwargs, error, match):
    args = {"in_features": 4, "out_features": 2, **kwargs}
    with pytest.raises(error, match=match):
        MLP(**args)


def test_make_encoders_bad_arguments():
    with pytest.raises(TypeError, match="in_dims"):
        make_encoders(5, 2)
    with pytest.raises(ValueError, match=r"in_dims\[1\]"):
        make_encoders([3, 0], 2)


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (np.zeros((4, 3), dtype=np.float32), TypeError, "x must be a torch.Tensor"),
        (torch.zeros(4, 5), ValueError, "x has 5 features .* expects 3"),
        (torch.zeros(4, 3, dtype=torch.float64), TypeError, "dtype torch.float64.*float32"),
        (torch.zeros(3), ValueError, "x must be 2-D"),
        (torch.tensor([[0.0, float("nan"), 1.0]] * 4), ValueError, "x contains NaN"),
        (torch.tensor([[0.0, float("inf"), 1.0]] * 4), ValueError, "x contains NaN or inf"),
    ],
)
def test_mlp_forward_refuses_bad_input(x, error, match):
    with pytest.raises(error, match=match):
        MLP(3, 2, hidden=(4,))(x)


def test_mlp_forward_one_row_under_batch_norm():
    net = MLP(3, 2, hidden=(4,), batch_norm=True)
    with pytest.raises(ValueError, match="1 row.*batch normalisation.*eval"):
        net(torch.zeros(1, 3))
    net.eval()  # running statistics: one row is fine
    assert net(torch.zeros(1, 3)).shape == (1, 2)
    assert MLP(3, 2, hidden=(4,))(torch.zeros(1, 3)).shape == (1, 2)  # no batch norm
