"""Teams and game modes (SPEC 3.1, 14.5, 14.7): team ids, team spawning, ProtectTheKing's rule,
and the games' settings. Expected values are worked out by hand from the SPEC."""

import jax
import numpy as np
import pytest

import nmmo_jax as nj
from nmmo_jax import games, scenario
from nmmo_jax.events import EVENT_CODES, EVENT_COLUMN
from nmmo_jax.systems import teams


def test_teams_follow_make_teams():
    # make_teams(PLAYER_N=10, 3): 10 // 3 = 3 per team, the last takes the rest: 1-3, 4-6, 7-10
    cfg = nj.Config.small(player_n=10, team_n=3)
    assert teams.team_of(cfg).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    # without teams every player is alone
    assert teams.team_of(nj.Config.small(player_n=4)).tolist() == [0, 1, 2, 3]
    # the leader is the first member
    assert np.asarray(teams.leaders(np.array([0, 0, 0, 1, 1, 2]))).tolist() == [
        True, False, False, True, False, True,
    ]  # fmt: skip


def test_team_spawning_puts_each_team_on_its_own_spread_tile():
    # Small map: map_center 32, border 16. ceil(4 / 4) = 1 place per side at
    # int(32 * 1 / 2) = 16 along each side of the edge list: (16, 16 + 16), (16 + 16, 48),
    # (48, 47 - 16), (47 - 16, 16).
    cfg = nj.Config.small(player_n=8, team_n=4)
    env = nj.Env(cfg)
    reset = jax.jit(env.reset)  # eager: seconds of op-by-op dispatch
    places = {(16, 32), (32, 48), (48, 31), (31, 16)}
    seen = set()
    for seed in range(3):
        _, state = reset(jax.random.key(seed))
        row = np.asarray(state.entities.row[:8])
        col = np.asarray(state.entities.col[:8])
        team = np.asarray(state.entities.team[:8])
        assert team.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
        tiles = [(int(r), int(c)) for r, c in zip(row, col, strict=True)]
        for t in range(4):  # both members on one tile
            assert tiles[2 * t] == tiles[2 * t + 1]
        team_tiles = {tiles[2 * t] for t in range(4)}
        assert team_tiles == places  # every team on a different place
        seen.add(tuple(tiles[::2]))
    assert len(seen) > 1  # which team gets which place is drawn


def test_protect_the_king_a_team_dies_with_its_leader():
    # Teams of 2: players 1-2 (leader 1) and 3-4 (leader 3). Player 1 has 1 health and no food
    # or water: starvation and dehydration (10 + 10) kill it this step, so player 2 dies with
    # it (culled, -1); player 4 (not a leader) also starves, and its leader 3 lives on.
    cfg, state = scenario.build(
        "1 . 2 . 3 . 4",
        players={1: dict(health=1, food=0, water=0), 4: dict(health=1, food=0, water=0)},
        team_n=2,
        team_leader_cull=True,
    )
    ent = state.entities
    state = state.replace(entities=ent.replace(team=ent.team.at[:4].set(np.array([0, 0, 1, 1]))))
    env = nj.Env(cfg)
    _, state, reward, terminated, _, info = jax.jit(env.step)(
        jax.random.key(0), state, env.noop_actions
    )
    assert np.asarray(info["alive"]).tolist() == [False, False, True, False]
    assert np.asarray(terminated).tolist() == [True, True, False, True]
    assert np.asarray(reward)[[0, 1, 3]].tolist() == [-1.0, -1.0, -1.0]
    culled = np.asarray(state.events.episode[:4, EVENT_COLUMN[EVENT_CODES["AGENT_CULLED"]]])
    assert culled.tolist() == [1, 1, 0, 1]


def test_team_leader_cull_needs_teams():
    with pytest.raises(ValueError, match="team_leader_cull"):
        nj.Config.small(team_leader_cull=True)
    with pytest.raises(ValueError, match="team_n"):
        nj.Config.small(player_n=8, team_n=9)


def test_game_settings():
    base = nj.Config.small(player_n=16)
    cfg, specs = games.king_of_the_hill(base, team_n=4, seize_duration=20)
    # SPEC 14.7: TERRAIN, COMBAT, RESOURCE, COMMUNICATION kept; fog onset 32, speed 1/16, size 5
    assert cfg.combat_system_enabled and cfg.communication_system_enabled
    assert not (cfg.npc_system_enabled or cfg.exchange_system_enabled or cfg.item_system_enabled)
    assert not cfg.progression_system_enabled
    assert (cfg.death_fog_onset, cfg.death_fog_speed, cfg.death_fog_final_size) == (32, 1 / 16, 5)
    assert cfg.seize_center and cfg.team_n == 4 and cfg.map_center == 40
    assert not cfg.allow_move_into_occupied_tile
    assert [s.name for s in specs] == [
        "(Task_eval_fn:(SeizeCenter_Any_num_ticks:20_progress_bonus:0.3)_reward_to:team)"
    ]
    cfg, specs = games.race_to_center(base)
    assert not (cfg.combat_system_enabled or cfg.npc_system_enabled)
    assert cfg.death_fog_onset is None and cfg.team_n == 0
    assert specs[0].expr.name == "ProgressTowardCenter"
    cfg, specs = games.protect_the_king(base, team_n=4)
    assert cfg.team_leader_cull and specs[0].reward_to == "team"
    cfg, specs = games.team_battle(base, team_n=4)
    assert specs[0].expr.args["num_tick"] == base.horizon
    with pytest.raises(ValueError, match="reward_to='agent'"):
        games.agent_training(base, specs)
    assert games.team_training(base, specs, team_n=4)[0].team_n == 4


def test_king_of_the_hill_runs_and_pays_the_approach_bonus():
    # Map 64 with centre C = 40: border 12, centre tile (32, 32). The teams stay (no-ops) on
    # their edge tiles, e.g. (12, 12 + int(40 / 2)) = (12, 32), at L-inf distance 20 from the
    # centre, so SeizeCenter is the approach value 0.3 * (1 - 20 / (C // 2)) = 0.
    cfg, specs = games.king_of_the_hill(nj.Config.small(player_n=8), team_n=4)
    env = nj.Env(cfg, tasks=specs)
    obs, state = jax.jit(env.reset)(jax.random.key(0))  # eager: op-by-op dispatch
    step = jax.jit(env.step)
    for t in range(3):
        obs, state, reward, *_, info = step(jax.random.key(t), state, env.noop_actions)
    assert np.asarray(info["task"]["progress"]).tolist() == [0.0] * 8
    assert np.asarray(state.seize).tolist() == [0, 0]  # nobody holds the centre
    assert np.asarray(obs.comm[0]).tolist()[:2] == [1, 2]  # team 0's Communication rows
