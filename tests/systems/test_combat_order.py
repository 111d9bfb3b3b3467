"""Combat in the reference's order, worked by hand from SPEC 3.4, 5, 6.5, 12.3 and 13.1."""

import jax
import jax.numpy as jnp
import numpy as np

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax import scenario
from nmmo_jax.observe import observe

KEY = jax.random.key(0)
# food 40 keeps health from regenerating (it needs food and water > 50, SPEC 3.3)
HUNGRY = dict(time_alive=25, food=40)


def step(cfg, state, **heads):
    env = nj.Env(cfg)
    return jax.jit(env.step)(
        KEY, state, env.actions(**{k: jnp.asarray(v) for k, v in heads.items()})
    )


def test_mutual_kill_goes_to_the_lower_id_which_loots():
    # Both at 5 health, both hit for 10 (level 1, no gear: offense 15, defense 5). Player 1 acts
    # first (SPEC 13.1) and kills 2; 2's attack and move are cancelled. 1 takes 2's gold (1)
    # and items: the Hat (LOOT_ITEM) and 4 Whetstones merged into its own stack of 2 (6, no
    # event for the merge, SPEC 14.6).
    cfg, state = scenario.build(
        ". 1 2 .", players={1: dict(HUNGRY, health=5), 2: dict(HUNGRY, health=5)}
    )
    state = scenario.give(state, cfg, 2, it.HAT, 1)
    state = scenario.give(state, cfg, 2, it.WHETSTONE, 1, quantity=4)
    state = scenario.give(state, cfg, 1, it.WHETSTONE, 1, quantity=2)
    obs, state, reward, terminated, *_ = step(cfg, state, attack_target=[1, 0], move=[3, 2])
    ent = state.entities
    assert ent.alive[:2].tolist() == [True, False]
    assert ent.health[:2].tolist() == [5, 0]
    assert int(ent.col[1]) == 2 + cfg.map_border  # the dead did not move East
    assert int(ent.col[0]) == 0 + cfg.map_border  # the killer moved West
    assert state.events.count("SCORE_HIT")[:2].tolist() == [1, 0]
    assert state.events.count("PLAYER_KILL")[:2].tolist() == [1, 0]
    assert ent.gold[:2].tolist() == [2, 0]
    assert state.events.count("LOOT_GOLD")[:2].tolist() == [1, 0]
    assert state.events.count("LOOT_ITEM")[:2].tolist() == [1, 0]
    rows = np.asarray(obs.inventory[0])
    held = {(int(r[it.COL["type_id"]]), int(r[it.COL["quantity"]])) for r in rows if r[1] > 0}
    assert held == {(it.HAT, 1), (it.WHETSTONE, 6)}
    assert terminated.tolist() == [False, True] and float(reward[1]) == -1.0


def test_a_second_attacker_on_a_dead_target_is_rejected():
    # 3 at 8 health is hit by 1 (10 damage: dead) then 2's attack finds it dead: no SCORE_HIT,
    # no XP, no combat tick for 2 (SPEC 5.1); the kill and the loot go to 1.
    cfg, state = scenario.build("1 3 2", players={1: HUNGRY, 2: HUNGRY, 3: dict(HUNGRY, health=8)})
    _, state, *_ = step(cfg, state, attack_target=[2, 2, cfg.n_entities])
    ent, ev = state.entities, state.events
    assert not bool(ent.alive[2])
    assert ev.count("SCORE_HIT")[:3].tolist() == [1, 0, 0]
    assert ent.melee_exp[:2].tolist() == [6, 0]
    assert ent.latest_combat_tick[:2].tolist() == [1, 0]
    assert ev.count("PLAYER_KILL")[:3].tolist() == [1, 0, 0]
    assert ent.gold[:3].tolist() == [2, 1, 0]


def test_a_killed_attacker_does_not_attack_later_in_the_tick():
    # NPC attacks come after all player attacks: the NPC (health 3, defense int(8 * 1) = 8) is
    # killed by player 1 (max(15 - 8, 0.25 * 15) = 7 >= 3 + 1 regeneration) before its own
    # attack on player 1 runs.
    cfg, state = scenario.build(
        ". 1 .",
        players={1: HUNGRY},
        npcs=[dict(row=0, col=2, npc_type=3, level=1, health=3, target=0)],
        npc_spawn_attempts=0,
    )
    _, state, *_ = step(cfg, state, attack_target=[1])
    ent = state.entities
    assert not bool(ent.alive[1])
    assert int(ent.health[0]) == 100 and int(ent.damage[0]) == 0
    # gold: 1 + the NPC's level 1; drops: a Hat and a Rod at the NPC's attack level 1
    assert int(ent.gold[0]) == 2
    assert state.events.count("LOOT_ITEM")[0] == 2
    assert int(state.events.kills[0, 1, 1]) == 1  # one NPC of level 1


def test_damage_column_attacker_and_combat_ticks():
    # SPEC 5.4, 5.6: the target's damage is the hit's, attacker_id the attacker's id, and both
    # get latest_combat_tick = tick + 1; attacker_id survives one quiet step, then clears.
    cfg, state = scenario.build(". 1 2 .", players={1: HUNGRY, 2: HUNGRY}, tick=10)
    _, state, *_ = step(cfg, state, attack_target=[1, cfg.n_entities])
    ent = state.entities
    assert int(ent.damage[1]) == 10 and int(ent.attacker_id[1]) == 1
    assert ent.latest_combat_tick[:2].tolist() == [11, 11]
    _, state, *_ = step(cfg, state)
    assert int(state.entities.attacker_id[1]) == 1 and int(state.entities.damage[1]) == 0
    _, state, *_ = step(cfg, state)
    assert int(state.entities.attacker_id[1]) == 0


def test_attack_mask_lags_immunity_by_one_tick():
    # SPEC 12.3 / 18.2: after step 19 the target's observed time_alive is 19, so the mask
    # forbids it although the attack of step 20 succeeds (time_alive 20 at execution).
    cfg, state = scenario.build(". 1 2 .", players={1: dict(time_alive=19), 2: dict(time_alive=19)})
    mask = np.asarray(observe(state, cfg).action_mask.attack_target)
    assert not mask[0, 1] and mask[0, cfg.n_entities]  # only the no-op
    obs, after, *_ = step(cfg, state, attack_target=[1, cfg.n_entities])
    assert int(after.events.count("SCORE_HIT")[0]) == 1
    mask = np.asarray(obs.action_mask.attack_target)
    assert mask[0, 1] and not mask[0, cfg.n_entities]  # now valid; the no-op is not
    assert not mask[0, 0]  # never oneself
