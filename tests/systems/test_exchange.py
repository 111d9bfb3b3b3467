"""The market: Sell, Buy, listing expiry, the Market observation and the Sell / Buy masks (SPEC
5.5, 7.2-7.3, 8, 11, 12.3, 13.1, 14.6).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments.
Every scenario uses the same 8 x 8 square with 4 player slots, no NPCs and immortal players (no
deaths, no food or water upkeep, SPEC 1.2), so all of them share one compiled step.

Conventions of the numbers below:
* `scenario.give` hands out item ids 1, 2, 3, ... in the order the items are given (SPEC 7.2);
  an agent's Inventory rows are its items in id order, the Market rows all listed items in id
  order (SPEC 11).
* Heads: `sell_item` / `give_item` name an Inventory row (12 = no-op), `sell_price` index p
  lists at p + 1 gold, `give_gold_amount` index a gives a + 1 gold, `buy` names a Market row
  (384 = no-op), targets are entity slots (player id i is slot i - 1; 4 = no-op). Rows always
  refer to the observation the agent saw before the step.
* `state.tick` is the reference's realm.tick during the next step: a state built at tick t is
  stepped with realm.tick = t, and the step's observation reads CurrentTick t + 1.
* A listing made during the step at realm.tick t has listing tick t and is removed at the end of
  the first step after which tick_now - t > 3 (SPEC 8).
* In combat (SPEC 5.5) <=> latest_combat_tick != 0 and realm.tick - latest_combat_tick < 3.
"""

import collections
import functools

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from item_world import give
from item_world import inventory as item_rows

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax import scenario
from nmmo_jax.events import GOLD_KEYS
from nmmo_jax.observe import observe

N_PLAYERS = 4
N_ENTITIES = N_PLAYERS  # no NPC slots
CAPACITY = 12
NOOP_ITEM = CAPACITY
NOOP_TARGET = N_ENTITIES
MARKET = 384  # market_n_obs: the Buy no-op index
PRICES = 99  # price_n_obs
GEOMETRY = dict(map_center=8, map_size=24, player_n=N_PLAYERS, npc_n=0)
RULES = dict(weapon_drop_prob=0.0, immortal=True)
MELEE = 0
EARN_GOLD = GOLD_KEYS.index("EARN_GOLD")
BUY_GOLD = GOLD_KEYS.index("BUY_ITEM")
VETERAN = 25  # time_alive past the spawn immunity of 20 (SPEC 5.1)
T, F = True, False

# Four players in a row on grass (Chebyshev 1 to 3 apart: every Give is in range).
FIELD = "1 2 3 4"


def build(drawing=FIELD, players=None, tick=0):
    return scenario.build(drawing, players, tick, **GEOMETRY, **RULES)


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nj.Env(cfg).step)


def actions(cfg, sell=None, buy=None, give=None, give_gold=None, attack=None, destroy=None):
    """The action array: `sell` maps a player id to (Inventory row, price index), `buy` to a
    Market row, `give` to (Inventory row, target slot), `give_gold` to (amount index, target
    slot), `attack` to a target slot (melee), `destroy` to an Inventory row; no-ops elsewhere."""
    n, e, c = cfg.player_n, cfg.n_entities, cfg.item_inventory_capacity
    heads = dict(
        sell_item=np.full(n, c),
        sell_price=np.zeros(n),
        buy=np.full(n, cfg.market_n_obs),
        give_item=np.full(n, c),
        give_target=np.full(n, e),
        give_gold_amount=np.zeros(n),
        give_gold_target=np.full(n, e),
        attack_style=np.full(n, MELEE),
        attack_target=np.full(n, e),
        destroy=np.full(n, c),
    )
    pairs = (
        (sell, "sell_item", "sell_price"),
        (give, "give_item", "give_target"),
        (give_gold, "give_gold_amount", "give_gold_target"),
    )
    for chosen, first, second in pairs:
        for pid, (a, b) in (chosen or {}).items():
            heads[first][pid - 1], heads[second][pid - 1] = a, b
    for chosen, name in ((buy, "buy"), (attack, "attack_target"), (destroy, "destroy")):
        for pid, value in (chosen or {}).items():
            heads[name][pid - 1] = value
    return nj.Env(cfg).actions(**{name: jnp.asarray(v, jnp.int32) for name, v in heads.items()})


def run(cfg, state, key=None, steps=1, **chosen):
    """`steps` jitted env steps with the same actions (see `actions`); the step key is
    `key` or the tick. Returns (obs, state) after the last step."""
    act = actions(cfg, **chosen)
    obs = None
    for _ in range(steps):
        k = jax.random.key(int(state.tick) if key is None else key)
        obs, state, *_ = _compiled_step(cfg)(k, state, act)
    return obs, state


def inventory(state, pid):
    """Player `pid`'s items in id order, with their `listing_tick` too."""
    return item_rows(state, pid, it.ITEM_COLUMNS + ("listing_tick",))


