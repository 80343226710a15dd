"""The torch layers of bench/python-adapters.mjs: custom autograd.Functions checked by
`autograd-cli gradcheck --torch bench/layers_torch.py#NAME`, and torch twins of the NumPy
layers of bench/layers_numpy.py; and torch.autograd.gradcheck on any of them, the same
function at the same sizes in float64:

  python3 bench/layers_torch.py NAME
"""
import os
import sys

import numpy as np
import torch

# the custom Functions of the tests: a sigmoid, a linear layer, sum(tanh(linear))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "python"))
from torch_functions import Linear, Sigmoid, linear_loss  # noqa: E402

X = np.random.default_rng(0).standard_normal((8, 10))
Y = np.array([0, 1, 2, 3, 4, 0, 1, 2])
XT = torch.tensor(X)
YT = torch.tensor(Y)


def softmax_torch(W, b):
    """bench/layers_numpy.py#softmax_np."""
    return torch.nn.functional.cross_entropy(XT.to(W.dtype) @ W + b, YT) + 0.1 * (W * W).sum()


def mlp_torch(W1, W2):
    """½‖tanh(X W1) W2‖², as bench/layers_numpy.py#mlp_np."""
    o = torch.tanh(XT.to(W1.dtype) @ W1) @ W2
    return 0.5 * (o * o).sum()


# name → (the function torch.autograd.gradcheck checks, the input shapes)
LAYERS = {
    "sigmoid": (lambda: Sigmoid.apply, {"x": (16,)}),
    "linear_loss": (lambda: linear_loss, {"x": (8, 6), "W": (4, 6), "b": (4,)}),
    "linear": (lambda: Linear.apply, {"x": (8, 6), "W": (4, 6), "b": (4,)}),
    "softmax": (lambda: softmax_torch, {"W": (10, 5), "b": (5,)}),
    "mlp": (lambda: mlp_torch, {"W1": (10, 6), "W2": (6, 4)}),
}

if __name__ == "__main__":
    fn, shapes = LAYERS[sys.argv[1]]
    g = torch.Generator().manual_seed(1)
    inputs = [torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True) for s in shapes.values()]
    assert torch.autograd.gradcheck(fn(), tuple(inputs))
    # no interpreter teardown (as the baseline and autograd-cli's adapter): only the check is compared
    os._exit(0)
