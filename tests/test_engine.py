"""The engine (tensor.py, function.py, grad_mode.py): the backward walk, gradient ownership,
version counters, hooks, grad mode, the dtype rules, errors and the Tensor surface."""
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.function import Function


def leaf(values, dtype="float64"):
    return mg.Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------------------- the walk


def test_gradients_accumulate_across_backward_calls_until_zero_grad():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 3.0)
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0, 3.0])


def test_backward_frees_the_graph_unless_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    x.zero_grad()
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    np.testing.assert_allclose(first, np.exp(x.data) * (x.data + 1))
    y.backward()    # the retained graph works once more and the gradients add up
    np.testing.assert_allclose(x.grad, 2 * first)


def test_a_node_used_twice_gets_the_sum_of_both_paths():
    x = leaf([2.0])
    y = x * 3.0
    (y * y + y).backward()   # d/dx (9x^2 + 3x) = 18x + 3
    np.testing.assert_allclose(x.grad, [39.0])


def test_ten_thousand_op_chain_backprops_without_recursion():
    x = leaf(0.5)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(y.data, 0.5 * 1.0001 ** 10_000, rtol=1e-10)
    np.testing.assert_allclose(x.grad, 1.0001 ** 10_000, rtol=1e-10)


def test_leaf_gradients_never_alias():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = np.array([0.5, -1.0])
    (a + b).backward(g)   # Add hands the same array to both inputs
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, g)
    a.grad[0] = 100.0
    g[1] = 7.0
    np.testing.assert_array_equal(b.grad, [0.5, -1.0])
    c = leaf(np.ones((2, 3)))
    c.sum().backward()    # Sum's gradient is a read-only broadcast view
    c.grad += 1.0         # the stored copy is an ordinary writable array
    np.testing.assert_array_equal(c.grad, np.full((2, 3), 2.0))


def test_gradients_of_a_zero_d_tensor_are_arrays():
    x = leaf(1.5)
    seen = []
    y = x * 2.0
    y.register_hook(lambda g: seen.append(type(g)))
    (y * np.float64(3.0)).backward()
    assert seen == [np.ndarray] and type(x.grad) is np.ndarray and x.grad.shape == ()
    np.testing.assert_array_equal(x.grad, 6.0)


class _Fresh(Function):
    """y = 2x whose backward returns a new array and remembers it (weakly)."""

    made = []

    def forward(self, x):
        return x * 2.0

    def backward(self, g):
        dx = g * 2.0
        _Fresh.made.append(weakref.ref(dx))
        return dx


def test_a_leaf_keeps_an_array_only_the_walk_holds_without_copying():
    _Fresh.made.clear()
    x = leaf([1.0, 2.0])
    _Fresh.apply(x).backward(np.ones(2))
    assert x.grad is _Fresh.made[0]()       # adopted: no copy for the common case


def test_a_leaf_copies_an_array_someone_else_holds():
    kept = []
    x = leaf([1.0, 2.0])
    y = _Fresh.apply(x)
    y.register_hook(lambda g: kept.append(g))     # holds the gradient flowing into y
    x.register_hook(lambda g: kept.append(g))     # and the one flowing into x
    y.backward(np.ones(2))
    assert not np.shares_memory(x.grad, kept[1])
    kept[1][:] = 99.0
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_the_same_array_returned_for_two_leaves_is_copied_once():
    class Twice(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, g):
            d = g * 1.0
            return d, d      # legal: the walk, not the op, decides about ownership

    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    Twice.apply(a, b).backward(np.array([1.0, -1.0]))
    assert not np.shares_memory(a.grad, b.grad)
    np.testing.assert_array_equal(a.grad, b.grad)


# ---------------------------------------------------------------------------- hooks


def test_hook_sees_the_complete_gradient_once():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    calls = []
    y.register_hook(lambda g: calls.append(g.copy()))
    (y * 2.0 + y * 3.0).sum().backward()
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [5.0, 5.0])


def test_hooks_run_in_order_and_a_returned_array_replaces_the_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    order = []
    y.register_hook(lambda g: order.append(("first", g.copy())) or g * 10.0)
    y.register_hook(lambda g: order.append(("second", g.copy())))
    y.sum().backward()
    assert [name for name, _ in order] == ["first", "second"]
    np.testing.assert_array_equal(order[1][1], [10.0, 10.0])   # sees the replacement
    np.testing.assert_array_equal(x.grad, [20.0, 20.0])        # and so does the walk


