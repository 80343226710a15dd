"""The NumPy layers of bench/python-adapters.mjs, checked by
`autograd-cli gradcheck --python bench/layers_numpy.py#NAME` (their torch twins, for
torch.autograd.gradcheck, are in bench/layers_torch.py). Each returns (value, gradients).
"""
import numpy as np

X = np.random.default_rng(0).standard_normal((8, 10))
Y = np.array([0, 1, 2, 3, 4, 0, 1, 2])


def softmax_np(W, b):
    """CS231n softmax loss of X W + b with 0.1·‖W‖² (W 10×5, b 5: 55 entries)."""
    n = len(Y)
    x = X.astype(W.dtype)
    s = x @ W + b
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), Y]).mean() + 0.1 * np.sum(W * W)
    d = p.copy()
    d[np.arange(n), Y] -= 1
    d /= n
    return loss, {"W": x.T @ d + W.dtype.type(0.2) * W, "b": d.sum(axis=0)}


def mlp_np(W1, W2):
    """½‖tanh(X W1) W2‖² (W1 10×6, W2 6×4: 84 entries)."""
    h = np.tanh(X.astype(W1.dtype) @ W1)
    o = h @ W2
    loss = 0.5 * np.sum(o * o)
    dh = (o @ W2.T) * (1 - h * h)
    return loss, {"W1": X.T.astype(W1.dtype) @ dh, "W2": h.T @ o}