def ids(state, pid):
    return [r["id"] for r in inventory(state, pid)]


def item(state, pid, item_id):
    return next(r for r in inventory(state, pid) if r["id"] == item_id)


def gold(state):
    return np.asarray(state.entities.gold)[:N_PLAYERS].tolist()


def count(state, name):
    return np.asarray(state.events.count(name))[:N_PLAYERS].tolist()


def number(state, name, item_type, min_level=1):
    return np.asarray(state.events.item_number(name, item_type, min_level))[:N_PLAYERS].tolist()


def market_ids(obs):
    """The item ids of the Market rows (zero rows dropped)."""
    return [int(i) for i in np.asarray(obs.market[:, it.COL["id"]]) if i > 0]


def market_row(**columns):
    """A 16-column ItemState row (SPEC 7.2): the given columns, zeros elsewhere."""
    return [columns.get(name, 0) for name in it.ITEM_COLUMNS]


def mask(obs, head):
    return np.asarray(getattr(obs.action_mask, head)).tolist()


def noop_only(size):
    return [F] * (size - 1) + [T]


# --- Sell (SPEC 8, 14.6)


def test_sell_lists_the_whole_stack_at_price_index_plus_one():
    cfg, state = build(players={1: dict(gold=1), 2: dict(gold=1), 3: dict(gold=7), 4: dict(gold=6)})
    state = give(state, cfg, 1, (it.ARROW, 2, dict(quantity=5)), (it.HAT, 1))  # ids 1, 2
    obs, state = run(cfg, state, sell={1: (0, 6)})
    # price index 6 lists at 6 + 1 = 7; the listing tick is realm.tick during the step, 0
    arrows = item(state, 1, 1)
    assert (arrows["listed_price"], arrows["listing_tick"]) == (7, 0)
    assert (arrows["quantity"], arrows["owner_id"], arrows["equipped"]) == (5, 1, 0)
    assert item(state, 1, 2)["listed_price"] == 0
    # LIST_ITEM for the seller: type Arrow, level 2, number = the whole stack's quantity 5
    assert count(state, "LIST_ITEM") == [1, 0, 0, 0]
    assert number(state, "LIST_ITEM", it.ARROW) == [5, 0, 0, 0]
    assert number(state, "LIST_ITEM", it.ARROW, 3) == [0, 0, 0, 0]
    assert number(state, "LIST_ITEM", it.HAT) == [0, 0, 0, 0]
    assert count(state, "BUY_ITEM") == [0, 0, 0, 0]
    assert gold(state) == [1, 1, 7, 6]  # listing moves no gold
    # The Market shows the 16 columns of the listed stack: Arrow L2 range_attack 5 + 10 * 2 = 25
    assert np.asarray(obs.market).shape == (MARKET, 16)
    want = market_row(
        id=1, type_id=it.ARROW, owner_id=1, level=2, quantity=5, range_attack=25, listed_price=7
    )
    assert np.asarray(obs.market[0]).tolist() == want
    assert not np.asarray(obs.market[1:]).any()
    # the seller's Inventory row shows the listing too; the item stays in its inventory
    assert int(obs.inventory[0, 0, it.COL["listed_price"]]) == 7
    assert ids(state, 1) == [1, 2]
    # masks: the listed row can no longer be sold; the Hat can
    assert mask(obs, "sell_item")[0] == [F, T] + [F] * 10 + [T]
    # Buy row 0 (price 7): not for its owner; gold 1 < 7 and 6 < 7 cannot; gold 7 can
    buy = mask(obs, "buy")
    assert np.asarray(obs.action_mask.buy).shape == (N_PLAYERS, MARKET + 1)
    assert [row[0] for row in buy] == [F, F, T, F]
    assert all(row[1:MARKET] == [F] * (MARKET - 1) and row[MARKET] for row in buy)
    assert mask(obs, "sell_price") == [[T] * PRICES] * N_PLAYERS


