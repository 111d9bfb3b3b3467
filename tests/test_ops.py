"""The shared array helpers of nmmo_jax.ops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nmmo_jax import ops


@pytest.mark.parametrize("p", [0.025, 0.1, 0.5])
def test_geometric_delay_is_geometric(p):
    # The reference rolls a depleted tile once per tick with probability p (SPEC 2.1), so the
    # tick of regrowth is the first success: P(T = t) = (1 - p)^(t - 1) p, mean 1 / p.
    n = 200_000
    delay = np.asarray(
        ops.geometric_delay(jax.random.uniform(jax.random.key(0), (n,)), jnp.float32(p))
    )
    assert delay.min() >= 1
    for t in (1, 2, 3):
        expected = (1 - p) ** (t - 1) * p
        observed = np.mean(delay == t)
        # 5 binomial standard errors
        assert abs(observed - expected) < 5 * np.sqrt(expected * (1 - expected) / n), (t, observed)
    mean_se = np.sqrt((1 - p) / p**2 / n)
    assert abs(delay.mean() - 1 / p) < 5 * mean_se


def test_geometric_delay_edge_probabilities():
    always = ops.geometric_delay(jax.random.uniform(jax.random.key(1), (1000,)), jnp.float32(1.0))
    assert (np.asarray(always) == 1).all()
    never = np.asarray(
        ops.geometric_delay(jax.random.uniform(jax.random.key(2), (1000,)), jnp.float32(0.0))
    )
    assert (never > 2**20).all()  # beyond any episode (MAX_HORIZON = 32767)


def test_first_claimant_lowest_index_wins_each_cell():
    cell = jnp.array([5, 5, 7, 5, 7, 9])
    wants = jnp.array([False, True, True, True, True, False])
    # cell 5: indices 1 and 3 want it -> 1; cell 7: 2 and 4 -> 2; index 0 and 5 do not want.
    np.testing.assert_array_equal(
        np.asarray(ops.first_claimant(cell, wants)), [False, True, True, False, False, False]
    )


def test_gather_and_neighbours():
    grid = jnp.arange(25).reshape(5, 5)
    row, col = jnp.array([2, 1]), jnp.array([2, 3])
    np.testing.assert_array_equal(np.asarray(ops.gather(grid, row, col)), [12, 8])
    # N, S, E, W of (2, 2): 7, 17, 13, 11; of (1, 3): 3, 13, 9, 7.
    np.testing.assert_array_equal(
        np.asarray(ops.neighbours(grid, row, col)), [[7, 17, 13, 11], [3, 13, 9, 7]]
    )


def test_materialize_returns_its_values_and_keeps_them_out_of_the_consumers_fusion():
    """ops.materialize is the identity (any tick as the token, jitted and vmapped), and its
    values reach the compiled program as a loop's results: the consumer's fusion no longer
    recomputes them (XLA drops optimization_barrier, and jax forwards an unchanged carry)."""
    rows = jnp.arange(6, dtype=jnp.int32) * 7 - 5
    agents = jnp.arange(4, dtype=jnp.uint32) + 3

    def f(rows, agents, tick):
        r, a = ops.materialize(rows * 3 + 1, agents ^ 5, token=tick)
        return a[:, None].astype(jnp.int32) < r[None, :]

    want = ((np.arange(4) + 3) ^ 5)[:, None] < (np.arange(6) * 7 - 5) * 3 + 1
    for tick in (0, 5, 1023):
        np.testing.assert_array_equal(jax.jit(f)(rows, agents, jnp.int32(tick)), want)
    batched = jax.jit(jax.vmap(f))(
        jnp.stack([rows, rows]), jnp.stack([agents, agents]), jnp.array([0, 7], jnp.int32)
    )
    np.testing.assert_array_equal(batched, np.stack([want, want]))
    compiled = jax.jit(f).lower(rows, agents, jnp.int32(3)).compile().as_text()
    assert "while" in compiled


def test_materialize_under_vmap_runs_one_loop_for_the_batch():
    """Batched, `materialize` returns every environment's own values (batched or not, nested
    vmaps, a pytree of values, and the tokens of different environments differing), from one
    unbatched loop: no per-environment trip test (a reduce over the batch) in the program."""

    def f(x, tick, shared):
        ((a, (b, c)),) = ops.materialize((x * 2, (x + shared, shared - 1)), token=tick)
        return a + b + c

    x = jnp.arange(12.0).reshape(3, 4)
    ticks = jnp.asarray([0, 9, 300], jnp.int32)
    shared = jnp.float32(5.0)
    want = np.asarray(x) * 2 + (np.asarray(x) + 5) + 4
    vf = jax.jit(jax.vmap(f, in_axes=(0, 0, None)))
    np.testing.assert_array_equal(vf(x, ticks, shared), want)
    nested = jax.jit(jax.vmap(jax.vmap(f, in_axes=(0, 0, None)), in_axes=(0, 0, None)))
    np.testing.assert_array_equal(
        nested(jnp.stack([x, x + 1]), jnp.stack([ticks, ticks]), shared),
        np.stack([want, want + 3]),  # x + 1: 2 more from x * 2, 1 more from x + shared
    )
    text = vf.lower(x, ticks, shared).compile().as_text()
    assert text.count(" while(") == 1 and " reduce(" not in text