def test_leaf_hook_and_handle_remove():
    x = leaf([1.0, 2.0])
    handle = x.register_hook(lambda g: g * 0.0)
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    handle.remove()
    handle.remove()       # removing twice is harmless
    x.zero_grad()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_hook_errors():
    with pytest.raises(RuntimeError, match="register_hook"):
        mg.Tensor([1.0]).register_hook(print)
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: np.zeros(3))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * 2.0).sum().backward()


# ---------------------------------------------------------------------------- versions


def test_in_place_changes_bump_the_version():
    p = mg.Parameter(np.zeros(3), name="w")
    assert p.version == 0
    p.assign(np.ones(3))
    p.bump_version()
    assert p.version == 2
    t = mg.Tensor(np.zeros(2), requires_grad=True)
    t.assign([1.0, 2.0])
    assert t.version == 1 and (t * 1.0).version == 0


def test_backward_after_assign_raises_naming_the_variable_and_the_op():
    w = mg.Parameter(np.ones((3, 2)), name="dense/kernel")
    x = leaf(np.ones((4, 3)))
    y = (x @ w).sum()
    w.assign(np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match=r"Parameter .dense/kernel.*version 1\) after MatMul"):
        y.backward()
    t = leaf([1.0, 2.0])
    z = (t * t).sum()
    t.bump_version()
    with pytest.raises(RuntimeError, match=r"tensor of shape \(2,\).*Mul"):
        z.backward()


def test_a_variable_no_op_saved_may_change_before_backward():
    """As PyTorch: Add saves nothing, so changing its input does not stale its gradient."""
    w = mg.Parameter(np.ones(3), name="b")
    y = (w + 1.0).sum()
    w.assign(np.zeros(3))
    y.backward()
    np.testing.assert_array_equal(w.grad, np.ones(3))


def test_set_weights_and_an_optimizer_step_bump_versions():
    layer = mg.layers.Dense(2)
    x = mg.Tensor(np.ones((3, 4), np.float32))
    loss = layer(x).sum()
    layer.set_weights([w.data + 1.0 for w in layer.weights])
    with pytest.raises(RuntimeError, match=r"Parameter 'dense(_\d+)?/kernel'.*Linear saved"):
        loss.backward()
    opt = mg.optimizers.SGD(0.1)
    opt.build(layer.weights)   # moves the weights into its flat buffer (minigrad._flat) first
    loss = layer(x).sum()
    loss.backward(retain_graph=True)
    opt.apply_gradients([(w.grad, w) for w in layer.weights])
    assert all(w.version == 2 for w in layer.weights)
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()        # the retained graph saved the pre-step kernel
    layer(x).sum().backward()  # a fresh forward after the step is fine


# ---------------------------------------------------------------------------- grad mode


def test_no_grad_builds_no_graph_and_enable_grad_reenables():
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2.0
        with mg.enable_grad():
            z = x * 2.0
        w = x * 2.0
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert not w.requires_grad and z.requires_grad and not z.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_no_grad_as_a_decorator_restores_the_mode_after_an_exception():
    @mg.no_grad()
    def f(t):
        assert not mg.is_grad_enabled()
        raise KeyError("boom")
    with pytest.raises(KeyError):
        f(leaf([1.0]))
    assert mg.is_grad_enabled()


def test_forward_sees_no_input_needing_grad_outside_a_recorded_graph():
    """Ops never read the global grad mode in forward: apply tells them through
    needs_input_grad (all False under no_grad), so they can skip backward-only work."""
    seen = []

    class Spy(Function):
        def forward(self, x):
            seen.append(self.needs_input_grad)
            return x * 1.0

    x = leaf([1.0])
    Spy.apply(x)
    with mg.no_grad():
        Spy.apply(x)
    Spy.apply(mg.Tensor([1.0]))
    assert seen == [(True,), (False,), (False,)]


def test_outputs_of_ops_on_constants_do_not_require_grad():
    y = mg.Tensor([1.0, 2.0]) * 2.0
    assert not y.requires_grad and y.grad_fn is None


# ---------------------------------------------------------------------------- dtype rules