def test_a_listing_lives_three_ticks_and_can_be_relisted_after_it_expires():
    cfg, state = build(players={1: dict(gold=1), 2: dict(gold=10)})
    state = give(state, cfg, 1, (it.HAT, 1))  # id 1
    # Step 1 (tick 0): 1 lists the Hat at 2 + 1 = 3. 2's Buy names row 0 of the Market it saw
    # before the step, which was empty: nothing is bought (Sell, priority 70, runs after Buy, 20).
    obs, state = run(cfg, state, sell={1: (0, 2)}, buy={2: 0})
    assert market_ids(obs) == [1]
    assert int(obs.market[0, it.COL["listed_price"]]) == 3
    assert (item(state, 1, 1)["listed_price"], item(state, 1, 1)["listing_tick"]) == (3, 0)
    assert gold(state)[:2] == [1, 10]
    assert count(state, "BUY_ITEM") == [0, 0, 0, 0]
    assert int(obs.tick) == 1
    seen, sellable, buyable, price = [market_ids(obs)], [], [], []
    # Steps 2-4 (ticks 1-3): 1 tries to list the Hat again at 9: refused while it is listed (the
    # listing is neither re-priced nor refreshed). After step j the tick is j; the listing of
    # tick 0 goes at the end of the step where j - 0 > 3, i.e. step 4: Sell (priority 70) in
    # step 4 still finds it listed, and expiry comes after the actions (SPEC 13.1 f).
    for _ in range(3):
        obs, state = run(cfg, state, sell={1: (0, 8)})
        seen.append(market_ids(obs))
        sellable.append(mask(obs, "sell_item")[0][0])
        buyable.append(mask(obs, "buy")[1][0])
        price.append(item(state, 1, 1)["listed_price"])
    assert seen == [[1], [1], [1], []]
    assert sellable == [F, F, T]
    assert buyable == [T, T, F]  # 2 (gold 10 >= 3) could buy it after steps 1-3
    assert price == [3, 3, 0]
    assert count(state, "LIST_ITEM")[0] == 1
    # expired: unlisted, still 1's
    assert ids(state, 1) == [1] and item(state, 1, 1)["owner_id"] == 1
    assert not np.asarray(obs.market).any()
    # Step 5 (tick 4): relisting at 4 + 1 = 5 works; listing tick 4: visible after steps 5, 6, 7
    # (ticks 5-7: 7 - 4 = 3), gone after step 8 (8 - 4 = 4 > 3).
    obs, state = run(cfg, state, sell={1: (0, 4)})
    assert (item(state, 1, 1)["listed_price"], item(state, 1, 1)["listing_tick"]) == (5, 4)
    assert count(state, "LIST_ITEM")[0] == 2
    assert number(state, "LIST_ITEM", it.HAT)[0] == 2
    seen = [market_ids(obs)]
    for _ in range(3):
        obs, state = run(cfg, state)
        seen.append(market_ids(obs))
    assert seen == [[1], [1], [1], []]
    assert gold(state)[:2] == [1, 10]


def test_the_third_step_after_a_listing_is_the_last_that_can_buy_it():
    # Built at tick 3 with two listings of tick 0 (made in step 1, shown after steps 1-3): step 4
    # runs at realm.tick 3, where 3 - 0 = 3 is not > 3, so Buy (priority 20) still finds them.
    cfg, state = build(players={1: dict(gold=1), 2: dict(gold=10)}, tick=3)
    listed = dict(listed_price=4, listing_tick=0)
    state = give(state, cfg, 1, (it.HAT, 1, listed), (it.TOP, 1, listed))  # ids 1, 2
    assert market_ids(observe(state, cfg)) == [1, 2]
    obs, state = run(cfg, state, buy={2: 1})  # row 1: the Top
    assert ids(state, 2) == [2]
    assert item(state, 2, 2)["owner_id"] == 2 and item(state, 2, 2)["listed_price"] == 0
    assert gold(state)[:2] == [5, 6]  # 1 + 4, 10 - 4
    # at the end of the step (tick 4: 4 - 0 > 3) the Hat's listing expires; the Hat stays 1's
    assert ids(state, 1) == [1] and item(state, 1, 1)["listed_price"] == 0
    assert market_ids(obs) == []


def test_a_buy_names_the_market_rows_seen_before_the_step():
    cfg, state = build(
        players={1: dict(gold=1), 2: dict(gold=1), 3: dict(gold=8), 4: dict(gold=8)}, tick=1
    )
    # 2: a Hat (id 1, not listed) and a Top (id 2) listed at 5 in the previous step
    state = give(state, cfg, 2, (it.HAT, 1), (it.TOP, 1, dict(listed_price=5, listing_tick=0)))
    assert market_ids(observe(state, cfg)) == [2]
    # 2 lists the Hat at 3; 3 buys Market row 0, which was the Top before the step (after the
    # step the Hat, id 1 < 2, would be row 0); 4 buys row 1, empty before the step.
    obs, state = run(cfg, state, sell={2: (0, 2)}, buy={3: 0, 4: 1})
    assert ids(state, 3) == [2]
    top = item(state, 3, 2)
    assert (top["type_id"], top["owner_id"], top["listed_price"]) == (it.TOP, 3, 0)
    assert gold(state) == [1, 6, 3, 8]  # 2: 1 + 5; 3: 8 - 5; 4 bought nothing
    assert ids(state, 4) == []
    assert count(state, "BUY_ITEM") == [0, 0, 1, 0]
    # the Hat is listed at 3 (listing tick 1) and is the only Market row now
    assert ids(state, 2) == [1]
    assert (item(state, 2, 1)["listed_price"], item(state, 2, 1)["listing_tick"]) == (3, 1)
    assert count(state, "LIST_ITEM") == [0, 1, 0, 0]
    assert market_ids(obs) == [1]


# --- Buy (SPEC 8, 14.6)


