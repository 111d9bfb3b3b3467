"""Step-for-step parity with the reference nmmo 2.1.2 for skills, harvesting, items, Use and
Destroy (SPEC 4, 7, 8, 12.3, 14.6).

tests/data/reference_items_trajectory.npz (written by make_reference_items_trajectory.py) holds a
150-step reference episode, Default config with NPCs, regrowth and weapon drops off, 128 agents
given a few tools, armour, consumables and ammunition at reset and driven by a scripted policy
that walks to resources and sends random Use and Destroy actions (mostly valid ones, now and then
a row the masks forbid): 390 harvests, 29 level ups, 1284 equips, 158 consumptions, 233
destructions, 107 deaths. We start from the same world,
inventories and item-id allocator and replay the actions through `Env.step`; with no randomness
left, every compared number must be equal at every step: each agent's entity row (skills, exp,
levels, food, water, health, item_level), its Inventory rows (item ids included, so the FIFO id
allocator too), its Use and Destroy masks, the allocator's free list, the events logged per agent
and code, and the tile materials.
"""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference_world import assert_event_counts_match, mismatch, reference_world, replay_config

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax.events import EVENT_CODES, ITEM_EVENT_TYPES
from nmmo_jax.observe import reference_observation
from nmmo_jax.state import material

DATA = pathlib.Path(__file__).resolve().parent / "data" / "reference_items_trajectory.npz"


@pytest.fixture(scope="module")
def ref():
    with np.load(DATA) as data:
        return {k: data[k] for k in data.files}


def initial_state(ref, cfg):
    """The reference's world after reset and the gifts: tiles, spawns, inventories, allocator."""
    state = reference_world(ref, cfg)
    rows = np.asarray(ref["inv0"], np.int16)  # [N, 12, 16], id order = acquisition order here
    held = rows[..., it.COL["type_id"]] > 0
    slots = np.zeros(rows.shape[:2] + (it.SLOT_WIDTH,), np.int16)
    slots[..., : it.N_ITEM_COLUMNS] = rows
    slots[..., it.COL["acquired"]] = np.where(held, np.arange(rows.shape[1])[None, :], 0)
    # The free list after the gifts is the unissued tail of the table: [next id, table size).
    free = np.asarray(ref["item_free0"])
    np.testing.assert_array_equal(free, np.arange(ref["next_item_id0"], ref["item_max_id0"]))
    ids = state.inventory.ids.replace(
        next_fresh=jnp.int32(ref["next_item_id0"]), table_size=jnp.int32(ref["item_max_id0"])
    )
    inventory = state.inventory.replace(
        slots=jnp.asarray(slots), received=jnp.asarray(held.sum(axis=1), jnp.int32), ids=ids
    )
    return state.replace(inventory=inventory)


def free_queue(ids: it.ItemIds, width: int) -> np.ndarray:
    """The allocator's free list in FIFO order, zero padded to `width` (the recording's form)."""
    fresh = np.arange(int(ids.next_fresh), int(ids.table_size))
    ring = np.asarray(ids.free)
    waiting = ring[np.arange(int(ids.head), int(ids.tail)) % ring.shape[0]]
    queue = np.concatenate([fresh, waiting])
    out = np.zeros(width, np.int64)
    out[: min(width, queue.size)] = queue[:width]
    return out, queue.size


@pytest.fixture(scope="module")
def replay(ref):
    cfg = replay_config(ref)
    n = cfg.player_n
    env = nj.Env(cfg)
    state = initial_state(ref, cfg)
    recorded = jnp.asarray(ref["actions"], jnp.int32)  # [T, N, 3]: move, use, destroy
    actions = env.actions(move=recorded[..., 0], use=recorded[..., 1], destroy=recorded[..., 2])

    @jax.jit
    def rollout(state, actions):
        def body(state, action):
            _, state, _, _, _, info = env.step(jax.random.key(1), state, action)
            obs = reference_observation(state, cfg)
            out = dict(
                entity=state.entities.columns()[:n],
                alive=info["alive"],
                inventory=obs["Inventory"],
                use=obs["ActionTargets"]["Use"]["InventoryItem"],
                destroy=obs["ActionTargets"]["Destroy"]["InventoryItem"],
                events=state.events.tick[:n],
                counts=jnp.stack(
                    [(material(state.tiles, state.tick) == k).sum() for k in range(16)]
                ),
            )
            return state, (out, state.inventory.ids)

        return jax.lax.scan(body, state, actions)

    final, (out, ids) = rollout(state, actions)
    return dict(
        cfg=cfg,
        final=final,
        out={k: np.asarray(v) for k, v in out.items()},
        ids=jax.tree.map(np.asarray, ids),
    )


