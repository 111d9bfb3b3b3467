"""Step-for-step parity with the reference nmmo 2.1.2 for the market (Sell, Buy, listing expiry),
Give, GiveGold and Comm, and their observations and masks (SPEC 7.2-7.3, 8, 9, 11, 12, 13.1,
14.6).

tests/data/reference_exchange_trajectory.npz (written by make_reference_exchange_trajectory.py)
holds a 120-step reference episode, Default config with NPCs, regrowth and weapon drops off,
whose 128 agents get gold (a quarter of them 0..2) and a few tools, armour, rations, potions and
ammunition stacks at reset (a fifth of them a full inventory), walk in clusters and to food and
water, and send every head: Sell, Buy, Give, GiveGold, Use, Destroy and Comm, mostly what the
masks allow, now and then what they forbid (own listings, too expensive, the own row as target,
amounts above the gold, GiveGold with gold <= 2, equipped or listed items). The policy makes the
reference's Buy shuffle irrelevant (each listing named by at most one buyer, no buyer's listing
named), so every compared number is deterministic. We start from the same world, inventories,
gold and item-id allocator and replay the actions, translated with `reference_actions` (Target
indices are rows of the agent's previous Entity observation), in one jitted scan, with our own
Buy shuffle on (the outcome must not depend on it). Compared exactly: the entity rows (gold,
message, food, water, health, ...) and deaths after every step, every Inventory (ids,
quantities, listed prices, owners), the Market, the item allocator's free list, the events per
agent and code, the item and gold aggregates of the market events, and after the sampled steps
every agent's full reference observation (Entity, Inventory, Market, Communication and every
ActionTargets mask; not Tile, which the movement replay checks).
"""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference_world import assert_event_counts_match, mismatch, replay_config
from test_reference_items import free_queue, initial_state

import nmmo_jax as nj
from nmmo_jax.events import EVENT_CODES, GOLD_KEYS
from nmmo_jax.observe import reference_actions, reference_observation
from nmmo_jax.step import HEAD_INDEX

DATA = pathlib.Path(__file__).resolve().parent / "data" / "reference_exchange_trajectory.npz"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="no exchange recording")

# the recording's action columns (make_reference_exchange_trajectory.ACTIONS)
ACTIONS = (
    ("Move", "Direction"),
    ("Use", "InventoryItem"),
    ("Destroy", "InventoryItem"),
    ("Give", "InventoryItem"),
    ("Give", "Target"),
    ("GiveGold", "Price"),
    ("GiveGold", "Target"),
    ("Sell", "InventoryItem"),
    ("Sell", "Price"),
    ("Buy", "MarketItem"),
    ("Comm", "Token"),
)
I_ID, I_PRICE = 0, 15  # ItemState columns
E_GOLD = 11  # EntityState column


@pytest.fixture(scope="module")
def ref():
    with np.load(DATA) as data:
        return {k: data[k] for k in data.files}


def exchange_initial_state(ref, cfg):
    """The reference's world after reset and the gifts, with the agents' gold."""
    state = initial_state(ref, cfg)
    n = cfg.player_n
    gold = state.entities.gold.at[:n].set(jnp.asarray(ref["gold0"], state.entities.gold.dtype))
    return state.replace(entities=state.entities.replace(gold=gold))


def flat(obs):
    """The reference observation's arrays by "Key" / "Action_Argument" (no Tile, no Task)."""
    out = {k: v for k, v in obs.items() if k not in ("ActionTargets", "Tile", "AgentId")}
    for action, arguments in obs["ActionTargets"].items():
        for argument, mask in arguments.items():
            out[f"mask_{action}_{argument}"] = mask
    return out


@pytest.fixture(scope="module")
def replay(ref):
    cfg = replay_config(ref)
    n = cfg.player_n
    env = nj.Env(cfg)
    state = exchange_initial_state(ref, cfg)
    steps = ref["actions"].shape[0]
    sampled = ref["sample_steps"]
    s = len(sampled)
    # where each step's full observation goes: its sample's index, s (discarded) if not sampled
    slot = np.full(steps, s, np.int32)
    slot[sampled - 1] = np.arange(s)
    shapes = jax.eval_shape(lambda st: flat(reference_observation(st, cfg)), state)
    samples = jax.tree.map(lambda x: jnp.zeros((s,) + x.shape, x.dtype), shapes)

    @jax.jit
    def rollout(state, samples, recorded, slot):
        def body(carry, xs):
            state, samples = carry
            step, k = xs
            heads = {}
            for i, (action, argument) in enumerate(ACTIONS):
                heads.setdefault(action, {})[argument] = step[:, i]
            actions = reference_actions(state, cfg, heads)
            targets = actions[:, [HEAD_INDEX["give_target"], HEAD_INDEX["give_gold_target"]]]
            obs, state, _, _, _, info = env.step(jax.random.key(1), state, actions)

            def keep(samples):
                full = flat(reference_observation(state, cfg))
                return jax.tree.map(lambda b, v: b.at[k].set(v), samples, full)

            samples = jax.lax.cond(k < s, keep, lambda b: b, samples)
            out = dict(
                entity=state.entities.columns()[:n],
                alive=info["alive"],
                inventory=obs.inventory,
                market=obs.market,
                events=state.events.tick[:n],
                targets=targets,
            )
            return (state, samples), (out, state.inventory.ids)

        return jax.lax.scan(body, (state, samples), (recorded, slot))

    recorded = jnp.asarray(ref["actions"], jnp.int32)
    (final, samples), (out, ids) = rollout(state, samples, recorded, jnp.asarray(slot))
    return dict(
        cfg=cfg,
        final=final,
        out={k: np.asarray(v) for k, v in out.items()},
        samples={k: np.asarray(v) for k, v in samples.items()},
        ids=jax.tree.map(np.asarray, ids),
    )