def test_buy_moves_the_item_to_the_buyer_and_the_price_to_the_seller():
    cfg, state = build(players={1: dict(gold=1), 2: dict(gold=9)}, tick=1)
    state = give(state, cfg, 2, (it.POTION, 1))  # id 1
    state = give(
        state,
        cfg,
        1,
        (it.SPEAR, 3, dict(listed_price=9, listing_tick=0)),  # id 2
        (it.RATION, 1),  # id 3
    )
    obs, state = run(cfg, state, buy={2: 0})
    # gold >= price is enough: 9 - 9 = 0; the seller gets 1 + 9 = 10
    assert gold(state)[:2] == [10, 0]
    # the Spear keeps its id and stats, unlisted, unequipped, owned by 2, in id order after the
    # Potion; Spear L3: melee_attack 5 + 5 * 3 = 20
    assert ids(state, 2) == [1, 2] and ids(state, 1) == [3]
    spear = market_row(id=2, type_id=it.SPEAR, owner_id=2, level=3, quantity=1, melee_attack=20)
    assert np.asarray(obs.inventory[1, 1]).tolist() == spear
    assert int(obs.inventory[1, 0, it.COL["id"]]) == 1
    assert int(obs.inventory[0, 0, it.COL["id"]]) == 3
    assert not np.asarray(obs.inventory[0, 1:]).any()
    # BUY_ITEM (buyer: type, level, number = quantity, gold = price), EARN_GOLD (seller: price)
    assert count(state, "BUY_ITEM") == [0, 1, 0, 0]
    assert count(state, "EARN_GOLD") == [1, 0, 0, 0]
    assert number(state, "BUY_ITEM", it.SPEAR, 3) == [0, 1, 0, 0]
    assert number(state, "BUY_ITEM", it.SPEAR, 4) == [0, 0, 0, 0]
    events = np.asarray(state.events.gold)
    assert events[:N_PLAYERS, BUY_GOLD].tolist() == [0, 9, 0, 0]
    assert events[:N_PLAYERS, EARN_GOLD].tolist() == [9, 0, 0, 0]
    assert count(state, "LIST_ITEM") == [0, 0, 0, 0]
    assert market_ids(obs) == []


def test_buy_is_refused_for_own_items_short_gold_a_full_inventory_and_in_combat():
    cfg, state = build(
        players={
            1: dict(gold=1),
            2: dict(gold=4),
            3: dict(gold=10),
            # tick 5: 5 - 3 = 2 < 3: in combat; at tick 6: 6 - 3 = 3: free
            4: dict(gold=10, latest_combat_tick=3),
        },
        tick=5,
    )
    state = give(state, cfg, 1, (it.HAT, 1, dict(listed_price=5, listing_tick=4)))  # id 1
    state = give(state, cfg, 3, *[(it.RATION, 1)] * 12)  # ids 2-13: full
    # masks: own; 4 < 5; full and the Hat matches no owned ammunition stack; in combat
    before = observe(state, cfg)
    assert [row[0] for row in mask(before, "buy")] == [F, F, F, F]
    assert [row[MARKET] for row in mask(before, "buy")] == [T] * 4
    obs, state = run(cfg, state, buy={1: 0, 2: 0, 3: 0, 4: 0})
    assert ids(state, 1) == [1]
    assert (item(state, 1, 1)["owner_id"], item(state, 1, 1)["listed_price"]) == (1, 5)
    assert gold(state) == [1, 4, 10, 10]
    assert count(state, "BUY_ITEM") == [0, 0, 0, 0]
    assert count(state, "EARN_GOLD") == [0, 0, 0, 0]
    assert len(ids(state, 3)) == 12 and ids(state, 4) == []
    # the listing of tick 4 survives (6 - 4 = 2); after the step 4 is out of combat
    assert market_ids(obs) == [1]
    assert [row[0] for row in mask(obs, "buy")] == [F, F, F, T]
    obs, state = run(cfg, state, buy={4: 0})  # tick 6: 6 - 3 = 3, not < 3
    assert ids(state, 4) == [1] and ids(state, 1) == []
    assert gold(state) == [6, 4, 10, 5]  # 1 + 5, 10 - 5
    assert count(state, "BUY_ITEM") == [0, 0, 0, 1]