def test_recording_is_informative(ref):
    code = ref["events"][:, 2]
    for name, at_least in (
        ("HARVEST_ITEM", 350),
        ("LEVEL_UP", 25),
        ("EQUIP_ITEM", 1000),
        ("CONSUME_ITEM", 100),
        ("DESTROY_ITEM", 100),
        ("AGENT_CULLED", 50),
    ):
        assert (code == EVENT_CODES[name]).sum() >= at_least, name
    # Recycled item ids are handed out (the free list is not just the fresh tail).
    assert (np.diff(ref["item_free"][-1][ref["item_free"][-1] > 0]) != 1).any()


def test_entity_rows_match(ref, replay):
    """Every agent's 31 columns after every step: skills, exp and levels from harvesting, food,
    water and health with rations and potions, item_level (lagging one tick)."""
    theirs, ours = ref["entity"], replay["out"]["entity"].astype(np.int16)
    message = mismatch("entity", ours, theirs, np.ones(theirs.shape, bool))
    assert message is None, message
    np.testing.assert_array_equal(replay["out"]["alive"], ref["alive"])


def test_inventories_match(ref, replay):
    present = ref["obs_present"][..., None, None]
    message = mismatch("Inventory", replay["out"]["inventory"], ref["obs_inventory"], present)
    assert message is None, message


@pytest.mark.parametrize("head", ["use", "destroy"])
def test_masks_match(ref, replay, head):
    present = ref["obs_present"][..., None]
    theirs = ref["obs_" + head]
    message = mismatch(head, replay["out"][head].astype(np.int8), theirs, present)
    assert message is None, message


def test_item_id_free_list_matches(ref, replay):
    """The FIFO allocator's queue after every step (SPEC 7.2): which ids the next items get."""
    width = ref["item_free"].shape[1]
    for t in range(ref["item_free"].shape[0]):
        ids = jax.tree.map(lambda x, t=t: x[t], replay["ids"])
        queue, length = free_queue(ids, width)
        expected = ref["item_free"][t].astype(np.int64)
        assert length == int((expected > 0).sum()), t + 1
        np.testing.assert_array_equal(queue, expected, err_msg=f"after step {t + 1}")
        assert int(ids.table_size) == int(ref["item_max_id"][t])


def test_event_counts_per_step_match(ref, replay):
    """How often each agent logged each code in each step, for every code the episode logs."""
    assert_event_counts_match(ref, replay["out"]["events"])


def test_item_event_aggregates_match(ref, replay):
    """The episode's `number` sums by (code, type, level) and LEVEL_UP's best level per skill:
    what predicates such as HarvestItem, ConsumeItem and AttainSkill read (SPEC 14.3, 14.6)."""
    events = ref["events"]
    final = replay["final"].events
    n = ref["alive"].shape[1]
    for name, types in ITEM_EVENT_TYPES.items():
        rows = events[events[:, 2] == EVENT_CODES[name]]
        for item_type in types:
            for level in (1, 2, 3):
                pick = (rows[:, 3] == item_type) & (rows[:, 4] >= level)
                expected = np.zeros(n, np.int64)
                np.add.at(expected, rows[pick, 1] - 1, rows[pick, 5])
                got = np.asarray(final.item_number(name, item_type, level))
                np.testing.assert_array_equal(got, expected, err_msg=f"{name} {item_type} {level}")
    rows = events[events[:, 2] == EVENT_CODES["LEVEL_UP"]]
    expected = np.zeros((n, 8), np.int64)
    np.maximum.at(expected, (rows[:, 1] - 1, rows[:, 3] - 1), rows[:, 4])
    np.testing.assert_array_equal(np.asarray(final.level_up), expected)


def test_tile_materials_match(ref, replay):
    np.testing.assert_array_equal(replay["out"]["counts"], ref["material_counts"])
