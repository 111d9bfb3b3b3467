"""A predicate written by a user, registered, combined with built-ins and run in an Env under
`jit(vmap(step))` over two environments (SPEC 14.3: `make_predicate`; here `@predicate`).

The world is helpers.world (6 players, horizon 8) with teams {1, 2, 3} and {4, 5, 6}.
"""

import jax
import jax.numpy as jnp
import numpy as np
from helpers import player, world

import nmmo_jax
from nmmo_jax.task import REGISTRY, P, TaskSpec


@nmmo_jax.task.predicate(params=("threshold",))
def RichMembers(q, a):
    """The share of the subject's alive members with more than `threshold` gold (0 when none
    is alive)."""
    rich = q.alive & (q.column("gold") > a.threshold)
    return jnp.where(q.alive.any(), rich.sum() / jnp.maximum(q.alive.sum(), 1), 0.0)


TEAM = (0, 0, 0, 1, 1, 1)
# half the share of rich members plus half of TickGE(4), for the whole team
SPEC = TaskSpec(0.5 * P.RichMembers(threshold=5) + P.TickGE(num_tick=4) * 0.5, reward_to="team")


def _state(gold, starving=()):
    players = {pid: player(10, 9 + pid, gold=g) for pid, g in enumerate(gold, start=1)}
    for pid in starving:  # dies in the first step: 15 - 10 - 10 < 0 (SPEC 3.3)
        players[pid].update(food=0, water=0, health=15)
    return world(players, horizon=8, team=TEAM)


def test_user_predicate_is_registered_after_the_builtins():
    assert list(REGISTRY).index("RichMembers") > list(REGISTRY).index("ProtectLeader")
    assert "RichMembers" in str(SPEC.expr)


def test_user_predicate_in_a_vmapped_env():
    cfg, a = _state((6, 2, 10, 0, 0, 0))
    _, b = _state((6, 2, 10, 9, 9, 1), starving=(3,))
    env = nmmo_jax.Env(cfg, tasks=[SPEC])
    states = [env.assign_tasks(jax.random.key(0), s) for s in (a, b)]
    states = jax.tree.map(lambda *x: jnp.stack(x), *states)
    step = jax.jit(jax.vmap(env.step))
    actions = jnp.stack([env.noop_actions] * 2)

    keys = jax.random.split(jax.random.key(1))
    _, states, reward, terminated, _, info = step(keys, states, actions)
    # tick 1: TickGE(4) = 1/4, so value = 0.5 * rich share + 0.125; reward = value - 0
    # env A: players 1-3 have gold 6, 2, 10: 2 of 3 alive members above 5; 4-6: none
    # env B: player 3 died this step (gone from the alive members): 1-2 have 6, 2: 1 of 2;
    #        4-6 have 9, 9, 1: 2 of 3. Player 3 gets -1, its task info the team's value.
    a1, a2 = 0.5 * 2 / 3 + 0.125, 0.125
    b1, b2 = 0.5 * 1 / 2 + 0.125, 0.5 * 2 / 3 + 0.125
    want_progress = [[a1] * 3 + [a2] * 3, [b1] * 3 + [b2] * 3]
    np.testing.assert_allclose(np.asarray(info["task"]["progress"]), want_progress, rtol=1e-6)
    want_reward = [[a1] * 3 + [a2] * 3, [b1, b1, -1.0] + [b2] * 3]
    np.testing.assert_allclose(np.asarray(reward), want_reward, rtol=1e-6)
    assert np.asarray(terminated).tolist() == [[False] * 6, [False, False, True] + [False] * 3]

    # tick 2: TickGE(4) = 1/2, the rich shares unchanged: every living member gains 0.125
    _, states, reward, _, _, info = step(jax.random.split(jax.random.key(2)), states, actions)
    want_reward = [[0.125] * 6, [0.125, 0.125, 0.0] + [0.125] * 3]
    np.testing.assert_allclose(np.asarray(reward), want_reward, rtol=1e-6)
    # the dead player's progress froze at its last evaluation
    assert np.isclose(float(states.tasks.progress[1, 2]), b1)