def test_bought_ammunition_merges_into_a_matching_stack_even_with_a_full_inventory():
    cfg, state = build(
        players={1: dict(gold=1), 2: dict(gold=10), 3: dict(gold=10), 4: dict(gold=10)}, tick=1
    )
    listed = dict(listed_price=2, listing_tick=0)
    state = give(
        state,
        cfg,
        1,
        (it.ARROW, 1, dict(quantity=4, **listed)),  # id 1
        (it.ARROW, 2, dict(quantity=3, **listed)),  # id 2
        (it.WHETSTONE, 1, dict(quantity=2, **listed)),  # id 3
    )
    # 2: an equipped Arrow L1 stack of 3 (id 4) and 11 Rations (5-15): full
    state = give(state, cfg, 2, (it.ARROW, 1, dict(quantity=3, equipped=True)))
    state = give(state, cfg, 2, *[(it.RATION, 1)] * 11)
    # 3: an Arrow L1 stack of 1 (id 16) and 11 Rations (17-27): full
    state = give(state, cfg, 3, (it.ARROW, 1), *[(it.RATION, 1)] * 11)
    # 4: a Whetstone L1 stack of 5 (id 28), room to spare
    state = give(state, cfg, 4, (it.WHETSTONE, 1, dict(quantity=5)))
    # Buy masks (Market rows: Arrow L1, Arrow L2, Whetstone L1, all at 2): with a full inventory
    # only listings matching an owned ammunition stack (type and level): Arrow L1 for 2 and 3
    before = observe(state, cfg)
    assert [row[:3] for row in mask(before, "buy")] == [[F, F, F], [T, F, F], [T, F, F], [T, T, T]]
    obs, state = run(cfg, state, buy={2: 0, 3: 1, 4: 2})
    # 2: the 4 Arrows join its stack (id 4, still equipped): 3 + 4 = 7; the bought instance
    # (id 1) is destroyed; still 12 items
    stack = item(state, 2, 4)
    assert (stack["quantity"], stack["equipped"], stack["level"]) == (7, 1, 1)
    assert len(ids(state, 2)) == 12 and 1 not in ids(state, 2)
    # 3: Arrow L2 matches no stack (its stack is L1) and there is no space: refused
    assert len(ids(state, 3)) == 12 and item(state, 3, 16)["quantity"] == 1
    # 4: not full, but a matching stack takes the quantity all the same: 5 + 2 = 7, one row
    assert ids(state, 4) == [28] and item(state, 4, 28)["quantity"] == 7
    assert gold(state) == [5, 8, 10, 8]  # seller 1 + 2 + 2; buyers 10 - 2
    # the merged listings are gone; the refused one is still 1's and listed
    assert ids(state, 1) == [2] and item(state, 1, 2)["listed_price"] == 2
    assert market_ids(obs) == [2]
    for pid in (1, 2, 3, 4):
        assert 3 not in ids(state, pid)
    # BUY_ITEM's number is the quantity bought, merged or not
    assert count(state, "BUY_ITEM") == [0, 1, 0, 1]
    assert number(state, "BUY_ITEM", it.ARROW) == [0, 4, 0, 0]
    assert number(state, "BUY_ITEM", it.WHETSTONE) == [0, 0, 0, 2]
    assert count(state, "EARN_GOLD") == [2, 0, 0, 0]
    assert int(np.asarray(state.events.gold)[0, EARN_GOLD]) == 4


def test_two_buyers_of_one_listing_exactly_one_gets_it():
    cfg, state = build(players={1: dict(gold=1), 2: dict(gold=10), 3: dict(gold=10)}, tick=1)
    state = give(state, cfg, 1, (it.HAT, 1, dict(listed_price=4, listing_tick=0)))  # id 1
    winners = []
    for key in range(16):
        obs, after = run(cfg, state, key=key, buy={2: 0, 3: 0})
        holders = [pid for pid in (2, 3) if ids(after, pid) == [1]]
        assert len(holders) == 1, key
        winner = holders[0]
        loser = 5 - winner
        winners.append(winner)
        # the winner pays 4 (10 - 4 = 6), the loser keeps 10, the seller gets 4 once (1 + 4)
        assert gold(after)[0] == 5
        assert gold(after)[winner - 1] == 6 and gold(after)[loser - 1] == 10
        assert ids(after, 1) == [] and ids(after, loser) == []
        assert item(after, winner, 1)["owner_id"] == winner
        assert (
            count(after, "BUY_ITEM")[winner - 1] == 1 and count(after, "BUY_ITEM")[loser - 1] == 0
        )
        assert count(after, "EARN_GOLD")[0] == 1
        assert int(np.asarray(after.events.gold)[0, EARN_GOLD]) == 4
        assert market_ids(obs) == []
    # the Buy bucket runs in a random order (SPEC 8): each buyer wins for some key
    assert set(winners) == {2, 3}


# --- order within a tick (SPEC 5.5, 13.1)