def test_construction_dtype_rules():
    assert mg.Tensor([1.0, 2.0]).dtype == np.float32
    assert mg.Tensor(1.5).dtype == np.float32
    assert mg.Tensor(np.ones(2)).dtype == np.float64
    assert mg.Tensor(np.ones(2, np.float32)).dtype == np.float32
    assert mg.Tensor(np.ones(2, np.float16)).dtype == np.float32
    assert mg.Tensor([1, 2]).dtype == np.array([1, 2]).dtype
    assert mg.Tensor(np.ones(2, np.int8)).dtype == np.int8
    assert mg.Tensor([True, False]).dtype == np.bool_
    assert mg.Tensor([1, 2], dtype="float64").dtype == np.float64
    for data in ([1, 2], np.ones(2, np.int32), [True]):
        with pytest.raises(TypeError, match="float"):
            mg.Tensor(data, requires_grad=True)


def test_set_floatx_changes_the_defaults(float64_default):
    assert mg.config.floatx() == "float64"
    assert mg.Tensor([1.0]).dtype == np.float64
    assert mg.Tensor(np.ones(1, np.float16)).dtype == np.float64
    assert mg.Tensor(np.ones(1, np.float32)).dtype == np.float32    # ndarrays keep theirs
    assert (mg.Tensor([1, 2]) * 0.5).dtype == np.float64
    with pytest.raises(ValueError, match="set_floatx"):
        mg.config.set_floatx("float16")


def test_floatx_restored_after_the_fixture():
    assert mg.config.floatx() == "float32"


def test_scalars_take_the_tensor_dtype_and_ints_are_cast():
    t32 = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    t64 = mg.Tensor(np.ones(3, np.float64))
    for y in (t32 * 2.5, 1 - t32, t32 ** 2, 2.0 / t32, t32 + np.float64(1.0)):
        assert y.dtype == np.float32
    assert (2.5 - t64).dtype == np.float64
    assert (mg.Tensor([1, 2, 3]) + t64).dtype == np.float64  # ints join the float dtype
    assert (mg.Tensor([1, 2]) * 0.5).dtype == np.float32     # no float tensor: floatx
    (t32 * 2.5).sum().backward()
    assert t32.grad.dtype == np.float32


def test_mixed_float_dtypes_raise_naming_the_op_and_both_dtypes():
    t32, t64 = mg.Tensor(np.ones(3, np.float32)), mg.Tensor(np.ones(3))
    with pytest.raises(TypeError, match=r"(?i)add.*float32.*float64"):
        t32 + t64
    with pytest.raises(TypeError, match=r"(?i)matmul.*float64.*float32"):
        np.ones((3, 3)) @ t32
    with pytest.raises(TypeError, match=r"(?i)mul"):
        t64 * np.ones(3, np.float32)


def test_cast_gradient_returns_in_the_input_dtype():
    x = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    y = x.astype("float64")
    assert y.dtype == np.float64
    (y * np.arange(3.0)).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 2.0])
    i = x.astype("int32")    # integer results never join the graph
    assert i.dtype == np.int32 and not i.requires_grad and i.grad_fn is None


def test_numpy_float64_scalars_take_the_tensor_dtype():
    t = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    assert (t * np.float64(2)).dtype == np.float32
    assert t.clip(np.float64(0), np.float64(0.5)).dtype == np.float32
    assert mg.where(t > 0, t, np.float64(0)).dtype == np.float32


def test_zero_d_ndarrays_keep_their_dtype_alone_and_take_the_tensor_dtype_beside_one():
    """Issue 10 item 7 (API §1: an ndarray keeps its dtype): mg.exp(np.array(2.0)) was
    float32 while mg.exp(np.array([2.0])) was float64. PyTorch keeps float64 in both."""
    two = np.array(2.0)
    assert mg.exp(two).dtype == np.float64 and mg.exp(np.array([2.0])).dtype == np.float64
    np.testing.assert_allclose(mg.exp(two).data, np.exp(2.0), rtol=1e-15)
    assert mg.add(np.array(1.0), np.array(2.0)).dtype == np.float64
    assert mg.stack([np.array(1.0), np.array(2.0)]).dtype == np.float64
    assert mg.exp(np.array(2.0, np.float32)).dtype == np.float32
    assert mg.exp(2.0).dtype == np.float32                               # a Python float: floatx
    t32 = mg.Tensor(np.ones(2, np.float32))
    assert (t32 * np.array(2.0)).dtype == np.float32                     # beside a tensor
    assert mg.add(np.ones(2, np.float32), np.array(2.0)).dtype == np.float32
    with pytest.raises(TypeError, match=r"Add.*float32.*float64"):
        mg.add(np.array(1.0, np.float32), np.array(2.0))


