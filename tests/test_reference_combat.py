"""Step-for-step parity with the reference nmmo 2.1.2 for player-versus-player combat (SPEC
3.4, 5, 12.3, 13.1, 14.6).

tests/data/reference_combat_trajectory.npz (written by make_reference_combat_trajectory.py) holds
a reference episode of the Default config with NPCs, regrowth and weapon drops off, whose 128
agents get weapons, ammunition, armour and tools at reset, equip them, walk toward each other and
attack (mostly valid targets, now and then a row the mask forbids: themselves, too far, immune).
Combat is deterministic given the actions, except the order in which a dead player's items are
handed over, which only matters when the killer lacks space (the recording keeps loadouts small
so that it never does). We start from the same world and inventories and replay the actions,
translating each Attack target index of the reference (a row of the agent's previous Entity
observation) with `reference_actions`; every compared number must be equal at every step: the
entity rows (health, exp, levels, gold, attacker_id, damage, latest_combat_tick), the Inventory
rows (ammunition running out, loot), the Attack masks, deaths, rewards and the events per agent
and code.
"""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference_world import assert_event_counts_match, mismatch, replay_config
from test_reference_items import initial_state

import nmmo_jax as nj
from nmmo_jax.events import EVENT_CODES
from nmmo_jax.observe import reference_actions, reference_observation

DATA = pathlib.Path(__file__).resolve().parent / "data" / "reference_combat_trajectory.npz"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="no combat recording")


@pytest.fixture(scope="module")
def ref():
    with np.load(DATA) as data:
        return {k: data[k] for k in data.files}


def recorded_actions(state, cfg, step):
    """Our action array for one recorded step (columns: Move Direction, Attack Style, target
    id, Attack Target row, Use and Destroy InventoryItem), translated from the reference's
    indices into the observation made from `state`."""
    return reference_actions(
        state,
        cfg,
        {
            "Move": {"Direction": step[:, 0]},
            "Attack": {"Style": jnp.clip(step[:, 1], 0, 2), "Target": step[:, 3]},
            "Use": {"InventoryItem": step[:, 4]},
            "Destroy": {"InventoryItem": step[:, 5]},
        },
    )


@pytest.fixture(scope="module")
def replay(ref):
    cfg = replay_config(ref)
    n = cfg.player_n
    env = nj.Env(cfg)
    state = initial_state(ref, cfg)
    recorded = jnp.asarray(ref["actions"], jnp.int32)  # [T, N, 6]

    @jax.jit
    def rollout(state, recorded):
        def body(state, step):
            # the reference's Attack target: a row of the Entity observation made from `state`
            by_id = jnp.where(step[:, 2] > 0, step[:, 2] - 1, cfg.n_entities)
            actions = recorded_actions(state, cfg, step)
            target = actions[:, env.action_heads.index(("attack_target", cfg.n_entities + 1))]
            _, state, reward, terminated, _, info = env.step(jax.random.key(1), state, actions)
            obs = reference_observation(state, cfg)
            out = dict(
                entity=state.entities.columns()[:n],
                alive=info["alive"],
                reward=reward,
                terminated=terminated,
                inventory=obs["Inventory"],
                attack=obs["ActionTargets"]["Attack"]["Target"],
                entity_ids=obs["Entity"][..., 0],
                events=state.events.tick[:n],
                translated=target,
                by_id=by_id,
            )
            return state, out

        return jax.lax.scan(body, state, recorded)

    final, out = rollout(state, recorded)
    return dict(cfg=cfg, final=final, out={k: np.asarray(v) for k, v in out.items()})


def test_recording_is_informative(ref):
    code = ref["events"][:, 2]
    for name, at_least in (
        ("SCORE_HIT", 200),
        ("PLAYER_KILL", 5),
        ("FIRE_AMMO", 20),
        ("LOOT_GOLD", 5),
        ("LOOT_ITEM", 3),
    ):
        assert (code == EVENT_CODES[name]).sum() >= at_least, name
    # the first hits come in step 20, when spawn immunity ends (SPEC 5.1)
    hits = ref["events"][code == EVENT_CODES["SCORE_HIT"]]
    assert hits[:, 0].min() == 20


def test_reference_attack_targets_translate_to_the_entity_ids(replay):
    """reference_actions finds the entity the reference's index named (its id, recorded)."""
    out = replay["out"]
    np.testing.assert_array_equal(out["translated"], out["by_id"])


def test_entity_rows_match(ref, replay):
    theirs, ours = ref["entity"], replay["out"]["entity"].astype(np.int16)
    message = mismatch("entity", ours, theirs, np.ones(theirs.shape, bool))
    assert message is None, message
    np.testing.assert_array_equal(replay["out"]["alive"], ref["alive"])


def test_rewards_and_deaths_match(ref, replay):
    present = ref["obs_present"]
    np.testing.assert_array_equal(replay["out"]["terminated"][present], ref["terminated"][present])
    np.testing.assert_allclose(replay["out"]["reward"][present], ref["rewards"][present])


def test_inventories_match(ref, replay):
    present = ref["obs_present"][..., None, None]
    message = mismatch("Inventory", replay["out"]["inventory"], ref["obs_inventory"], present)
    assert message is None, message


def test_attack_masks_and_entity_rows_match(ref, replay):
    """The Attack Target mask over the Entity rows, and the rows' order (ids), as the reference
    shows them (SPEC 11, 12.3: the one-tick immunity lag included)."""
    present = ref["obs_present"][..., None]
    ids = replay["out"]["entity_ids"]
    message = mismatch("Entity ids", ids, ref["obs_entity_ids"], present)
    assert message is None, message
    attack = replay["out"]["attack"].astype(np.int8)
    message = mismatch("Attack mask", attack, ref["obs_attack_target"], present)
    assert message is None, message


def test_event_counts_per_step_match(ref, replay):
    assert_event_counts_match(ref, replay["out"]["events"])


def test_combat_aggregates_match(ref, replay):
    """What ScoreHit, DefeatEntity and EarnGold read: hits per style, kills by victim kind and
    level, looted gold (SPEC 14.3)."""
    events = ref["events"]
    final = replay["final"].events
    n = ref["alive"].shape[1]
    hits = events[events[:, 2] == EVENT_CODES["SCORE_HIT"]]
    expected = np.zeros((n, 3), np.int64)
    np.add.at(expected, (hits[:, 1] - 1, hits[:, 3] - 1), 1)
    np.testing.assert_array_equal(np.asarray(final.hits), expected)
    loot = events[(events[:, 2] == EVENT_CODES["LOOT_GOLD"]) & (events[:, 1] > 0)]
    expected = np.zeros(n, np.int64)
    np.add.at(expected, loot[:, 1] - 1, loot[:, 6])
    np.testing.assert_array_equal(np.asarray(final.gold[:n, 0]), expected)
    kills = events[(events[:, 2] == EVENT_CODES["PLAYER_KILL"]) & (events[:, 1] > 0)]
    expected = np.zeros((n, final.kills.shape[-1]), np.int64)
    np.add.at(expected, (kills[:, 1] - 1, kills[:, 4]), 1)
    np.testing.assert_array_equal(np.asarray(final.kills[:n, 0]), expected)