def test_an_attack_blocks_sell_in_its_own_step_but_not_the_earlier_buy_and_give():
    cfg, state = build(
        players={
            1: dict(gold=10, time_alive=VETERAN),
            2: dict(gold=1, time_alive=VETERAN),
            3: dict(gold=1),
            4: dict(gold=1),
        },
        tick=1,
    )
    state = give(state, cfg, 1, (it.POTION, 1), (it.HAT, 1))  # ids 1, 2
    state = give(state, cfg, 3, (it.TOP, 1, dict(listed_price=4, listing_tick=0)))  # id 3
    state = give(state, cfg, 2, (it.RATION, 1))  # id 4
    # Step at realm.tick 1: 1 buys the Top (Buy 20), gives the Potion and 2 gold to 4 (Give and
    # GiveGold 30), attacks 2 (50: both get latest_combat_tick 1 + 1 = 2), then lists the Hat
    # (Sell 70): 1 - 2 = -1 < 3, in combat: refused. 2, just hit, cannot list its Ration either.
    obs, state = run(
        cfg,
        state,
        buy={1: 0},
        give={1: (0, 3)},
        give_gold={1: (1, 3)},
        attack={1: 1},
        sell={1: (1, 0), 2: (0, 0)},
    )
    assert np.asarray(state.entities.latest_combat_tick)[:N_PLAYERS].tolist() == [2, 2, 0, 0]
    assert count(state, "SCORE_HIT") == [1, 0, 0, 0]
    assert ids(state, 1) == [2, 3] and item(state, 1, 3)["owner_id"] == 1
    assert ids(state, 4) == [1]
    assert gold(state) == [4, 1, 5, 3]  # 1: 10 - 4 - 2; 3: 1 + 4; 4: 1 + 2
    assert count(state, "BUY_ITEM") == [1, 0, 0, 0]
    assert count(state, "GIVE_ITEM") == [1, 0, 0, 0]
    assert count(state, "GIVE_GOLD") == [1, 0, 0, 0]
    assert count(state, "LIST_ITEM") == [0, 0, 0, 0]
    assert item(state, 1, 2)["listed_price"] == 0 and item(state, 2, 4)["listed_price"] == 0
    # Steps at realm.tick 2, 3, 4: 2 - 2, 3 - 2, 4 - 2 < 3: in combat, Sell refused; the mask
    # after the step at tick t reads CurrentTick t + 1 (free once t + 1 - 2 >= 3)
    sellable = [mask(obs, "sell_item")[0]]
    for _ in range(3):
        obs, state = run(cfg, state, sell={1: (0, 0)})  # row 0: the Hat (id 2)
        sellable.append(mask(obs, "sell_item")[0])
    assert count(state, "LIST_ITEM") == [0, 0, 0, 0]
    in_combat = noop_only(CAPACITY + 1)
    assert sellable == [in_combat] * 3 + [[T, T] + [F] * 10 + [T]]
    # realm.tick 5: 5 - 2 = 3: free; the Hat is listed at 0 + 1 = 1 with listing tick 5
    obs, state = run(cfg, state, sell={1: (0, 0)})
    assert (item(state, 1, 2)["listed_price"], item(state, 1, 2)["listing_tick"]) == (1, 5)
    assert count(state, "LIST_ITEM") == [1, 0, 0, 0]
    assert market_ids(obs) == [2]


# --- Sell refusals, Destroy of a listing (SPEC 8)


def test_sell_is_refused_for_equipped_and_listed_items_and_in_combat():
    cfg, state = build(
        players={
            1: dict(gold=1),
            2: dict(gold=1),
            3: dict(gold=1, latest_combat_tick=3),  # tick 5: 5 - 3 = 2 < 3: in combat
            4: dict(gold=1, latest_combat_tick=2),  # 5 - 2 = 3: free
        },
        tick=5,
    )
    state = give(state, cfg, 1, (it.HAT, 1, dict(equipped=True)))  # id 1
    state = give(state, cfg, 2, (it.TOP, 1, dict(listed_price=8, listing_tick=4)))  # id 2
    state = give(state, cfg, 3, (it.POTION, 1))  # id 3
    state = give(state, cfg, 4, (it.POTION, 1), (it.RATION, 1))  # ids 4, 5
    before = observe(state, cfg)
    sell = mask(before, "sell_item")
    assert sell[0] == noop_only(CAPACITY + 1)  # equipped
    assert sell[1] == noop_only(CAPACITY + 1)  # listed
    assert sell[2] == noop_only(CAPACITY + 1)  # in combat
    assert sell[3] == [T, T] + [F] * 10 + [T]
    obs, state = run(cfg, state, sell={1: (0, 3), 2: (0, 2), 3: (0, 3), 4: (1, 98)})
    assert item(state, 1, 1)["listed_price"] == 0 and item(state, 1, 1)["equipped"] == 1
    # the listed Top keeps its price and listing tick (a relist does not refresh it)
    assert (item(state, 2, 2)["listed_price"], item(state, 2, 2)["listing_tick"]) == (8, 4)
    assert item(state, 3, 3)["listed_price"] == 0
    # 4 lists its Ration at the top price index 98: 98 + 1 = 99, listing tick 5
    assert (item(state, 4, 5)["listed_price"], item(state, 4, 5)["listing_tick"]) == (99, 5)
    assert item(state, 4, 4)["listed_price"] == 0
    assert count(state, "LIST_ITEM") == [0, 0, 0, 1]
    assert number(state, "LIST_ITEM", it.RATION) == [0, 0, 0, 1]
    # after the step (tick 6): the Top (6 - 4 = 2) and the Ration, in id order
    assert market_ids(obs) == [2, 5]
    assert np.asarray(obs.market[:2, it.COL["listed_price"]]).tolist() == [8, 99]