# ---------------------------------------------------------------------------- errors


def test_error_messages_name_the_op_and_the_shapes():
    a, b = mg.Tensor(np.ones((3, 4))), mg.Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        a @ b
    with pytest.raises(ValueError, match=r"add.*\(3, 4\).*\(5, 2\)"):
        a + b
    with pytest.raises(ValueError, match=r"mul.*\(3, 4\).*\(5,\)"):
        a * np.ones(5)
    with pytest.raises(ValueError, match=r"softmax_cross_entropy.*\[0, 4\)"):
        mg.F.softmax_cross_entropy(leaf(np.zeros((3, 4))), np.array([0, 4, 1]))


def test_backward_errors():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        (x * 2.0).backward(np.ones((3, 2)))
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.Tensor([1.0]).backward()
    y = (x * 2.0).sum(axis=1, keepdims=True)[0]   # a one-element tensor of shape (1,)
    y.backward()
    np.testing.assert_array_equal(x.grad, [[2, 2, 2], [0, 0, 0]])


# ---------------------------------------------------------------------------- tensor surface


def test_comparisons_are_boolean_tensors_without_grad():
    x = leaf([1.0, 2.0, 3.0])
    for r in (x > 2.0, x >= 2.0, x < 2.0, x <= 2.0, x == 2.0, x != 2.0, x > leaf([0, 2, 4])):
        assert r.dtype == np.bool_ and not r.requires_grad and r.grad_fn is None
    np.testing.assert_array_equal((x >= 2.0).data, [False, True, True])
    np.testing.assert_array_equal((x == leaf([1.0, 0.0, 3.0])).data, [True, False, True])
    assert {x, x} == {x}    # still hashable by identity


def test_array_protocol_numpy_item_len():
    x = mg.Tensor(np.arange(6.0).reshape(2, 3))
    assert np.asarray(x) is x.data and x.numpy() is x.data
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    assert not np.shares_memory(np.array(x, copy=True), x.data)
    assert np.asarray(x).sum() == 15.0 and len(x) == 2 and x.size == 6 and x.ndim == 2
    assert mg.Tensor([[4.0]]).item() == 4.0


def test_detach_shares_data_and_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    d = y.detach()
    assert d.data is y.data and d.is_leaf and not d.requires_grad and d.grad is None
    (y * d).sum().backward()          # d is a constant: dy/dx * d only
    np.testing.assert_array_equal(x.grad, 2.0 * d.data)


def test_inplace_add_rebinds_to_a_new_node():
    x, u = leaf([1.0, 2.0]), leaf([10.0, 20.0])
    t = x * 1.0
    before, data = t, t.data.copy()
    t += u
    assert t is not before and t.grad_fn is not None
    np.testing.assert_array_equal(before.data, data)
    (t * t).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * (x.data + u.data))
    np.testing.assert_array_equal(u.grad, x.grad)


def test_parameter_trainable_and_assign():
    p = mg.Parameter(np.zeros(3, np.float32), name="w")
    assert p.requires_grad and p.trainable and p.is_leaf
    p.trainable = False
    assert not p.requires_grad
    arr = p.data
    p.assign([1.0, 2.0, 3.0])
    assert p.data is arr and p.dtype == np.float32
    with pytest.raises(ValueError, match=r"'w'.*\(2,\).*\(3,\)"):
        p.assign([1.0, 2.0])


def test_assign_add_and_assign_sub_update_in_place_and_bump_the_version():
    """Keras's Variable.assign_add (the subclassing guide's ComputeSum layer) was missing."""
    p = mg.Parameter(np.array([1.0, 2.0], np.float32), name="total", trainable=False)
    arr, version = p.data, p.version
    p.assign_add(mg.Tensor(np.array([0.5, 0.5], np.float32)))
    p.assign_sub(np.array([1.0, 0.25]))          # float64 delta: the variable keeps float32
    np.testing.assert_array_equal(p.data, [0.5, 2.25])
    assert p.data is arr and p.dtype == np.float32 and p.version == version + 2
    with pytest.raises(ValueError, match="'total'"):
        p.assign_add(np.ones(3))
