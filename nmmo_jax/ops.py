"""Small array helpers shared by the systems (gathers, contention, regrowth draws)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

INT32_MAX = 2**31 - 1
INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1

# (row, col) offsets of the 4 neighbours in the reference's direction order N, S, E, W (SPEC 12.1).
NEIGHBOUR_DELTAS = ((-1, 0), (1, 0), (0, 1), (0, -1))


def gather(grid: jax.Array, row: jax.Array, col: jax.Array) -> jax.Array:
    """grid[row, col] for arrays of points, via a flat 1-D gather (faster than 2-D on XLA CPU)."""
    width = grid.shape[-1]
    return grid.reshape(-1)[row * width + col]


def neighbours(grid: jax.Array, row: jax.Array, col: jax.Array) -> jax.Array:
    """[..., 4]: grid at the N, S, E, W neighbours of each point."""
    return jnp.stack([gather(grid, row + dr, col + dc) for dr, dc in NEIGHBOUR_DELTAS], axis=-1)


def first_true(mask: jax.Array) -> jax.Array:
    """int32 [...]: the index of the first True along the last axis of `mask`, or its length
    when none. One min-reduce; jnp.argmax is a variadic (value, index) reduce, several times
    slower on XLA CPU."""
    size = mask.shape[-1]
    index = jnp.arange(size, dtype=jnp.int32)
    return jnp.where(mask, index, size).min(axis=-1)


def first_claimant(cell: jax.Array, wants: jax.Array) -> jax.Array:
    """bool [N]: `wants` and no lower index also wants the same `cell`.

    The reference updates players one after another in id order, so on a contested tile the
    lowest id harvests (SPEC 3.3). A pairwise [N, N] test is cheaper than a scatter into a
    map-sized grid for the player counts we run (N = 128: 16 K compares vs a 25 K-cell grid).
    """
    index = jnp.arange(cell.shape[0])
    earlier_rival = (
        (cell[None, :] == cell[:, None]) & wants[None, :] & (index[None, :] < index[:, None])
    )
    return wants & ~earlier_rival.any(axis=1)


def geometric_delay(u: jax.Array, probability: jax.Array) -> jax.Array:
    """int32: ticks until a tile depleted now shows its base material again, from uniforms `u`
    in [0, 1).

    The reference rolls every depleted tile once per tick with `probability` (SPEC 2.1); the
    number of rolls until the first success is Geometric(p) on {1, 2, ...}. Drawing it once at
    depletion gives the same distribution with one draw per harvest instead of one per tile per
    tick. p = 0 never regrows.
    """
    u = jnp.maximum(u, jnp.finfo(jnp.float32).tiny)
    log_keep = jnp.log1p(-jnp.minimum(probability, 1.0 - 1e-7))
    rolls = jnp.floor(jnp.log(u) / jnp.where(log_keep < 0, log_keep, -1.0)) + 1.0
    rolls = jnp.where(probability >= 1.0, 1.0, rolls)
    rolls = jnp.where(probability <= 0.0, float(INT32_MAX), rolls)
    return jnp.minimum(rolls, float(INT32_MAX // 2)).astype(jnp.int32)


def when(pred: jax.Array, fn, operand):
    """`fn(operand)` if `pred` (bool []) else `operand`, as a `while_loop` of at most one trip.

    For work that most steps do not need (a refill, the items of the dead). Batched over
    environments the loop runs when any of them needs it and keeps the others' operand; a
    `lax.cond` under vmap would compute `fn` every step (a select of both branches). Keep
    `operand` to the arrays `fn` changes: the loop carries it, and batched, selects it whole."""

    def body(carry):
        trips, x = carry
        return trips + 1, fn(x)

    _, out = jax.lax.while_loop(
        lambda carry: carry[0] < pred.astype(jnp.int32), body, (jnp.int32(0), operand)
    )
    return out


def fixed_point(resolve, start: jax.Array, limit: int):
    """(x, extras): iterates `resolve` (x -> (x, extras)) from `start` until x stops changing.

    The exact sequential order of a tick's actions without a loop over the actors: when each
    actor's outcome depends only on the outcomes of actors before it in the order, the
    outcomes are the unique fixed point, and each round fixes at least the next actor, so at
    most `limit` + 1 rounds are needed. The loop carries each round's results: when the first
    guess is the answer (nothing depends on anything, most ticks) it makes no trip."""

    def body(carry):
        rounds, x, (new, _) = carry
        return rounds + 1, new, resolve(new)

    def again(carry):
        rounds, x, (new, _) = carry
        return jnp.any(new != x) & (rounds <= limit)

    _, x, (_, extras) = jax.lax.while_loop(again, body, (jnp.int32(0), start, resolve(start)))
    return x, extras


def exclusive_cumsum(x: jax.Array) -> jax.Array:
    """int32 [M]: the sum of x[:i] at i (a rank among the set entries of a bool vector).

    jnp.cumsum lowers to a reduce-window that is O(M^2) on XLA CPU (a cumsum over 1536 entries
    cost more than a whole tick of the foundation); an associative scan is O(M log M) but emits
    ~10 small ops per level, each with a fixed dispatch cost that dominates at these sizes. So:
    blocks of 32, a cumsum within blocks and one over the block totals (3 ops)."""
    x = x.astype(jnp.int32)
    m = x.shape[0]
    if m <= 128:
        return jnp.cumsum(x) - x
    block = 32
    blocks = -(-m // block)
    inner = jnp.cumsum(jnp.pad(x, (0, blocks * block - m)).reshape(blocks, block), axis=1)
    offsets = jnp.cumsum(inner[:, -1]) - inner[:, -1]
    return (inner + offsets[:, None]).reshape(-1)[:m] - x


def mix32(x: jax.Array) -> jax.Array:
    """A 32-bit integer finaliser with low bias (lowbias32, C. Wellons): every input bit
    affects every output bit."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