def test_destroying_a_listed_item_removes_its_listing():
    cfg, state = build(tick=1)
    state = give(state, cfg, 1, (it.HAT, 1, dict(listed_price=3, listing_tick=0)), (it.TOP, 1))
    assert market_ids(observe(state, cfg)) == [1]
    obs, state = run(cfg, state, destroy={1: 0})
    assert ids(state, 1) == [2]
    assert market_ids(obs) == []
    assert count(state, "DESTROY_ITEM") == [1, 0, 0, 0]


# --- the Market observation and the masks (SPEC 11, 12.3)


def test_market_observation_lists_every_listing_in_item_id_order():
    cfg, state = build(
        players={1: dict(gold=20), 2: dict(gold=3), 3: dict(gold=6), 4: dict(gold=11)}
    )
    state = give(state, cfg, 2, (it.TOP, 1, dict(listed_price=6)))  # id 1
    state = give(state, cfg, 1, (it.HAT, 1), (it.POTION, 2, dict(listed_price=3)))  # ids 2, 3
    state = give(state, cfg, 4, (it.RUNES, 3, dict(quantity=6, listed_price=11)))  # id 4
    state = give(state, cfg, 3, (it.HAT, 1, dict(equipped=True)))  # id 5
    obs = observe(state, cfg)
    assert np.asarray(obs.market).dtype == np.int16
    # global, whoever the seller is, in id order; unlisted items (2, 5) are absent
    assert market_ids(obs) == [1, 3, 4]
    # Top L1: defense 3 * 1 = 3 (all styles); Potion L2: health_restore 50 + 5 * 2 = 60;
    # Runes L3: mage_attack 5 + 10 * 3 = 35
    top = dict(melee_defense=3, range_defense=3, mage_defense=3)
    want = [
        market_row(id=1, type_id=it.TOP, owner_id=2, level=1, quantity=1, listed_price=6, **top),
        market_row(
            id=3,
            type_id=it.POTION,
            owner_id=1,
            level=2,
            quantity=1,
            health_restore=60,
            listed_price=3,
        ),
        market_row(
            id=4, type_id=it.RUNES, owner_id=4, level=3, quantity=6, mage_attack=35, listed_price=11
        ),
    ]
    assert np.asarray(obs.market[:3]).tolist() == want
    assert not np.asarray(obs.market[3:]).any()
    # Buy mask, rows (price, owner) = (6, 2), (3, 1), (11, 4): not one's own, price <= gold
    buy = mask(obs, "buy")
    assert [row[:3] for row in buy] == [
        [T, F, T],  # gold 20: the Potion is its own
        [F, T, F],  # gold 3: the Top is its own; 3 <= 3; 11 > 3
        [T, T, F],  # gold 6: 6 <= 6, 3 <= 6, 11 > 6
        [T, T, F],  # gold 11: the Runes are its own
    ]
    assert all(not any(row[3:MARKET]) and row[MARKET] for row in buy)


def test_sell_and_buy_masks_in_a_hand_built_state():
    cfg, state = build(
        players={
            1: dict(gold=2),
            2: dict(gold=9, latest_combat_tick=4),  # tick 5: 5 - 4 = 1 < 3: in combat
            3: dict(gold=2),  # nothing held
            4: dict(gold=9, alive=False, health=0),  # dead
        },
        tick=5,
    )
    state = give(
        state,
        cfg,
        1,
        (it.HAT, 1, dict(equipped=True)),  # id 1: equipped
        (it.POTION, 1),  # id 2
        (it.ARROW, 1, dict(quantity=3, listed_price=3, listing_tick=5)),  # id 3: listed
        (it.RATION, 1),  # id 4
    )
    state = give(state, cfg, 2, (it.TOP, 1, dict(listed_price=2, listing_tick=5)), (it.POTION, 1))
    obs = observe(state, cfg)
    none = noop_only(CAPACITY + 1)
    assert mask(obs, "sell_item") == [[F, T, F, T] + [F] * 8 + [T], none, none, none]
    assert np.asarray(obs.action_mask.sell_price).shape == (N_PLAYERS, PRICES)
    assert mask(obs, "sell_price")[:3] == [[T] * PRICES] * 3
    # Market rows: the Arrows (id 3, price 3, owner 1), the Top (id 5, price 2, owner 2)
    assert market_ids(obs) == [3, 5]
    buy = mask(obs, "buy")
    assert buy[0] == [F, T] + [F] * (MARKET - 2) + [T]  # own; 2 <= 2
    assert buy[1] == noop_only(MARKET + 1)  # in combat
    assert buy[2] == [F, T] + [F] * (MARKET - 2) + [T]  # 3 > 2; 2 <= 2
    assert buy[3] == noop_only(MARKET + 1)  # dead

    # An empty Market: only the no-op, whatever the gold
    cfg, state = build(players={1: dict(gold=50), 2: dict(gold=50)})
    state = give(state, cfg, 1, (it.HAT, 1))
    obs = observe(state, cfg)
    assert mask(obs, "buy") == [noop_only(MARKET + 1)] * N_PLAYERS
    assert mask(obs, "sell_item")[0] == [T] + [F] * 11 + [T]
    assert mask(obs, "sell_item")[1] == noop_only(CAPACITY + 1)  # nothing to sell


