"""The NPC charge step against the reference's A* (SPEC 6.4, DEVIATIONS 21).

tests/data/reference_astar_cases.npz (written by make_reference_astar_cases.py) holds cases
sampled on reference maps the way NPCs meet them (a start, a goal within the vision range, half
of them with an obstacle between), each with the first step the reference's `aStar` returns
(fresh path cache). Our charge step (`npc.path_step`) and its fallback (`npc.greedy_step`, for
charging NPCs past `npc_path_batch`) must be exactly A*'s step whenever the rectangle between
start and goal is free of obstacles (the argument in nmmo_jax/systems/npc.py), and agree on the
rest at least as often as recorded in DEVIATIONS 21. A step into a blocked tile counts as no
move (the reference's Move then fails).
"""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nmmo_jax import material as mat
from nmmo_jax.systems import npc

DATA = pathlib.Path(__file__).resolve().parent / "data" / "reference_astar_cases.npz"
VISION = 7  # the recording's window: Default's player_vision_radius
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="no A* recording")
# measured on the 18,844 obstructed cases (DEVIATIONS 21): greedy 0.756, the path rule 0.955
GREEDY_AGREEMENT, PATH_AGREEMENT = 0.75, 0.95


@pytest.fixture(scope="module")
def cases():
    with np.load(DATA) as data:
        ref = {k: data[k] for k in data.files}
    base = np.where(ref["habitable"], mat.GRASS, mat.STONE).astype(np.int8)

    @jax.jit
    def steps(base, start, goal):
        row, col = start[:, 0], start[:, 1]
        ok = jax.vmap(npc.neighbour_passable, in_axes=(None, 0, 0))(base, row, col)
        greedy = npc.greedy_step(ok, row, col, goal[:, 0], goal[:, 1])
        path = npc.path_step(base, row, col, goal[:, 0], goal[:, 1], VISION)
        return jnp.stack(greedy, axis=-1), jnp.stack(path, axis=-1)

    greedy = np.zeros_like(ref["delta"])
    path = np.zeros_like(ref["delta"])
    # every map's cases padded to one length: one compiled program for the four maps
    size = np.bincount(ref["case_map"]).max()
    for m in range(base.shape[0]):
        pick = ref["case_map"] == m
        count = pick.sum()
        start = np.zeros((size, 2), np.int32)
        goal = np.zeros((size, 2), np.int32)
        start[:count], goal[:count] = ref["start"][pick], ref["goal"][pick]
        start[count:] = goal[count:] = start[0]
        g, p = steps(jnp.asarray(base[m]), jnp.asarray(start), jnp.asarray(goal))
        greedy[pick], path[pick] = np.asarray(g)[:count], np.asarray(p)[:count]

    def effective(delta):
        """A non-unit step (the reference's raw vector) or one into a blocked tile: no move."""
        delta = delta.copy()
        delta[np.abs(delta).sum(axis=-1) != 1] = 0
        to = ref["start"] + delta
        delta[~ref["habitable"][ref["case_map"], to[:, 0], to[:, 1]]] = 0
        return delta

    open_box = np.array(
        [
            ref["habitable"][m][
                min(s[0], g[0]) : max(s[0], g[0]) + 1, min(s[1], g[1]) : max(s[1], g[1]) + 1
            ].all()
            for m, s, g in zip(ref["case_map"], ref["start"], ref["goal"], strict=True)
        ]
    )
    return dict(
        greedy=effective(greedy),
        path=effective(path),
        theirs=effective(ref["delta"]),
        open_box=open_box,
    )


@pytest.mark.parametrize("rule", ["greedy", "path"])
def test_the_charge_step_is_astar_on_open_ground(cases, rule):
    open_box = cases["open_box"]
    assert open_box.sum() > 1000
    np.testing.assert_array_equal(cases[rule][open_box], cases["theirs"][open_box])


@pytest.mark.parametrize("rule, bar", [("greedy", GREEDY_AGREEMENT), ("path", PATH_AGREEMENT)])
def test_the_charge_step_agreement_around_obstacles(cases, rule, bar):
    blocked = ~cases["open_box"]
    assert blocked.sum() > 1000
    agree = (cases[rule][blocked] == cases["theirs"][blocked]).all(axis=-1).mean()
    assert agree >= bar, agree