def uniforms(key: jax.Array, shape, stream: int = 0) -> jax.Array:
    """float32 uniforms in [0, 1) of `shape`, a function of `key` only: the key's two data words
    seed an integer hash of each element's index (24-bit resolution).

    Used for the draws inside a tick instead of jax.random.uniform: threefry is a rolled while
    loop on XLA CPU whose fixed cost per call is more than the tick's arithmetic that uses the
    draws; a hash is a few fused integer ops. Different keys (the split keys of successive
    steps) give independent-looking streams; the statistics tests of regrowth and of
    `Env.sample_actions` check the distributions. Systems that draw with the same key take
    different `stream`s (an offset of the hash's seed), so their draws are not the same numbers."""
    x = random_bits(key, shape, stream)
    return (x >> 8).astype(jnp.float32) * jnp.float32(1.0 / (1 << 24))


def random_bits(key: jax.Array, shape, stream: int = 0) -> jax.Array:
    """uint32 random words of `shape`, a function of `key` and `stream` only (`uniforms`)."""
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    words = key.reshape(-1).astype(jnp.uint32)
    index = jnp.arange(int(np.prod(shape)), dtype=jnp.uint32).reshape(shape)
    seed = words[0] + jnp.uint32((stream * 0x85EBCA6B) & 0xFFFFFFFF)
    x = mix32(index * jnp.uint32(0x9E3779B9) + seed)
    return mix32(x ^ words[-1])


MATERIALIZE = True  # False: `materialize` returns its values as they are (A/B timing)


def materialize(*values, token: jax.Array):
    """`values`, computed into buffers of their own. XLA on CPU fuses cheap elementwise
    producers into each consumer and recomputes them for every element it produces: a
    per-row decoding broadcast into an [N, M] mask is redone N times. It drops
    `optimization_barrier` before fusing, but not the boundary of a while loop: the values
    leave one whose trip count (1) depends on `token` (any int32 scalar of the state, so
    the loop cannot be simplified away).

    Under `vmap` the loop runs once on the whole batch with the first environment's token
    (`_materialize`'s batching rule): a batched trip count would make the loop test every
    environment's counter and select each value between trips (two extra kernels and a pass
    over the values per call)."""
    if not MATERIALIZE:
        return values
    leaves, tree = jax.tree.flatten(values)
    return jax.tree.unflatten(tree, _materialize(token, *leaves))


def _materialize_loop(token, values) -> tuple:
    start = jnp.minimum(token, 0)  # 0 for a tick (>= 0), but not a constant

    def cond(carry):
        return carry[0] < 1

    def body(carry):
        # not a pass-through (jax would forward an unchanged carry around the loop): a select
        # that keeps every value, on a counter the compiler cannot see
        i = carry[0]
        kept = jax.tree.map(lambda v: jnp.where(i < 0, jnp.zeros_like(v), v), carry[1:])
        return (i + 1,) + kept

    return tuple(jax.lax.while_loop(cond, body, (start,) + tuple(values))[1:])


@jax.custom_batching.custom_vmap
def _materialize(token, *values):
    return _materialize_loop(token, values)


@_materialize.def_vmap
def _materialize_batched(axis_size, in_batched, token, *values):
    token_batched, *batched = in_batched
    if token_batched:
        token = token.reshape(-1)[0]  # any environment's token: the trip count is 1 for all
    values = [
        v if b else jnp.broadcast_to(v, (axis_size,) + v.shape)
        for v, b in zip(values, batched, strict=True)
    ]
    out = _materialize_loop(token, values)
    return out, (True,) * len(out)