# --- conservation: a hypothesis property on random markets

GRASS = "\n".join([" ".join(["."] * 8)] * 8)
TICK = 5
cell = st.integers(0, 7)
ITEMS = st.tuples(
    st.sampled_from(it.ITEM_TYPES),
    st.integers(1, 3),  # level
    st.integers(1, 5),  # quantity (ammunition only)
    st.sampled_from(["plain", "equipped", "listed"]),
    st.integers(1, 20),  # price if listed
    st.integers(2, TICK - 1),  # listing tick if listed
)


def _holdings(specs):
    """scenario.give options for a plausible inventory: one stack per (ammunition type, level),
    quantity 1 for the rest, at most one equipped item per equipment slot."""
    seen, slots, out = set(), set(), []
    for item_type, level, quantity, status, price, listing_tick in specs:
        if item_type in it.AMMUNITION:
            if (item_type, level) in seen:
                continue
            seen.add((item_type, level))
        else:
            quantity = 1
        options = dict(quantity=quantity)
        slot = int(it.EQUIPMENT_SLOT[item_type])
        if status == "equipped" and slot >= 0 and slot not in slots:
            slots.add(slot)
            options["equipped"] = True
        elif status == "listed":
            options.update(listed_price=price, listing_tick=listing_tick)
        out.append((item_type, level, options))
    return out


@st.composite
def markets(draw):
    players = {
        pid: dict(
            row=draw(cell),
            col=draw(cell),
            gold=draw(st.integers(0, 20)),
            # at tick 5: 0 never fought, 2 free (5 - 2 = 3), 4 in combat (5 - 4 = 1)
            latest_combat_tick=draw(st.sampled_from([0, 2, 4])),
        )
        for pid in range(1, N_PLAYERS + 1)
    }
    holdings = {
        pid: _holdings(draw(st.lists(ITEMS, max_size=CAPACITY))) for pid in range(1, N_PLAYERS + 1)
    }
    row = st.integers(0, CAPACITY)
    target = st.integers(0, NOOP_TARGET)
    chosen = dict(
        give={pid: (draw(row), draw(target)) for pid in range(1, N_PLAYERS + 1)},
        give_gold={
            pid: (draw(st.integers(0, 24)), draw(target)) for pid in range(1, N_PLAYERS + 1)
        },
        sell={
            pid: (draw(row), draw(st.integers(0, PRICES - 1))) for pid in range(1, N_PLAYERS + 1)
        },
        buy={
            pid: draw(st.one_of(st.integers(0, 8), st.just(MARKET)))
            for pid in range(1, N_PLAYERS + 1)
        },
    )
    return players, holdings, chosen, draw(st.integers(0, 2**31 - 1))


def _quantities(state):
    """Counter of (type, level) -> summed quantity over every player's items."""
    total = collections.Counter()
    for pid in range(1, N_PLAYERS + 1):
        for r in inventory(state, pid):
            total[(r["type_id"], r["level"])] += r["quantity"]
    return total


@settings(max_examples=25, deadline=None)
@given(markets())
def test_give_sell_buy_and_give_gold_conserve_gold_and_items(market):
    players, holdings, chosen, key = market
    cfg, state = build(GRASS, players=players, tick=TICK)
    for pid, specs in holdings.items():
        state = give(state, cfg, pid, *specs)
    gold_before = sum(gold(state))
    items_before = _quantities(state)
    _, state = run(cfg, state, key=key, **chosen)
    # gold only moves between players (Buy: buyer -> seller; GiveGold: giver -> receiver)
    assert sum(gold(state)) == gold_before
    assert min(gold(state)) >= 0
    # items only move between players; a merged ammunition instance hands its quantity to the
    # matching stack (SPEC 7.3), so the quantity of every (type, level) is conserved
    assert _quantities(state) == items_before
    all_ids = []
    for pid in range(1, N_PLAYERS + 1):
        rows = inventory(state, pid)
        assert len(rows) <= CAPACITY
        assert all(r["owner_id"] == pid for r in rows)
        assert all(not (r["equipped"] and r["listed_price"]) for r in rows)
        stacks = [(r["type_id"], r["level"]) for r in rows if r["type_id"] in it.AMMUNITION]
        assert len(stacks) == len(set(stacks))  # at most one stack per signature
        all_ids += [r["id"] for r in rows]
    assert len(all_ids) == len(set(all_ids))
    # every purchase pays its seller
    assert sum(count(state, "BUY_ITEM")) == sum(count(state, "EARN_GOLD"))
    events = np.asarray(state.events.gold)[:N_PLAYERS]
    assert events[:, BUY_GOLD].sum() == events[:, EARN_GOLD].sum()
