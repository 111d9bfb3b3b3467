"""Trajectory parity with the reference nmmo 2.1.2 for movement, survival and the professions
(SPEC 2.1, 3.3, 3.4, 4, 13.1-13.4).

tests/data/reference_trajectory.npz holds a reference episode (Default config, 128 players,
160 x 160, seed 7) with regrowth, weapon drops and NPCs off and only random Move actions (all 5
directions, blocked moves included): the initial tile map, the spawn positions, the actions and,
after every step, each agent's position, food, water, health, alive flag, reward and terminated
flag, plus the number of Foilage tiles (tests/data/make_reference_trajectory.py writes it).

We start from the same world (the reference tile map and spawn positions put into a state from
`spawn_players`) and replay the actions through `Env.step`: with no randomness left, every
number must match exactly (rewards to float32).

The npz also holds the reference's observations (SPEC 11: Tile, Entity, the Move mask (12.3),
CurrentTick, AgentId) of every agent in its obs dict after a few steps (0 = reset); they are
compared with `reference_observation` of our state, exactly: the harvested profession tiles and
the profession levels and exp included. tests/test_reference_items.py replays a second episode
where agents also use and destroy items.
"""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference_world import reference_world, replay_config

import nmmo_jax as nj
from nmmo_jax import material as m
from nmmo_jax.observe import reference_observation
from nmmo_jax.state import material

DATA = pathlib.Path(__file__).resolve().parent / "data" / "reference_trajectory.npz"
INT_FIELDS = ("row", "col", "food", "water", "health", "alive", "terminated")


@pytest.fixture(scope="module")
def ref():
    with np.load(DATA) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def replay(ref):
    """Our replay of the reference's initial world and actions: the config, the initial state,
    a dict of [T, N] per-step arrays and the [T]-stacked states after every step."""
    cfg = replay_config(ref)
    env = nj.Env(cfg)
    state = reference_world(ref, cfg)
    actions = env.actions(move=jnp.asarray(ref["actions"], jnp.int32))  # [T, N, heads]

    @jax.jit
    def rollout(state, actions):
        def body(state, action):
            _, state, reward, terminated, _, info = env.step(jax.random.key(1), state, action)
            p = state.players
            out = dict(
                row=p.row,
                col=p.col,
                food=p.food,
                water=p.water,
                health=p.health,
                alive=info["alive"],
                terminated=terminated,
                reward=reward,
                foilage=(material(state.tiles, state.tick) == m.FOILAGE).sum(),
            )
            return state, (out, state)

        return jax.lax.scan(body, state, actions)[1]

    assert int((material(state.tiles, state.tick) == m.FOILAGE).sum()) == int(
        (ref["tiles"] == m.FOILAGE).sum()
    )
    out, states = rollout(state, actions)
    return dict(
        cfg=cfg,
        initial=state,
        trajectory={k: np.asarray(v) for k, v in out.items()},
        states=states,
    )


@pytest.fixture(scope="module")
def ours(replay):
    """Our trajectory: a dict of [T, N] arrays, after every step."""
    return replay["trajectory"]


def _first_mismatch(name, ours, ref):
    """A message naming the first (step, agent) where `ours` and `ref` differ, or None."""
    bad = ours != ref
    if not bad.any():
        return None
    t, i = np.argwhere(bad)[0]
    return (
        f"{name}: {int(bad.sum())} mismatches; first at step {t + 1} (after the step), "
        f"agent {i + 1}: ours {ours[t, i]}, reference {ref[t, i]}"
    )


def test_reference_trajectory_is_informative(ref):
    """The recorded episode exercises what it should: deaths spread over many steps, eating,
    regeneration and blocked moves."""
    terminated = ref["terminated"]
    assert terminated.sum() >= 100
    assert len(np.flatnonzero(terminated.any(axis=1))) >= 20
    assert ref["foilage"][-1] < (ref["tiles"] == m.FOILAGE).sum()
    assert (np.diff(ref["health"], axis=0) > 0).any()
    assert (ref["actions"] < 4).any()


@pytest.mark.parametrize("name", INT_FIELDS)
def test_matches_reference(ref, ours, name):
    expected = ref[name].astype(ours[name].dtype)
    message = _first_mismatch(name, ours[name], expected)
    assert message is None, message


def test_rewards_match_reference(ref, ours):
    expected = ref["reward"].astype(np.float32)
    message = _first_mismatch("reward", ours["reward"], expected)
    assert message is None, message
    assert set(np.unique(ref["reward"])) <= {0.0, -1.0, 1.0 / int(ref["horizon"])}


def test_foilage_count_matches_reference(ref, ours):
    bad = np.flatnonzero(ours["foilage"] != ref["foilage"])
    assert bad.size == 0, (
        f"foilage count first differs after step {bad[0] + 1}: "
        f"ours {ours['foilage'][bad[0]]}, reference {ref['foilage'][bad[0]]}"
    )


# Observations (SPEC 11, 12.3). The reference's obs dict after a step holds the agents alive before
# it: the live ones and those that died in it (which get the empty observation: zeros, AgentId kept,
# CurrentTick 0, Move mask [0, 0, 0, 0, 1]). We compare `reference_observation` of our state with
# the recorded observations of exactly those agents.
PROFESSION_DEPLETED = {
    base: depleted for base, depleted in m.DEPLETED_OF.items() if base != m.FOILAGE
}
PROFESSION_COLUMNS = slice(21, 31)  # fishing .. alchemy, level and exp
OBS_FIELDS = ("tick", "agent_id", "move")


