"""Communication: the Comm action, the message column, the Communication observation and the
Comm mask (SPEC 3.2, 9, 11, 12.3, 13.1, 18.10).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments.
Every scenario uses the same 16 x 16 square with 4 player slots and no NPCs, so they share one
compiled step (one more for the test with the system switched off).

Conventions: the `comm` head's index t (0..126) sets `message` to t + 1; index 127 is the no-op
(an extension: it keeps the message). `obs.comm[i]` lists the rows of `obs.entities` (entity slot
+ 1, i.e. the player id) of the live members of player i + 1's team in id order, zero padded;
by default every player is its own team. `obs.entities[:, 10]` is the message column.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax as nj
from nmmo_jax import scenario
from nmmo_jax.observe import observe
from nmmo_jax.state import ENTITY_COLUMNS

N_PLAYERS = 4
TOKENS = 127  # communication_num_tokens
NOOP = TOKENS  # the comm no-op index
COMM_ROWS = 32  # communication_n_obs
GEOMETRY = dict(map_center=16, map_size=32, player_n=N_PLAYERS, npc_n=0)
RULES = dict(weapon_drop_prob=0.0)
MESSAGE = ENTITY_COLUMNS.index("message")

# 1, 2, 3 two tiles apart; 4 at Chebyshev 15 from 1, far outside its view (radius 7).
FIELD = "1 . 2 . 3 . . . . . . . . . . 4"


def build(drawing=FIELD, players=None, tick=0, **rules):
    return scenario.build(drawing, players, tick, **GEOMETRY, **dict(RULES, **rules))


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nj.Env(cfg).step)


def run(cfg, state, comm=None):
    """One jitted env step; `comm` maps a player id to a token index (no-op elsewhere).
    Returns (obs, state)."""
    tokens = np.full(cfg.player_n, cfg.communication_num_tokens)
    for pid, token in (comm or {}).items():
        tokens[pid - 1] = token
    actions = nj.Env(cfg).actions(comm=jnp.asarray(tokens, jnp.int32))
    obs, state, *_ = _compiled_step(cfg)(jax.random.key(int(state.tick)), state, actions)
    return obs, state


def messages(state):
    return np.asarray(state.entities.message)[:N_PLAYERS].tolist()


def seen_messages(obs):
    """The message column of the players' rows of the Entity table (row i = player i)."""
    return np.asarray(obs.entities[1 : N_PLAYERS + 1, MESSAGE]).tolist()


def comm_rows(obs, pid):
    """The non-zero entries of player `pid`'s Communication observation."""
    return [int(r) for r in np.asarray(obs.comm[pid - 1]) if r]


def test_the_drawing_places_4_out_of_view():
    cfg, state = build()
    row, col = np.asarray(state.entities.row), np.asarray(state.entities.col)
    assert max(abs(row[3] - row[0]), abs(col[3] - col[0])) == 15
    assert MESSAGE == 10


# --- the Comm action (SPEC 9, 18.10)


def test_comm_sets_the_message_to_the_token_index_plus_one_and_it_persists():
    cfg, state = build()
    assert messages(state) == [0, 0, 0, 0]
    # step 1: 1 sends index 0 -> 1, 2 the last token index 126 -> 127, 3 index 41 -> 42; 4 no-op
    obs, state = run(cfg, state, comm={1: 0, 2: 126, 3: 41})
    assert messages(state) == [1, 127, 42, 0]
    assert seen_messages(obs) == [1, 127, 42, 0]
    # step 2: 1 and 3 send nothing (the no-op keeps the message); 2 index 4 -> 5; 4 index 9 -> 10
    obs, state = run(cfg, state, comm={2: 4, 4: 9})
    assert messages(state) == [1, 5, 42, 10]
    assert seen_messages(obs) == [1, 5, 42, 10]
    # step 3: nothing sent: every message persists
    obs, state = run(cfg, state)
    assert messages(state) == [1, 5, 42, 10]
    assert seen_messages(obs) == [1, 5, 42, 10]
    # the Comm mask: every token and the no-op, always
    assert np.asarray(obs.action_mask.comm).shape == (N_PLAYERS, TOKENS + 1)
    assert np.asarray(obs.action_mask.comm).all()


def test_a_player_dying_in_the_step_sends_nothing():
    # 2 starves in the update: 20 - 10 (food 0) - 10 (water 0) = 0, so it takes no action
    cfg, state = build(players={2: dict(food=0, water=0, health=20)})
    obs, state = run(cfg, state, comm={1: 3, 2: 7})
    assert not bool(state.entities.alive[1])
    assert messages(state)[0] == 4
    # dead entities are zero rows of the table and have no Communication rows
    assert not np.asarray(obs.entities[2]).any()
    assert not np.asarray(obs.comm[1]).any()
    assert seen_messages(obs) == [4, 0, 0, 0]


# --- the Communication observation (SPEC 9, 11)


def test_communication_observation_is_the_agent_itself_by_default():
    cfg, state = build(players={3: dict(alive=False, health=0)})
    obs = observe(state, cfg)
    assert np.asarray(obs.comm).shape == (N_PLAYERS, COMM_ROWS)
    assert np.asarray(obs.comm).dtype == np.int16
    # one row per live member of its team, here itself: its row of `entities` = its id
    assert [comm_rows(obs, pid) for pid in (1, 2, 3, 4)] == [[1], [2], [], [4]]
    assert not np.asarray(obs.comm[:, 1:]).any()
    obs, state = run(cfg, state, comm={4: 20})
    assert [comm_rows(obs, pid) for pid in (1, 2, 3, 4)] == [[1], [2], [], [4]]
    # the row it names carries its message, 20 + 1
    assert int(obs.entities[int(obs.comm[3, 0]), MESSAGE]) == 21


def test_communication_observation_lists_live_team_members_without_a_distance_limit():
    cfg, state = build(players={2: dict(food=0, water=0, health=20)})
    if not hasattr(state.entities, "team"):
        pytest.skip("the state has no `team` column to build a team scenario with")
    # teams: {1, 2, 4} and {3}; 4 is 15 tiles from 1, outside its view
    team = np.asarray(state.entities.team).copy()
    team[:N_PLAYERS] = [0, 0, 2, 0]
    state = state.replace(entities=state.entities.replace(team=jnp.asarray(team)))
    obs = observe(state, cfg)
    assert [comm_rows(obs, pid) for pid in (1, 2, 3, 4)] == [[1, 2, 4], [1, 2, 4], [3], [1, 2, 4]]
    # 2 starves in this step (20 - 10 - 10 = 0); 4 sends index 10 -> 11
    obs, state = run(cfg, state, comm={4: 10})
    assert [comm_rows(obs, pid) for pid in (1, 2, 3, 4)] == [[1, 4], [], [3], [1, 4]]
    # 1 reads its far teammate's message through the row its Communication names
    assert int(obs.entities[int(obs.comm[0, 1]), MESSAGE]) == 11


# --- the system switched off (SPEC 1.3, 12.2)


def test_comm_does_nothing_with_the_system_disabled():
    cfg, state = build(communication_system_enabled=False)
    _, state = run(cfg, state, comm={1: 5, 2: 126})
    assert messages(state) == [0, 0, 0, 0]