def test_recording_is_informative(ref):
    """The episode exercises what it is for: trades, gifts, expiries, merges, the mask quirks."""
    events = ref["events"]
    code = events[:, 2]
    for name, at_least in (
        ("LIST_ITEM", 1000),
        ("BUY_ITEM", 1000),
        ("EARN_GOLD", 1000),
        ("GIVE_ITEM", 1000),
        ("GIVE_GOLD", 1000),
        ("DESTROY_ITEM", 100),
        ("CONSUME_ITEM", 100),
        ("AGENT_CULLED", 10),
    ):
        assert (code == EVENT_CODES[name]).sum() >= at_least, name
    actions, entity, inv = ref["actions"], ref["entity"], ref["inventory"]
    steps, n = ref["alive"].shape
    gold_before = np.concatenate([ref["gold0"][None], entity[:-1, :, E_GOLD]]).astype(np.int64)
    # GiveGold sent by agents with gold <= 2 (no target allowed by the mask), some of them done
    poor = (actions[..., 6] < 100) & (gold_before <= 2) & ref["obs_present"]
    done = np.zeros((steps, n), bool)
    rows = events[code == EVENT_CODES["GIVE_GOLD"]]
    done[rows[:, 0] - 1, rows[:, 1] - 1] = True
    assert (poor & done).sum() >= 50 and (poor & ~done).sum() >= 50
    # Buys and gifts of ammunition that merged into a stack of a full inventory: the bought or
    # given item's id is freed in the step (it is nobody's), the receiver held 12 items before
    # and after
    held = (inv[..., I_ID] != 0).sum(-1)
    held_before = np.concatenate([(ref["inv0"][..., I_ID] != 0).sum(-1)[None], held[:-1]])
    full = (held_before == 12) & (held == 12)
    bought = events[code == EVENT_CODES["BUY_ITEM"]]
    merged = [
        (t, a) for t, a, item in bought[:, [0, 1, 7]] if item not in ref["inv_order"][t - 1].ravel()
    ]
    assert len(merged) >= 20 and sum(full[t - 1, a - 1] for t, a in merged) >= 3
    # likewise for Give: the given item's id is freed, the receiver (give_to) held 12 items
    inv_before = np.concatenate([ref["inv0"][None], inv[:-1]])
    merged = []
    for t, a in events[code == EVENT_CODES["GIVE_ITEM"], :2]:
        item = inv_before[t - 1, a - 1, actions[t - 1, a - 1, 3], I_ID]
        if item not in ref["inv_order"][t - 1].ravel():
            merged.append(full[t - 1, ref["give_to"][t - 1, a - 1] - 1])
    assert len(merged) >= 50 and sum(merged) >= 3
    # a listing that expired unsold: listed in step k, still the seller's and unlisted after k + 3
    listed = events[code == EVENT_CODES["LIST_ITEM"]]
    expired = 0
    for t, a, item in listed[:, [0, 1, 7]]:
        if t + 3 <= steps:
            row = inv[t + 2, a - 1]
            row = row[row[:, I_ID] == item]
            expired += int(len(row) > 0 and row[0, I_PRICE] == 0)
    assert expired >= 50
    # every Comm token; fixed arguments past their last choice (clipped) and negative (dropped)
    assert (actions[..., 10] >= 0).sum() >= 1000
    assert len(np.unique(entity[..., 10])) == 128
    for column, choices in ((0, 5), (5, 99), (8, 99), (10, 127)):
        sent = actions[..., column]
        assert (sent >= choices).sum() >= 5, column
        if column != 10:
            assert (sent < 0).sum() >= 5, column


def test_reference_targets_translate_to_the_entity_ids(ref, replay):
    """reference_actions finds the entities the Give and GiveGold Target rows named (their ids,
    recorded; 0 = a row past the listed entities or the no-op)."""
    n_entities = replay["cfg"].n_entities
    for k, name in enumerate(("give_to", "gold_to")):
        named = ref[name].astype(np.int64)
        expected = np.where(named > 0, named - 1, n_entities)
        ours = replay["out"]["targets"][..., k]
        present = ref["obs_present"] & (ref["actions"][..., 5] >= 0 if k else True)
        message = mismatch(name, ours[..., None], expected[..., None], present[..., None])
        assert message is None, message


