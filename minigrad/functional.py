"""``minigrad.functional`` (alias ``mg.F``): the differentiable ops under their Keras / torch
functional names. Everything here takes and returns Tensors (ndarrays and scalars are
accepted as constant inputs); the implementations live in ``minigrad.ops``.

Activations: relu, leaky_relu(x, negative_slope=0.2), elu(x, alpha=1.0), selu, prelu(x, alpha),
rrelu(x, lower=1/8, upper=1/3, training=False, rng=None), sigmoid, tanh,
softmax(x, axis=-1), log_softmax(x, axis=-1).
Layers as functions: linear(x, kernel, bias=None, activation=None, *, tag=None, alpha=None)
(BLAS GEMM plus one fused bias+activation epilogue), dropout(x, rate, training=False),
batch_norm(x, gamma, beta, moving_mean, moving_var, training=False, momentum=0.99,
epsilon=1e-3, axis=-1).
Losses: softmax_cross_entropy(logits, labels) (sparse or one-hot labels; the batch mean).
"""
from .ops.activation import elu, leaky_relu, prelu, relu, rrelu, selu, sigmoid, tanh
from .ops.dropout import dropout
from .ops.linear import linear
from .ops.norm import batch_norm
from .ops.softmax import log_softmax, softmax, softmax_cross_entropy

__all__ = [
    "batch_norm", "dropout", "elu", "leaky_relu", "linear", "log_softmax", "prelu", "relu",
    "rrelu", "selu", "sigmoid", "softmax", "softmax_cross_entropy", "tanh",
]