@pytest.fixture(scope="module")
def our_obs(ref, replay):
    """`reference_observation` of our state after each recorded step: numpy arrays [K, N, ...]."""
    cfg = replay["cfg"]
    observe = jax.jit(lambda state: reference_observation(state, cfg))
    fields = []
    for step in ref["obs_steps"]:
        if step == 0:
            state = replay["initial"]
        else:
            state = jax.tree.map(lambda x, i=step - 1: x[i], replay["states"])
        obs = observe(state)
        fields.append(
            dict(
                tick=obs["CurrentTick"],
                agent_id=obs["AgentId"],
                tile=obs["Tile"],
                entity=obs["Entity"],
                move=obs["ActionTargets"]["Move"]["Direction"],
            )
        )
    return {k: np.stack([np.asarray(f[k]) for f in fields]) for k in fields[0]}


def _obs_mismatch(name, steps, ours, theirs, bad):
    """A message naming the first entry where the mask `bad` ([K, N, ...], the shape of `ours`
    and `theirs`) is set, or None."""
    if not bad.any():
        return None
    k, i, *index = np.argwhere(bad)[0]
    return (
        f"{name}: {int(bad.sum())} mismatching entries; first after step {steps[k]}, agent {i + 1}"
        f", at {tuple(int(j) for j in index)}: ours {ours[(k, i, *index)]}, "
        f"reference {theirs[(k, i, *index)]}"
    )


def _died_in_step(ref, ours):
    """bool [K, N]: agents in the recorded obs dict that died in that step."""
    steps = ref["obs_steps"]
    alive_after = np.concatenate([np.ones((1, ours["alive"].shape[1]), bool), ours["alive"]])
    return ref["obs_present"] & ~alive_after[steps]


def test_recorded_observations_are_informative(ref, ours):
    """The recorded steps cover spawn, deaths (empty observations), agents seeing each other and
    every kind of profession tile the reference harvests."""
    present = ref["obs_present"]
    assert ref["obs_steps"][0] == 0 and present[0].all()
    assert _died_in_step(ref, ours).sum() >= 20
    assert ((ref["obs_entity"][..., 0] != 0).sum(-1) >= 5).any()
    seen = set(np.unique(ref["obs_tile"][..., 2][present]).tolist())
    assert set(PROFESSION_DEPLETED.values()) <= seen


def test_observed_agents_are_the_agents_alive_before_the_step(ref, ours):
    steps = ref["obs_steps"]
    n = ours["alive"].shape[1]
    alive_before = np.concatenate([np.ones((2, n), bool), ours["alive"]])[steps]
    np.testing.assert_array_equal(ref["obs_present"], alive_before)


@pytest.mark.parametrize("name", OBS_FIELDS)
def test_observation_matches_reference(ref, our_obs, name):
    """CurrentTick, AgentId and the Move mask, for every agent in the reference's obs dict."""
    present = ref["obs_present"]
    theirs = ref["obs_" + name]
    bad = (our_obs[name] != theirs) & present.reshape(present.shape + (1,) * (theirs.ndim - 2))
    message = _obs_mismatch(name, ref["obs_steps"], our_obs[name], theirs, bad)
    assert message is None, message


def test_observation_of_agents_dead_this_step(ref, ours, our_obs):
    """An agent that died in the step gets the reference's empty observation, and so from us."""
    died = _died_in_step(ref, ours)
    k, i = np.nonzero(died)
    stay_only = np.array([0, 0, 0, 0, 1], np.int8)
    recorded = {name: ref["obs_" + name] for name in (*OBS_FIELDS, "tile", "entity")}
    for obs in (recorded, our_obs):
        assert (obs["tick"][k, i] == 0).all()
        np.testing.assert_array_equal(obs["agent_id"][k, i], i + 1)
        assert not obs["tile"][k, i].any()
        assert not obs["entity"][k, i].any()
        np.testing.assert_array_equal(obs["move"][k, i], np.broadcast_to(stay_only, (len(k), 5)))


def test_observation_tiles_match_reference(ref, our_obs):
    """Tile: positions and materials exactly, the profession tiles harvested by then included."""
    present = ref["obs_present"]
    theirs, mine = ref["obs_tile"], our_obs["tile"]
    bad = (mine != theirs) & present[..., None, None]
    message = _obs_mismatch("tile", ref["obs_steps"], mine, theirs, bad)
    assert message is None, message
    # The comparison covers harvested profession tiles: some show their depleted material.
    shown = theirs[..., 2][present]
    assert np.isin(shown, list(PROFESSION_DEPLETED.values())).sum() >= 50


def test_observation_entities_match_reference(ref, our_obs):
    """Entity: the same entities in the same row order with the same columns, the profession
    levels and exp included (they rise by harvesting, SPEC 4.1)."""
    present = ref["obs_present"]
    theirs = ref["obs_entity"]
    used = theirs.shape[2]  # the recording keeps the first `used` rows; the rest are zero
    mine, extra = our_obs["entity"][:, :, :used], our_obs["entity"][:, :, used:]
    assert not (extra.any(axis=(2, 3)) & present).any()
    bad = (mine != theirs) & present[..., None, None]
    message = _obs_mismatch("entity", ref["obs_steps"], mine, theirs, bad)
    assert message is None, message
    # Harvesting shows in the compared rows: profession exp above 0 somewhere.
    assert (theirs[..., PROFESSION_COLUMNS][present] > 1).any()
