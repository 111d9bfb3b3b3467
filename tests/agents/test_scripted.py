"""The scripted policies (agents/scripted.py) and their numpy twins for the reference engine
(bench/scripted_reference.py).

A 60-tick rollout of the small world per seed, 16 players (4 of each policy) with food and
water drawn low, gold and a kit of items by policy (weapons and ammunition for the fighters,
spare rations and potions for half the merchants), driven by `scripted.mixed`. On every recorded
state the jnp policies read our Observation and the numpy policies read
`reference_observation` (equal to the reference's observation, tests/test_reference_*.py) with
the same uniforms; the numpy action dicts, translated by `reference_actions`, must equal our
action arrays for every agent and tick. The rollout must exercise every rule (eat, drink,
harvest, consume, equip, attack, flee, sell, buy), and every choice must be allowed by its
mask (SPEC 12.3).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax as nj
from agents import scripted
from bench import scripted_reference as ref
from nmmo_jax import items as it
from nmmo_jax import scenario
from nmmo_jax.observe import observe, reference_actions, reference_observation

N = 16
CFG = nj.Config.small(player_n=N, npc_n=16)
ENV = nj.Env(CFG)
H = len(ENV.action_heads)
IDS = scripted.policy_ids(N)  # 4 random, 4 foragers, 4 fighters, 4 merchants
TICKS = 60
SEEDS = (0, 1)

# Items by policy id, given at reset; merchants with an even id get only ammunition (so that
# they buy the rations and potions the others list).
KITS = {
    scripted.RANDOM: [(it.RATION, 1), (it.ARROW, 1, dict(quantity=3))],
    scripted.FORAGER: [(it.RATION, 1), (it.POTION, 1)],
    scripted.FIGHTER: [
        (it.SPEAR, 1),
        (it.WHETSTONE, 1, dict(quantity=8)),
        (it.BOW, 1),
        (it.POTION, 1),
    ],
    scripted.MERCHANT: [
        (it.RATION, 1),
        (it.RATION, 1),
        (it.POTION, 1),
        (it.POTION, 1),
        (it.ARROW, 1, dict(quantity=4)),
        (it.HAT, 1),
    ],
}
POOR_MERCHANT_KIT = [(it.WHETSTONE, 1, dict(quantity=2))]


def populated(seed: int):
    """A reset state with the kits given, food and water drawn in [30, 100], gold 30 for the
    merchants and 5 for the others."""
    state = ENV.init_state(jax.random.key(seed))
    for pid in range(1, N + 1):
        policy = int(IDS[pid - 1])
        kit = KITS[policy]
        if policy == scripted.MERCHANT and pid % 2 == 0:
            kit = POOR_MERCHANT_KIT
        for item_type, level, *options in kit:
            state = scenario.give(
                state, CFG, pid, item_type, level, **(options[0] if options else {})
            )
    rng = np.random.default_rng(seed)
    ent = state.entities
    ent = ent.replace(
        food=ent.food.at[:N].set(jnp.asarray(rng.integers(30, 101, N), ent.food.dtype)),
        water=ent.water.at[:N].set(jnp.asarray(rng.integers(30, 101, N), ent.water.dtype)),
        gold=ent.gold.at[:N].set(jnp.where(IDS == scripted.MERCHANT, 30, 5)),
    )
    return state.replace(entities=ent)


@jax.jit
def rollout(key, state):
    """(final state, (states, obs, uniforms, actions)), each [T, ...]: every step's starting state,
    its observation, the uniforms the policies read and the actions `mixed` chose (jitted, in a
    scan: the loop over ticks)."""

    def body(state, key):
        u_key, step_key = jax.random.split(key)
        u = jax.random.uniform(u_key, (N, H))
        obs = observe(state, CFG)
        actions = scripted.mixed(IDS, obs, u)
        _, new_state, *_ = ENV.step(step_key, state, actions)
        return new_state, (state, obs, u, actions)

    return jax.lax.scan(body, state, jax.random.split(key, TICKS))


@functools.cache
def recording(seed: int):
    """The rollout of `seed`: final state, states, our observations, uniforms, actions, and the
    reference observations of the states (numpy)."""
    final, (states, obs, u, actions) = rollout(jax.random.key(100 + seed), populated(seed))
    ref_obs = jax.jit(jax.vmap(lambda s: reference_observation(s, CFG)))(states)
    return final, states, obs, u, actions, jax.tree.map(np.asarray, ref_obs)


def agent_obs(ref_obs, t: int, i: int) -> dict:
    """Agent i's reference observation dict at recorded tick t."""
    return jax.tree.map(lambda x: x[t, i], ref_obs)