def test_entity_rows_match(ref, replay):
    """Every agent's 31 columns after every step: gold (trades, gifts), message (Comm), food,
    water and health (rations, potions), item_level; and who is alive."""
    theirs, ours = ref["entity"], replay["out"]["entity"].astype(np.int16)
    message = mismatch("entity", ours, theirs, np.ones(theirs.shape, bool))
    assert message is None, message
    np.testing.assert_array_equal(replay["out"]["alive"], ref["alive"])


def test_inventories_and_market_match(ref, replay):
    """Every Inventory row after every step (item ids, quantities, owner, listed price) and the
    Market (the listed items of the world, item-id order)."""
    present = ref["obs_present"][..., None, None]
    message = mismatch("Inventory", replay["out"]["inventory"], ref["inventory"], present)
    assert message is None, message
    ours, theirs = replay["out"]["market"][:, None], ref["market"][:, None]
    message = mismatch("Market", ours, theirs, np.ones(theirs.shape, bool))
    assert message is None, message


def test_item_id_free_list_matches(ref, replay):
    """The FIFO allocator's queue after every step: the ids freed by merges and destructions."""
    width = ref["item_free"].shape[1]
    for t in range(ref["item_free"].shape[0]):
        ids = jax.tree.map(lambda x, t=t: x[t], replay["ids"])
        queue, length = free_queue(ids, width)
        expected = ref["item_free"][t].astype(np.int64)
        assert length == int((expected > 0).sum()), t + 1
        np.testing.assert_array_equal(queue, expected, err_msg=f"after step {t + 1}")
        assert int(ids.table_size) == int(ref["item_max_id"][t])


def test_event_counts_per_step_match(ref, replay):
    assert_event_counts_match(ref, replay["out"]["events"])


def test_market_event_aggregates_match(ref, replay):
    """LIST_ITEM and BUY_ITEM `number` sums by item type and level, and the gold of EARN_GOLD
    and BUY_ITEM per agent: what ListItem, BuyItem, EarnGold and SpendGold read (SPEC 14.3)."""
    events = ref["events"]
    final = replay["final"].events
    n = ref["alive"].shape[1]
    for name in ("LIST_ITEM", "BUY_ITEM"):
        rows = events[events[:, 2] == EVENT_CODES[name]]
        for item_type in np.unique(rows[:, 3]):
            for level in (1, 2):
                pick = (rows[:, 3] == item_type) & (rows[:, 4] >= level)
                expected = np.zeros(n, np.int64)
                np.add.at(expected, rows[pick, 1] - 1, rows[pick, 5])
                got = np.asarray(final.item_number(name, int(item_type), level))
                np.testing.assert_array_equal(got, expected, err_msg=f"{name} {item_type} {level}")
    for name in ("EARN_GOLD", "BUY_ITEM"):
        rows = events[events[:, 2] == EVENT_CODES[name]]
        expected = np.zeros(n, np.int64)
        np.add.at(expected, rows[:, 1] - 1, rows[:, 6])
        got = np.asarray(final.gold[:n, GOLD_KEYS.index(name)])
        np.testing.assert_array_equal(got, expected, err_msg=name)


OBSERVATION_KEYS = ("CurrentTick", "Entity", "Inventory", "Market", "Communication")
MASK_KEYS = (
    "mask_Move_Direction",
    "mask_Attack_Style",
    "mask_Attack_Target",
    "mask_Use_InventoryItem",
    "mask_Destroy_InventoryItem",
    "mask_Give_InventoryItem",
    "mask_Give_Target",
    "mask_GiveGold_Price",
    "mask_GiveGold_Target",
    "mask_Sell_InventoryItem",
    "mask_Sell_Price",
    "mask_Buy_MarketItem",
    "mask_Comm_Token",
)
RECORDED = {
    "CurrentTick": "obs_tick",
    "Entity": "obs_entity",
    "Communication": "obs_comm",
}


@pytest.mark.parametrize("key", OBSERVATION_KEYS + MASK_KEYS)
def test_sampled_observations_match(ref, replay, key):
    """After the sampled steps, every agent's reference observation (the empty one for an agent
    that died in the step) equals ours, key by key."""
    steps = ref["sample_steps"] - 1
    present = ref["obs_present"][steps]
    if key == "Inventory":
        theirs = ref["inventory"][steps]
    elif key == "Market":  # the same for every live agent (checked by the recorder)
        live = ref["alive"][steps]
        theirs = np.where(live[..., None, None], ref["market"][steps][:, None], 0)
    else:
        theirs = ref[RECORDED.get(key, key)]
    ours = replay["samples"][key].astype(theirs.dtype)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    where = present.reshape(present.shape + (1,) * (theirs.ndim - 2))
    message = mismatch(key, ours, theirs, where)
    assert message is None, f"{message} (read 'step' as sample number: {steps + 1})"
