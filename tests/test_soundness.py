"""Long-run soundness, the short version (issue 14; the long one is bench/soundness.py): every
invariant of nmmo_jax.invariants holds after every step of random valid play (all thirteen
heads, env.sample_actions) in small worlds with NPCs, combat, items and the exchange on; and each
invariant can fail: a deliberately corrupted transition is flagged by exactly the invariant it
breaks (so the checker is not vacuous).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax as nj
from nmmo_jax import invariants as inv
from nmmo_jax import items as it
from nmmo_jax import material as m
from nmmo_jax import scenario
from nmmo_jax.events import EVENT_CODES, EVENT_COLUMN
from nmmo_jax.observe import observe
from nmmo_jax.step import HEAD_INDEX

# Config.small (8 NPCs, combat, items, the exchange and Comm on) with every resource regrowing at
# once, weapons dropping often, 30 gold per player and PvP from step 4, so that harvests, stacks,
# trade, gifts, fights, loot and deaths pile up within the rollout.
WORLD = nj.Config.small(
    **{field: 1.0 for field in m.PROFESSION_RESPAWN_FIELDS},
    weapon_drop_prob=0.3,
    combat_spawn_immunity=4,
    exchange_base_gold=30,
)
ENVS, STEPS = 3, 160


def test_random_play_keeps_every_invariant():
    init, run = inv.checked_rollout(nj.Env(WORLD), ENVS, STEPS)
    _, totals = run(init(jax.random.key(3)), jax.random.key(4))
    totals = {k: int(v) for k, v in jax.device_get(totals).items()}
    assert totals["env_steps"] == ENVS * STEPS
    assert totals["agent_steps"] > ENVS * WORLD.player_n * 20  # the worlds were played
    violated = {name: totals[name] for name in inv.NAMES if totals[name]}
    assert not violated, violated


# --- the checker is not vacuous: a clean synthetic transition, then one corruption per invariant

CFG = nj.Config.small(immortal=True, npc_n=0)  # no NPC in reach: the no-op attack is allowed
N, C, E = CFG.player_n, CFG.item_inventory_capacity, CFG.n_entities
NOOP = nj.Env(CFG).noop_actions
CHECK = jax.jit(lambda *a: inv.check(CFG, *a))
OBSERVE = jax.jit(lambda s: observe(s, CFG))


def _world():
    return list(_clean_world())


@functools.lru_cache(maxsize=1)
def _clean_world():
    """A reset with items (unequipped, unlisted) for players 1-4 and a listing of player 5's,
    and the transition in which nothing happens (every agent takes the no-op): `after` is
    `before` one tick later, with this step's events cleared."""
    _, state = nj.Env(CFG).reset(jax.random.key(0))
    for player in (1, 2, 3, 4):
        state = scenario.give(state, CFG, player, it.ARROW, level=1, quantity=5)
        state = scenario.give(state, CFG, player, it.RATION, level=1)
    state = scenario.give(state, CFG, 5, it.HAT, level=1, listed_price=1)
    after = state.replace(tick=state.tick + 1, events=state.events.start_tick())
    reward = jnp.full((N,), 1.0 / CFG.horizon, jnp.float32)
    return (state, NOOP, after, OBSERVE(state), OBSERVE(after), reward, jnp.zeros((N,), bool))


BEFORE, ACTIONS, AFTER, OBS_BEFORE, OBS_AFTER, REWARD, TERMINATED = range(7)


def _ent(args, which, **columns):
    state = args[which]
    ent = state.entities
    ent = ent.replace(**{k: getattr(ent, k).at[i].set(v) for k, (i, v) in columns.items()})
    args[which] = state.replace(entities=ent)


def _slot(args, which, player, slot, column, value):
    state = args[which]
    inv_ = state.inventory
    slots = inv_.slots.at[player, slot, it.COL[column]].set(value)
    args[which] = state.replace(inventory=inv_.replace(slots=slots))


def _act(args, agent, head, value):
    args[ACTIONS] = args[ACTIONS].at[agent, HEAD_INDEX[head]].set(value)


def _event(args, agent, name, count):
    state = args[AFTER]
    tick = state.events.tick.at[agent, EVENT_COLUMN[EVENT_CODES[name]]].set(count)
    args[AFTER] = state.replace(events=state.events.replace(tick=tick))


def _held_slot(args, player, item_type):
    slots = np.asarray(args[BEFORE].inventory.slots[player])
    return int(np.flatnonzero(slots[:, it.COL["type_id"]] == item_type)[0])