def stacked(dicts: list[dict]) -> dict:
    """The reference action dicts of N agents as arrays [N] per argument; an action an agent left
    out gets its no-op (an index past the rows, a negative Comm token)."""
    fill = {
        ("Move", "Direction"): ref.STAY,
        ("Attack", "Style"): 0,
        ("Attack", "Target"): CFG.player_n_obs,
        ("Use", "InventoryItem"): CFG.item_inventory_capacity,
        ("Destroy", "InventoryItem"): CFG.item_inventory_capacity,
        ("Give", "InventoryItem"): CFG.item_inventory_capacity,
        ("Give", "Target"): CFG.player_n_obs,
        ("GiveGold", "Price"): 0,
        ("GiveGold", "Target"): CFG.player_n_obs,
        ("Sell", "InventoryItem"): CFG.item_inventory_capacity,
        ("Sell", "Price"): 0,
        ("Buy", "MarketItem"): CFG.market_n_obs,
        ("Comm", "Token"): -1,
    }
    out = {}
    for (action, argument), noop in fill.items():
        values = [d.get(action, {}).get(argument, noop) for d in dicts]
        out.setdefault(action, {})[argument] = np.asarray(values, np.int32)
    return out


def test_heads_match():
    assert [name for name, _ in ENV.action_heads] == [head for head, _, _ in ref.HEADS]
    assert [int(x) for x in IDS] == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4


@pytest.mark.parametrize("seed", SEEDS)
def test_numpy_policies_choose_the_same_actions(seed):
    _, states, _, u, actions, ref_obs = recording(seed)
    u, actions = np.asarray(u), np.asarray(actions)
    dicts = [
        [ref.act(int(IDS[i]), agent_obs(ref_obs, t, i), u[t, i]) for i in range(N)]
        for t in range(TICKS)
    ]
    per_tick = [stacked(d) for d in dicts]
    arrays = jax.tree.map(lambda *xs: np.stack(xs), *per_tick)
    translate = jax.jit(jax.vmap(lambda s, a: reference_actions(s, CFG, a)))
    theirs = np.asarray(translate(states, arrays))
    bad = np.argwhere((theirs != actions).any(axis=-1))
    assert bad.size == 0, (
        f"{len(bad)} (tick, agent) differ, first {bad[0]}: ours {actions[tuple(bad[0])]}, "
        f"numpy {theirs[tuple(bad[0])]} from {dicts[bad[0][0]][bad[0][1]]}"
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_every_rule_is_exercised(seed):
    final, *_, ref_obs = recording(seed)
    events = {
        name: np.asarray(final.events.count(name))[:N]
        for name in (
            "EAT_FOOD",
            "DRINK_WATER",
            "HARVEST_ITEM",
            "CONSUME_ITEM",
            "EQUIP_ITEM",
            "SCORE_HIT",
            "LIST_ITEM",
            "BUY_ITEM",
        )
    }
    fighters, merchants = np.asarray(IDS) == scripted.FIGHTER, np.asarray(IDS) == scripted.MERCHANT
    assert events["EQUIP_ITEM"][fighters].sum() > 0
    assert events["SCORE_HIT"][fighters].sum() > 0
    assert events["LIST_ITEM"][merchants].sum() > 0
    assert events["BUY_ITEM"][merchants].sum() > 0
    for name in ("EAT_FOOD", "DRINK_WATER", "HARVEST_ITEM", "CONSUME_ITEM"):
        assert events[name][~(np.asarray(IDS) == scripted.RANDOM)].sum() > 0, name
    # decisions, read with the numpy rules: flee, and the needs that pick the walking goal
    goals, fled = set(), 0
    for t in range(TICKS):
        for i in range(N):
            obs = agent_obs(ref_obs, t, i)
            me = ref.own_row(obs)
            if me is None or int(IDS[i]) == scripted.RANDOM:
                continue
            goals.add(ref.need(me))
            if int(IDS[i]) == scripted.FIGHTER and me[ref.HEALTH] < ref.FLEE_HEALTH:
                fled += ref.threat(obs, me) is not None
    assert goals == {"water", "food", "resource"}
    assert fled > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_choices_are_allowed_by_the_masks(seed):
    _, _, obs, _, actions, _ = recording(seed)
    actions = np.asarray(actions)
    attack = scripted.HEAD_NAMES.index("attack_target")
    peaceful = np.isin(np.asarray(IDS), [scripted.FORAGER, scripted.MERCHANT])
    for h, (name, _) in enumerate(ENV.action_heads):
        mask = np.asarray(getattr(obs.action_mask, name))
        chosen = np.take_along_axis(mask, actions[..., h, None], axis=-1)[..., 0]
        if h == attack:
            chosen |= peaceful & (actions[..., h] == CFG.n_entities)  # never attacking is valid
        assert chosen.all(), (name, np.argwhere(~chosen)[0])
    dead = np.asarray(obs.agent[..., 0] == 0)
    assert dead.any()
    assert (actions[dead] == np.asarray(ENV.noop_actions)[0]).all()


def test_jit_equals_eager_and_vmap_equals_loop():
    """The rollout's actions (jitted, one tick after another) equal `mixed` vmapped over the
    recorded observations as a batch, and `mixed` run op by op on one of them."""
    _, _, obs, u, actions, _ = recording(SEEDS[0])
    batched = jax.jit(jax.vmap(functools.partial(scripted.mixed, IDS)))(obs, u)
    np.testing.assert_array_equal(np.asarray(batched), np.asarray(actions))
    t = 40
    eager = scripted.mixed(IDS, jax.tree.map(lambda x: x[t], obs), u[t])
    np.testing.assert_array_equal(np.asarray(eager), np.asarray(actions[t]))
