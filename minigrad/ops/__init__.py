"""Differentiable ops by family. Each file: kernels, then Function classes, then wrappers."""

# Keras 3's `keras.ops` activations (issue 13); `gelu` keeps ops' default approximate=True.
# softmax and log_softmax stay out: in this package those names are the softmax module's.
from . import activation as _activation

celu = _activation.celu
elu = _activation.elu
glu = _activation.glu
hard_shrink = _activation.hard_shrink
hard_sigmoid = _activation.hard_sigmoid
hard_silu = _activation.hard_silu
hard_tanh = _activation.hard_tanh
leaky_relu = _activation.leaky_relu
log_sigmoid = _activation.log_sigmoid
relu = _activation.relu
relu6 = _activation.relu6
selu = _activation.selu
sigmoid = _activation.sigmoid
silu = _activation.silu
soft_shrink = _activation.soft_shrink
softplus = _activation.softplus
softsign = _activation.softsign
sparse_plus = _activation.sparse_plus
sparse_sigmoid = _activation.sparse_sigmoid
sparsemax = _activation.sparsemax
squareplus = _activation.squareplus
tanh_shrink = _activation.tanh_shrink
threshold = _activation.threshold
gelu = _activation.ops_gelu
hard_swish = _activation.hard_silu
swish = _activation.silu
