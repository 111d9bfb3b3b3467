"""Give and GiveGold: range, refusals, ammunition merging, order within a tick and their masks
(SPEC 5.5, 7.3, 8, 12.3, 13.1, 14.6).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments.
Every drawing fits the same 10 x 10 square with 6 player slots and one NPC slot and no NPC
refill (`npc_spawn_attempts=0`), so all scenarios share one compiled step.

Conventions of the numbers below:
* `scenario.give` hands out item ids 1, 2, 3, ... in the order the items are given (SPEC 7.2);
  an agent's Inventory rows are its items in id order.
* `give_item` names an Inventory row of the observation the agent saw before the step (12 =
  no-op); `give_target` / `give_gold_target` an entity slot: player id i is slot i - 1, the NPC
  slot is 6, 7 (= n_entities) the no-op; `give_gold_amount` index a gives a + 1 gold.
* Give range: a live player other than oneself within Chebyshev distance 7 (the vision radius).
* In combat (SPEC 5.5) <=> latest_combat_tick != 0 and realm.tick - latest_combat_tick < 3.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from item_world import give, inventory

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax import scenario
from nmmo_jax.observe import observe

N_PLAYERS, N_NPCS = 6, 1
N_ENTITIES = N_PLAYERS + N_NPCS
NPC_SLOT = N_PLAYERS
NOOP_TARGET = N_ENTITIES
CAPACITY = 12
NOOP_ITEM = CAPACITY
PRICES = 99
GEOMETRY = dict(map_center=10, map_size=26, player_n=N_PLAYERS, npc_n=N_NPCS)
RULES = dict(npc_spawn_attempts=0, weapon_drop_prob=0.0)
T, F = True, False

# Six players next to each other (Chebyshev <= 2): every target is in range.
FIELD = """
1 2 3
4 5 6
. . .
"""


def build(drawing=FIELD, players=None, tick=0, npcs=None):
    return scenario.build(drawing, players, tick, npcs, **GEOMETRY, **RULES)


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nj.Env(cfg).step)


def run(cfg, state, give=None, give_gold=None):
    """One jitted env step: `give` maps a player id to (Inventory row, target slot),
    `give_gold` to (amount index, target slot); no-ops elsewhere. Returns (obs, state)."""
    n, e = cfg.player_n, cfg.n_entities
    heads = dict(
        give_item=np.full(n, cfg.item_inventory_capacity),
        give_target=np.full(n, e),
        give_gold_amount=np.zeros(n),
        give_gold_target=np.full(n, e),
    )
    for pid, (row, slot) in (give or {}).items():
        heads["give_item"][pid - 1], heads["give_target"][pid - 1] = row, slot
    for pid, (amount, slot) in (give_gold or {}).items():
        heads["give_gold_amount"][pid - 1], heads["give_gold_target"][pid - 1] = amount, slot
    act = nj.Env(cfg).actions(**{name: jnp.asarray(v, jnp.int32) for name, v in heads.items()})
    obs, state, *_ = _compiled_step(cfg)(jax.random.key(int(state.tick)), state, act)
    return obs, state


def ids(state, pid):
    return [r["id"] for r in inventory(state, pid)]


def item(state, pid, item_id):
    return next(r for r in inventory(state, pid) if r["id"] == item_id)


def gold(state, pids=range(1, N_PLAYERS + 1)):
    values = np.asarray(state.entities.gold)
    return [int(values[pid - 1]) for pid in pids]


def count(state, name):
    return np.asarray(state.events.count(name))[:N_ENTITIES].tolist()


def mask(obs, head):
    return np.asarray(getattr(obs.action_mask, head)).tolist()


def noop_only(size):
    return [F] * (size - 1) + [T]


def slot(pid):
    return pid - 1


# --- Give (SPEC 8)


def test_give_moves_an_item_by_the_rows_seen_before_the_step():
    cfg, state = build()
    state = give(state, cfg, 1, (it.POTION, 1), (it.HAT, 2), (it.RATION, 1))  # ids 1, 2, 3
    state = give(state, cfg, 2, (it.TOP, 1))  # id 4
    # 1 gives row 1 (the Hat, id 2) to 2. Then 2 gives its row 0 to 3: row 0 of what 2 saw
    # before the step is the Top (id 4), although the Hat (id 2 < 4) is its row 0 by now.
    # 3 gives row 0 of an empty inventory: nothing.
    obs, state = run(cfg, state, give={1: (1, slot(2)), 2: (0, slot(3)), 3: (0, slot(1))})
    assert ids(state, 1) == [1, 3]
    assert ids(state, 2) == [2]
    assert ids(state, 3) == [4]
    hat = item(state, 2, 2)
    # the item keeps its id, type and level, and now belongs to 2, unequipped, unlisted
    assert (hat["type_id"], hat["level"], hat["owner_id"]) == (it.HAT, 2, 2)
    assert (hat["equipped"], hat["listed_price"], hat["quantity"]) == (0, 0, 1)
    assert item(state, 3, 4)["owner_id"] == 3
    # the observation: 1's rows are ids 1, 3; 2's row 0 the Hat
    assert np.asarray(obs.inventory[0, :3, it.COL["id"]]).tolist() == [1, 3, 0]
    assert int(obs.inventory[1, 0, it.COL["id"]]) == 2
    # GIVE_ITEM (a count, for the giver); no gold moves
    assert count(state, "GIVE_ITEM") == [1, 1, 0, 0, 0, 0, 0]
    assert count(state, "GIVE_GOLD") == [0] * N_ENTITIES
    assert gold(state) == [1] * N_PLAYERS  # the spawn gold (SPEC 3.1), untouched


def test_give_and_give_gold_reach_chebyshev_7_but_not_8():
    cfg, state = build(
        """
        1 . . . . . . . 3
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . 2 .
        4 . . . . . . . .
        """,
        players={pid: dict(gold=5) for pid in (1, 2, 3, 4)},
    )
    # 1 (0, 0) -> 2 (7, 7): max(7, 7) = 7 (Manhattan 14): in range.
    # 4 (8, 0) -> 3 (0, 8): max(8, 8) = 8; 3 (0, 8) -> 4: 8: out of range.
    state = give(state, cfg, 1, (it.POTION, 1))  # id 1
    state = give(state, cfg, 3, (it.POTION, 1))  # id 2
    state = give(state, cfg, 4, (it.POTION, 1))  # id 3
    _, state = run(
        cfg,
        state,
        give={1: (0, slot(2)), 4: (0, slot(3)), 3: (0, slot(4))},
        give_gold={1: (0, slot(2)), 4: (0, slot(3)), 3: (0, slot(4))},
    )
    assert ids(state, 2) == [1] and ids(state, 1) == []
    assert ids(state, 3) == [2] and ids(state, 4) == [3]
    assert gold(state, (1, 2, 3, 4)) == [4, 6, 5, 5]  # 5 - 1, 5 + 1
    assert count(state, "GIVE_ITEM")[:4] == [1, 0, 0, 0]
    assert count(state, "GIVE_GOLD")[:4] == [1, 0, 0, 0]


def test_give_refuses_equipped_and_listed_items_and_empty_rows():
    cfg, state = build(players={pid: dict(gold=5) for pid in range(1, 7)})
    state = give(state, cfg, 1, (it.HAT, 1, dict(equipped=True)))  # id 1
    state = give(state, cfg, 2, (it.TOP, 1, dict(listed_price=4, listing_tick=0)))  # id 2
    state = give(state, cfg, 3, (it.POTION, 1))  # id 3
    state = give(state, cfg, 4, (it.POTION, 1))  # id 4
    state = give(state, cfg, 5, (it.POTION, 1))  # id 5
    before = {pid: inventory(state, pid) for pid in range(1, 7)}
    # 1: equipped; 2: listed; 3: row 1 is empty; 4: the no-op target; 5: the no-op item
    _, state = run(
        cfg,
        state,
        give={
            1: (0, slot(2)),
            2: (0, slot(3)),
            3: (1, slot(1)),
            4: (0, NOOP_TARGET),
            5: (NOOP_ITEM, slot(1)),
        },
    )
    assert {pid: inventory(state, pid) for pid in range(1, 7)} == before
    assert count(state, "GIVE_ITEM") == [0] * N_ENTITIES


def test_give_and_give_gold_refuse_self_dead_players_and_npcs():
    cfg, state = build(
        players={
            1: dict(gold=5),
            2: dict(gold=5),
            3: dict(alive=False, health=0, gold=0),
            4: dict(gold=5),
            5: dict(gold=5),
            6: dict(gold=5),
        },
        npcs=[dict(row=2, col=0)],  # a passive NPC next to 4 (it moves only after the gives)
    )
    for pid in (1, 2, 4, 5, 6):
        state = give(state, cfg, pid, (it.POTION, 1))  # ids 1, 2, 3, 4, 5
    # 1 -> itself; 2 -> the dead 3; 4 -> the NPC; 5 -> the no-op slot; 6 -> 2 (valid)
    targets = {1: slot(1), 2: slot(3), 4: NPC_SLOT, 5: NOOP_TARGET, 6: slot(2)}
    npc_gold = int(state.entities.gold[NPC_SLOT])
    _, state = run(
        cfg,
        state,
        give={pid: (0, target) for pid, target in targets.items()},
        give_gold={pid: (0, target) for pid, target in targets.items()},
    )
    assert [ids(state, pid) for pid in (1, 4, 5, 6)] == [[1], [3], [4], []]
    assert ids(state, 2) == [2, 5] and ids(state, 3) == []
    assert gold(state, (1, 2, 4, 5, 6)) == [5, 6, 5, 5, 4]  # only 6 -> 2: 5 - 1, 5 + 1
    assert int(state.entities.gold[NPC_SLOT]) == npc_gold
    assert count(state, "GIVE_ITEM") == [0, 0, 0, 0, 0, 1, 0]
    assert count(state, "GIVE_GOLD") == [0, 0, 0, 0, 0, 1, 0]


def test_a_giver_in_combat_is_refused_a_receiver_in_combat_is_not():
    cfg, state = build(
        players={
            1: dict(gold=5, latest_combat_tick=3),  # tick 5: 5 - 3 = 2 < 3: in combat
            2: dict(gold=5),
            3: dict(gold=5, latest_combat_tick=5),  # in combat, but only receives
            4: dict(gold=5, latest_combat_tick=2),  # 5 - 2 = 3: free
            5: dict(gold=5),
        },
        tick=5,
    )
    for pid in (1, 2, 4):
        state = give(state, cfg, pid, (it.POTION, 1))  # 1: id 1, 2: id 2, 4: id 3
    chosen = {1: (0, slot(2)), 2: (0, slot(3)), 4: (0, slot(5))}
    _, state = run(cfg, state, give=chosen, give_gold=chosen)  # item row 0, and 1 gold
    assert ids(state, 1) == [1]  # refused
    assert ids(state, 2) == [] and ids(state, 3) == [2]
    assert ids(state, 4) == [] and ids(state, 5) == [3]
    # 1 keeps 5; 2 -> 3: 5 - 1, 5 + 1; 4 -> 5: 5 - 1, 5 + 1
    assert gold(state, (1, 2, 3, 4, 5)) == [5, 4, 6, 4, 6]
    assert count(state, "GIVE_ITEM") == [0, 1, 0, 1, 0, 0, 0]
    assert count(state, "GIVE_GOLD") == [0, 1, 0, 1, 0, 0, 0]


def test_giving_to_a_full_inventory_only_merges_ammunition_stacks():
    cfg, state = build()
    # 2: an equipped Arrow L1 stack of 5 (id 1) and 11 Rations (ids 2-12): full
    state = give(state, cfg, 2, (it.ARROW, 1, dict(quantity=5, equipped=True)))
    state = give(state, cfg, 2, *[(it.RATION, 1)] * 11)
    state = give(state, cfg, 1, (it.ARROW, 1, dict(quantity=2)))  # id 13
    state = give(state, cfg, 3, (it.HAT, 1))  # id 14
    state = give(state, cfg, 4, (it.ARROW, 2))  # id 15
    state = give(state, cfg, 5, (it.WHETSTONE, 1))  # id 16
    state = give(state, cfg, 6, (it.WHETSTONE, 1, dict(quantity=3)), (it.POTION, 1))  # 17, 18
    # 1, 3, 4 give to the full 2: the Arrow L1 stack matches 2's stack; the Hat does not fit;
    # the Arrow L2 matches no stack (level differs). 6 gives its Whetstones to 5, which has
    # room but holds a matching stack.
    _, state = run(
        cfg,
        state,
        give={1: (0, slot(2)), 3: (0, slot(2)), 4: (0, slot(2)), 6: (0, slot(5))},
    )
    # 2's stack (id 1, still equipped): 5 + 2 = 7; the given instance (id 13) is destroyed
    stack = item(state, 2, 1)
    assert (stack["quantity"], stack["equipped"], stack["level"]) == (7, 1, 1)
    assert len(ids(state, 2)) == 12
    assert ids(state, 1) == []
    assert ids(state, 3) == [14] and ids(state, 4) == [15]
    # 5: one row, 1 + 3 = 4 Whetstones; id 17 is gone
    assert ids(state, 5) == [16] and item(state, 5, 16)["quantity"] == 4
    assert ids(state, 6) == [18]
    assert all(13 not in ids(state, pid) and 17 not in ids(state, pid) for pid in range(1, 7))
    assert count(state, "GIVE_ITEM") == [1, 0, 0, 0, 0, 1, 0]


# --- GiveGold (SPEC 8, 13.1)


def test_give_gold_amounts_are_index_plus_one_up_to_the_gold_held():
    cfg, state = build(
        players={
            1: dict(gold=5),
            2: dict(gold=1),
            3: dict(gold=5),
            4: dict(gold=1),
            5: dict(gold=1),
            6: dict(gold=0),
        }
    )
    # 1: index 4 = 5 gold, all it has; 3: index 5 = 6 > 5: refused; 5: index 0 = 1 gold, all
    # it has (its mask offers only the no-op target at gold <= 2, but the action is valid);
    # 6: 1 > 0: refused
    obs, state = run(
        cfg, state, give_gold={1: (4, slot(2)), 3: (5, slot(4)), 5: (0, slot(4)), 6: (0, slot(1))}
    )
    # 1: 5 - 5 = 0; 2: 1 + 5 = 6; 3 keeps 5; 4: 1 + 1 = 2; 5: 1 - 1 = 0; 6 keeps 0
    assert gold(state) == [0, 6, 5, 2, 0, 0]
    assert count(state, "GIVE_GOLD") == [1, 0, 0, 0, 1, 0, 0]
    assert count(state, "GIVE_ITEM") == [0] * N_ENTITIES
    # the masks after the step: gold <= 2 (1, 4, 5, 6): the no-op target only, every amount;
    # 2 (gold 6): every other live player, amounts 1..6; 3 (gold 5): amounts 1..5
    target, amount = mask(obs, "give_gold_target"), mask(obs, "give_gold_amount")
    for pid in (1, 4, 5, 6):
        assert target[pid - 1] == noop_only(N_ENTITIES + 1), pid
        assert amount[pid - 1] == [T] * PRICES, pid
    assert target[1] == [T, F, T, T, T, T, F, T]  # not itself, not the empty NPC slot
    assert amount[1] == [T] * 6 + [F] * (PRICES - 6)
    assert target[2] == [T, T, F, T, T, T, F, T]
    assert amount[2] == [T] * 5 + [F] * (PRICES - 5)


def test_gives_of_one_tick_run_in_player_id_order():
    cfg, state = build(
        players={
            1: dict(gold=5),
            2: dict(gold=0),
            3: dict(gold=0),
            4: dict(gold=0),
            5: dict(gold=3),
            6: dict(gold=0),
        }
    )
    # 1 gives 5 to 2, then 2 (acting after 1) passes the 5 on to 3. 4 (acting before 5) tries
    # to give 3 to 1 with 0 gold: refused; then 5 gives 3 to 4.
    _, state = run(
        cfg,
        state,
        give_gold={1: (4, slot(2)), 2: (4, slot(3)), 4: (2, slot(1)), 5: (2, slot(4))},
    )
    # 1: 5 - 5; 2: 0 + 5 - 5; 3: 0 + 5; 4: 0 + 3; 5: 3 - 3
    assert gold(state) == [0, 0, 5, 3, 0, 0]
    assert count(state, "GIVE_GOLD") == [1, 1, 0, 0, 1, 0, 0]


# --- the masks (SPEC 12.3)


def test_give_and_give_gold_masks_in_a_hand_built_state():
    cfg, state = build(
        """
        1 . . . . . . . 3
        . 6 . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . 5 . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . 2 .
        4 . . . . . . . .
        """,
        players={
            1: dict(gold=5),
            2: dict(gold=2),
            3: dict(gold=120),
            4: dict(gold=9, latest_combat_tick=4),  # tick 5: 5 - 4 = 1 < 3: in combat
            5: dict(gold=1),
            6: dict(alive=False, health=0, gold=0),  # dead
        },
        tick=5,
        npcs=[dict(row=0, col=1)],  # slot 6, Chebyshev 1 from 1: never a valid target
    )
    state = give(
        state,
        cfg,
        1,
        (it.HAT, 1, dict(equipped=True)),  # id 1: equipped
        (it.POTION, 1),  # id 2
        (it.TOP, 1, dict(listed_price=3, listing_tick=4)),  # id 3: listed
    )
    state = give(state, cfg, 2, (it.POTION, 1))  # id 4
    state = give(state, cfg, 4, (it.POTION, 1))  # id 5
    state = give(state, cfg, 5, (it.RATION, 1))  # id 6
    obs = observe(state, cfg)
    assert np.asarray(obs.action_mask.give_item).shape == (N_PLAYERS, CAPACITY + 1)
    assert np.asarray(obs.action_mask.give_target).shape == (N_PLAYERS, N_ENTITIES + 1)
    assert np.asarray(obs.action_mask.give_gold_amount).shape == (N_PLAYERS, PRICES)
    assert np.asarray(obs.action_mask.give_gold_target).shape == (N_PLAYERS, N_ENTITIES + 1)
    no_item, no_target = noop_only(CAPACITY + 1), noop_only(N_ENTITIES + 1)
    # Chebyshev distances: 1 (0, 0), 2 (7, 7), 3 (0, 8), 4 (8, 0), 5 (4, 4)
    #   1-2 7, 1-3 8, 1-4 8, 1-5 4; 2-3 7, 2-4 7, 2-5 3; 3-4 8, 3-5 4; 4-5 4
    # slots: players 1-6, the NPC, the no-op
    assert mask(obs, "give_item") == [
        [F, T, F] + [F] * 9 + [T],  # equipped, plain, listed
        [T] + [F] * 11 + [T],
        no_item,  # nothing held
        no_item,  # in combat
        [T] + [F] * 11 + [T],
        no_item,  # dead
    ]
    assert mask(obs, "give_target") == [
        [F, T, F, F, T, F, F, T],  # self; 2 at 7; 3, 4 at 8; 5 at 4; dead 6; the NPC
        [T, F, T, T, T, F, F, T],  # 1, 3, 4 at 7; 5 at 3
        no_target,  # empty inventory
        no_target,  # in combat
        [T, T, T, T, F, F, F, T],  # everyone within 4
        no_target,  # dead
    ]
    assert mask(obs, "give_gold_target") == [
        [F, T, F, F, T, F, F, T],  # gold 5
        no_target,  # gold 2 <= 2
        [F, T, F, F, T, F, F, T],  # gold 120: 2 at 7, 5 at 4 (1, 4 at 8)
        no_target,  # in combat
        no_target,  # gold 1 <= 2
        no_target,  # dead
    ]
    amount = mask(obs, "give_gold_amount")
    assert amount[0] == [T] * 5 + [F] * (PRICES - 5)  # amounts 1..5
    # gold 2 and 1 (<= 2), gold 120 >= 99 and in combat: every amount
    for pid in (2, 3, 4, 5):
        assert amount[pid - 1] == [T] * PRICES, pid
