"""Regrowth of depleted tiles at the real respawn probabilities, statistically (SPEC 2.1, 16).

A depleted tile rolls once per tick with its material's respawn probability p, the first roll at
the end of the step that harvested it (SPEC 2.1). A tile harvested in step 1 therefore first shows
its base material again after step k with probability (1 - p)^(k - 1) p: k is Geometric(p) on
{1, 2, ...}, mean 1/p, standard deviation sqrt(1 - p) / p. The scenario tests only use p = 0 and
p = 1; here many tiles regrow at the Default p, so that a wrong law (p^2, 2p, a fixed delay of
1/p, no harvest at all) is rejected.

`regrowth_delays` measures the delays of any depletable material from a scenario drawing whose
players harvest every tile of that material in step 1; `assert_geometric` checks them. To add a
material, draw a world where it is harvested in step 1 and call both (see the Foilage tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax as nj
from nmmo_jax import material as m
from nmmo_jax import scenario
from nmmo_jax.state import material

# The config key of each material's respawn probability and its Default value (SPEC 1.3, 2.1).
RESPAWN = {
    m.FOILAGE: ("resource_foilage_respawn", 0.025),
    m.ORE: ("profession_ore_respawn", 0.10),
    m.TREE: ("profession_tree_respawn", 0.105),
    m.CRYSTAL: ("profession_crystal_respawn", 0.10),
    m.HERB: ("profession_herb_respawn", 0.02),
    m.FISH: ("profession_fish_respawn", 0.02),
}
FALSE_ALARM = 1e-6  # probability that a correct implementation fails one check of assert_geometric
Z = 5.0  # two-sided normal bound of the mean check: P(|N(0, 1)| > 5) = 5.7e-7 < FALSE_ALARM


def regrowth_delays(
    drawing: str,
    mat_id: int,
    probability: float,
    players: dict | None = None,
    n_envs: int = 64,
    seed: int = 0,
    prepare: Callable | None = None,
    **config,
) -> np.ndarray:
    """int [n_envs * tiles]: for every tile of `mat_id` in the drawing, in each of `n_envs`
    environments stepped with independent keys, the first step k after which the tile shows
    `mat_id` again (read from `material(state.tiles, state.tick)` of the returned state).

    The world is `scenario.build(drawing, players, **config)` with the material's respawn
    probability set to `probability`; `prepare(cfg, state) -> state` may edit it further (e.g.
    hand out tools). Every player Stays, and the players must harvest every tile of `mat_id` in
    step 1 (a tile that is not harvested reads k = 1). The environments run under one jitted
    `jax.vmap` of a `lax.while_loop` over `nj.Env(cfg).step` until every tile has regrown, for
    at most as many steps as keep the chance of a tile not regrowing in time below 1e-6 (such a
    tile would read 0 and fail the test).
    """
    key_name, _ = RESPAWN[mat_id]
    cfg, state = scenario.build(drawing, players=players, **{key_name: probability, **config})
    if prepare is not None:
        state = prepare(cfg, state)
    tiles, _ = scenario.parse(drawing)
    rows, cols = np.nonzero(tiles == mat_id)
    assert rows.size > 0, "the drawing has no tile of this material"
    rows = jnp.asarray(rows + cfg.map_border)
    cols = jnp.asarray(cols + cfg.map_border)
    n_tiles = n_envs * rows.size
    max_steps = math.ceil(math.log(1e-6 / n_tiles) / math.log1p(-probability))

    env = nj.Env(cfg)
    actions = env.noop_actions  # everyone Stays

    def run(key):
        def not_done(carry):
            k, _, first = carry
            return (k <= max_steps) & (first == 0).any()

        def body(carry):
            k, state, first = carry
            _, state, *_ = env.step(jax.random.fold_in(key, k), state, actions)
            regrown = material(state.tiles, state.tick)[rows, cols] == mat_id
            return k + 1, state, jnp.where((first == 0) & regrown, k, first)

        first = jnp.zeros(rows.shape, jnp.int32)
        _, _, first = jax.lax.while_loop(not_done, body, (jnp.int32(1), state, first))
        return first

    keys = jax.random.split(jax.random.key(seed), n_envs)
    return np.asarray(jax.jit(jax.vmap(run))(keys)).reshape(-1)


def assert_geometric(delays: np.ndarray, p: float) -> None:
    """`delays` are independent Geometric(p) draws on {1, 2, ...}: checked by the mean and by the
    whole distribution function, each failing a correct implementation with probability below
    FALSE_ALARM."""
    n = delays.size
    assert (delays >= 1).all(), f"{int((delays < 1).sum())} tiles did not regrow in time"

    # The mean is within Z standard errors of 1/p.
    def standard_error(q):
        return math.sqrt(1 - q) / q / math.sqrt(n)

    mean, se = float(delays.mean()), standard_error(p)
    assert abs(mean - 1 / p) < Z * se, (mean, 1 / p, se)
    # The check has the power to tell p from p^2, 2p and p/2: the mean of n draws at any of
    # those would lie, but for a probability below FALSE_ALARM, outside the accepted interval.
    for q in (p * p, min(2 * p, 1.0), p / 2):
        assert abs(1 / q - 1 / p) > Z * (se + standard_error(q)), f"{n} draws cannot reject {q}"

    # The distribution function: sup_k |F_n(k) - F(k)| with F(k) = 1 - (1 - p)^k, bounded by the
    # Dvoretzky-Kiefer-Wolfowitz inequality P(sup > eps) <= 2 exp(-2 n eps^2) (any distribution).
    # This rejects laws with the right mean and the wrong shape (e.g. always 1/p ticks).
    k = np.arange(1, delays.max() + 1)
    empirical = np.searchsorted(np.sort(delays), k, side="right") / n
    distance = float(np.abs(empirical - (1 - (1 - p) ** k)).max())
    eps = math.sqrt(math.log(2 / FALSE_ALARM) / (2 * n))
    assert distance < eps, (distance, eps)


# --- Foilage: eaten by a player standing on it (SPEC 3.3 step 6.7)

# 16 players, each on its own foilage tile, with water to the north so they keep drinking (they
# may still starve while waiting: the tiles regrow regardless).
FOILAGE_ROW = 16
FOILAGE_DRAWING = "\n".join(["~ " * FOILAGE_ROW, "f " * FOILAGE_ROW])
FOILAGE_PLAYERS = {c + 1: dict(row=1, col=c) for c in range(FOILAGE_ROW)}


def test_default_foilage_respawn_probability():
    assert RESPAWN[m.FOILAGE] == ("resource_foilage_respawn", 0.025)  # SPEC 1.3
    assert nj.Config().resource_foilage_respawn == 0.025
    cfg, _ = scenario.build(FOILAGE_DRAWING, players=FOILAGE_PLAYERS)
    assert cfg.resource_foilage_respawn == 0.025


@pytest.mark.parametrize(
    "probability",
    [RESPAWN[m.FOILAGE][1], 0.1],  # the Default, and another p (no constant baked in)
)
def test_foilage_regrows_after_a_geometric_delay(probability):
    # 64 environments x 16 tiles = 1024 delays: at p = 0.025 the mean is 40 with a standard error
    # of sqrt(0.975) / 0.025 / 32 = 1.23, so 40 +- 6.2 is accepted, and p^2 (mean 1600), 2p (20)
    # and p/2 (80) are rejected.
    delays = regrowth_delays(FOILAGE_DRAWING, m.FOILAGE, probability, players=FOILAGE_PLAYERS)
    assert delays.size == 64 * FOILAGE_ROW
    assert_geometric(delays, probability)