def _row(args, player, item_type):
    """The Inventory row (what the item heads index) of the player's item of that type."""
    inventory = np.asarray(args[OBS_BEFORE].inventory[player])
    return int(np.flatnonzero(inventory[:, it.COL["type_id"]] == item_type)[0])


def corrupt_finite(args):
    args[REWARD] = args[REWARD].at[0].set(jnp.nan)


def corrupt_vitals(args):
    _ent(args, AFTER, health=(0, CFG.player_base_health + 1))


def corrupt_skills(args):
    _ent(args, AFTER, melee_level=(1, 0))


def corrupt_rewards(args):
    args[REWARD] = args[REWARD].at[2].set(0.5)


def corrupt_gold_nonnegative(args):
    _ent(args, BEFORE, gold=(3, -1))
    _ent(args, AFTER, gold=(3, -1))


def corrupt_gold_conserved(args):
    _ent(args, AFTER, gold=(0, int(args[AFTER].entities.gold[0]) + 1))


def corrupt_items_conserved(args):
    k = _held_slot(args, 0, it.ARROW)
    _slot(args, AFTER, 0, k, "quantity", 6)


def corrupt_item_provenance(args):
    k = _held_slot(args, 1, it.RATION)
    _slot(args, AFTER, 1, k, "type_id", it.POTION)


def corrupt_item_ids(args):
    a, b = _held_slot(args, 0, it.RATION), _held_slot(args, 1, it.RATION)
    _slot(args, AFTER, 1, b, "id", int(args[BEFORE].inventory.slots[0, a, it.COL["id"]]))


def corrupt_inventory_layout(args):
    k = _held_slot(args, 2, it.ARROW)
    _slot(args, AFTER, 2, k, "owner_id", 4)


def corrupt_entities(args):
    _ent(args, AFTER, row=(6, 0))
    _ent(args, BEFORE, row=(6, 0))


def corrupt_mask_chosen(args):
    _act(args, 3, "give_target", 3)  # itself


def corrupt_honoured_move(args):
    mask = np.asarray(args[OBS_BEFORE].action_mask.move[4])
    _act(args, 4, "move", int(np.flatnonzero(mask[:4])[0]))  # allowed; it does not move


def corrupt_honoured_comm(args):
    _act(args, 5, "comm", 9)  # its message stays 0


def corrupt_honoured_attack(args):
    _act(args, 0, "attack_target", 1)  # player 2, alive after, never hit


def corrupt_honoured_use(args):
    _act(args, 0, "use", _row(args, 0, it.RATION))


def corrupt_honoured_give_gold(args):
    _act(args, 1, "give_gold_target", 2)


def corrupt_honoured_destroy(args):
    _act(args, 2, "destroy", _row(args, 2, it.ARROW))


def corrupt_honoured_sell(args):
    _act(args, 3, "sell_item", _row(args, 3, it.RATION))


def corrupt_honoured_give(args):
    _act(args, 0, "give_item", _row(args, 0, it.ARROW))
    _act(args, 0, "give_target", 6)


def corrupt_honoured_buy(args):
    _act(args, 7, "buy", 0)  # player 5's hat, the only listing


EXCLUSIVE = ("rewards", "skills", "mask_chosen", "honoured_move", "honoured_comm") + (
    "honoured_use",
    "honoured_destroy",
    "honoured_sell",
    "honoured_buy",
)
CORRUPTIONS = {
    name[len("corrupt_") :]: fn for name, fn in globals().items() if name[:8] == "corrupt_"
}


def test_a_transition_where_nothing_happens_is_clean():
    flags = jax.device_get(CHECK(*_world()))
    assert not any(flags.values()), {k: bool(v) for k, v in flags.items() if v}


def test_every_invariant_has_a_corruption():
    assert sorted(CORRUPTIONS) == sorted(inv.NAMES)


@pytest.mark.parametrize("name", inv.NAMES)
def test_a_corrupted_transition_is_flagged(name):
    args = _world()
    CORRUPTIONS[name](args)
    flags = jax.device_get(CHECK(*args))
    assert flags[name], f"{name} missed its corruption"
    # these corruptions (mask-valid actions for the honoured_* ones) break nothing else
    if name in EXCLUSIVE:
        assert [k for k, v in flags.items() if v] == [name]
    # an event that did happen excuses the same action
    if name == "honoured_use":
        args2 = _world()
        CORRUPTIONS[name](args2)
        _event(args2, 0, "CONSUME_ITEM", 1)
        assert not jax.device_get(CHECK(*args2))[name]
