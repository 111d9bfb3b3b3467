"""The tick: the fixed order in which the systems run (SPEC 13.1), and the action heads."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax import ops
from nmmo_jax.config import Config
from nmmo_jax.state import WorldState
from nmmo_jax.systems import (
    combat,
    comm,
    exchange,
    fog,
    give,
    harvest,
    items,
    movement,
    npc,
    seize,
    survival,
    teams,
)


def action_heads(cfg: Config) -> tuple[tuple[str, int], ...]:
    """(name, choices) of every column of the action array, in column order: the reference's
    nine actions and their thirteen arguments (SPEC 12.1), with our encodings of the targets
    (entity slots) and a no-op for Comm. The heads are the same whichever systems are on (a
    switched-off system's head only allows its no-op), so the array shape depends on the
    capacities alone."""
    return (
        ("move", movement.N_DIRECTIONS),
        ("use", items.n_choices(cfg)),
        ("destroy", items.n_choices(cfg)),
        ("attack_style", combat.N_STYLES),
        ("attack_target", combat.n_targets(cfg)),
        ("give_item", items.n_choices(cfg)),
        ("give_target", give.n_targets(cfg)),
        ("give_gold_amount", exchange.n_price_choices(cfg)),
        ("give_gold_target", give.n_targets(cfg)),
        ("sell_item", items.n_choices(cfg)),
        ("sell_price", exchange.n_price_choices(cfg)),
        ("buy", exchange.n_buy_choices(cfg)),
        ("comm", comm.n_choices(cfg)),
    )


def noop_action(cfg: Config) -> tuple[int, ...]:
    """The no-op choice of every head: Stay, and the trailing no-op index of the others (a
    style, a price or an amount is only read with its target or item, so 0)."""
    capacity, size = cfg.item_inventory_capacity, cfg.n_entities
    return (
        movement.STAY,
        capacity,
        capacity,
        combat.MELEE,
        size,
        capacity,
        size,
        0,
        size,
        capacity,
        0,
        cfg.market_n_obs,
        cfg.communication_num_tokens,
    )


ACTION_HEADS = action_heads(Config())  # the Default config's heads
HEAD_INDEX = {name: i for i, (name, _) in enumerate(ACTION_HEADS)}
ITEM_HEADS = ("use", "destroy", "give_item", "sell_item")  # InventoryItem heads

# The uniforms of a tick, [player_n, N_UNIFORMS], drawn in one call (ops.uniforms: a hash of the
# step key, no threefry loop) and split by column among the systems that need randomness.
SURVIVAL_UNIFORMS = slice(0, 1)  # foilage regrowth
HARVEST_UNIFORMS = slice(1, 1 + harvest.N_UNIFORMS)
N_UNIFORMS = HARVEST_UNIFORMS.stop


def step_world(key: jax.Array, state: WorldState, actions: jax.Array, cfg: Config) -> WorldState:
    """Advances one environment by one tick. `actions`: int32 [player_n, len(action_heads)].

    Order as in the reference (SPEC 13.1): the item rows the actions name are read from the
    observation the agents saw; the NPCs decide from the start-of-step state; entity updates
    (SPEC 3.3: regeneration and starvation, the professions, water and food; NPC regeneration);
    the actions by priority (Use 10, Buy 20, Give and GiveGold 30, Destroy 40, Attack 50 with the
    players' attacks before the NPCs', Move 60, Sell 70, Comm 99); the dead are culled (their
    items destroyed), the tick advances, expired listings leave the market and dead NPCs are
    replaced (SPEC 6.1). Depleted tiles regrow when the new tick reaches their
    regrowth tick (TileMap.regrow_at), i.e. at the end of the step (SPEC 2.1).
    The death fog (systems/fog.py, off unless DEATH_FOG_ONSET is set) hurts players right after
    the generic entity update, and a player it kills skips the rest of its update; the fog
    advances after the tick does (SPEC 3.3, 10, 13.1 f).
    Within the reference's per-player update the professions run after regeneration and before
    water and food; no quantity links them, so running them as whole systems keeps the results.
    """
    n = cfg.player_n
    npcs_on = cfg.npc_system_enabled and cfg.npc_n > 0
    market_on = cfg.exchange_system_enabled
    # the actions as a buffer: a policy compiled with the step (a rollout) is otherwise fused
    # into the [N, N] tests of Give and recomputed per pair (ops.materialize)
    (actions,) = ops.materialize(actions, token=state.tick)
    if cfg.item_system_enabled:
        use_id, destroy_id, give_id, sell_id = items.targets(
            state, *(actions[:, HEAD_INDEX[head]] for head in ITEM_HEADS)
        )
    if market_on:
        bought = exchange.buy_targets(state, actions[:, HEAD_INDEX["buy"]], cfg)
    if npcs_on:
        state, npc_move, npc_attack = npc.decide(state, cfg)
    state = state.replace(events=state.events.start_tick())
    state = survival.tick_entities(state)
    if cfg.item_system_enabled and cfg.equipment_system_enabled:
        state = items.refresh_item_level(state, cfg)
    # Death fog damage (SPEC 3.3 step 2); a player it kills stops its update (step 3).
    state, updating = fog.damage(state, cfg)
    u = ops.uniforms(key, (n, N_UNIFORMS))
    state = survival.update_players(state, u[:, SURVIVAL_UNIFORMS], cfg, live=updating)
    if cfg.profession_system_enabled:
        state = harvest.harvest(state, u[:, HARVEST_UNIFORMS], cfg, live=updating)
    if npcs_on:
        state = npc.update(state, cfg)
    # Only entities still alive after their update act (starvation kills before the actions).
    ent = state.entities
    can_act = ent.alive & (ent.health > 0)
    if cfg.item_system_enabled:
        state = items.use(state, use_id, can_act[:n], cfg)
    if market_on:
        state = exchange.buy(state, key, bought, can_act[:n], cfg)
    if cfg.item_system_enabled:
        target = actions[:, HEAD_INDEX["give_target"]]
        state = give.give(state, give_id, target, can_act[:n], cfg)
    if market_on:
        amount, target = (
            actions[:, HEAD_INDEX[h]] for h in ("give_gold_amount", "give_gold_target")
        )
        state = give.give_gold(state, amount, target, can_act[:n], cfg)
    if cfg.item_system_enabled:
        state = items.destroy(state, destroy_id, can_act[:n], cfg)
    if cfg.combat_system_enabled or npcs_on:
        state = _attacks(key, state, actions, can_act, npc_attack if npcs_on else None, cfg)
    # An entity killed by an attack of this tick neither moves nor sells nor talks.
    can_move = state.entities.alive & (state.entities.health > 0)
    state = movement.move_players(state, actions[:, HEAD_INDEX["move"]], can_move[:n], cfg)
    if npcs_on:
        state = npc.move(state, npc_move, cfg)
    if market_on:
        price = actions[:, HEAD_INDEX["sell_price"]]
        state = exchange.sell(state, sell_id, price, can_move[:n], cfg)
    if cfg.communication_system_enabled:
        state = comm.comm(state, actions[:, HEAD_INDEX["comm"]], can_move[:n], cfg)
    alive_before = state.entities.alive
    state = survival.cull(state)
    if cfg.team_leader_cull:
        state = teams.cull_with_leaders(state, alive_before, cfg)
    died = alive_before & ~state.entities.alive
    state = state.replace(events=state.events.record("AGENT_CULLED", died[:n]))
    if cfg.item_system_enabled:
        state = items.discard_dead(state, died[:n])
    state = npc.bury(state, died, cfg)
    if cfg.seize_center:
        state = seize.update(state, cfg, state.tick + 1)
    state = state.replace(tick=state.tick + 1, events=state.events.end_tick())
    state = fog.advance(state, cfg)
    if market_on:
        state = exchange.expire(state, cfg)
    if npcs_on and cfg.npc_default_refill_dead_npcs:
        state = npc.refill(state, key, cfg)
    return state


def _attacks(key, state: WorldState, actions, can_act, npc_attack, cfg: Config) -> WorldState:
    """The Attack requests of every entity, [E]: the players' heads, the NPCs' decisions."""
    n, size = cfg.player_n, cfg.n_entities
    ent = state.entities
    target = actions[:, HEAD_INDEX["attack_target"]]
    style = actions[:, HEAD_INDEX["attack_style"]]
    wants = (target >= 0) & (target < size)
    if not cfg.combat_system_enabled:
        wants = jnp.zeros_like(wants)
    npc_wants = npc_attack if npc_attack is not None else jnp.zeros((size - n,), bool)
    wants = jnp.concatenate([wants, npc_wants])
    target = jnp.concatenate([target, jnp.maximum(ent.target[n:], 0)])
    style = jnp.concatenate([style, ent.style[n:]])
    can_act = can_act & (ent.freeze == 0)
    return combat.attack(state, key, wants, target, style, can_act, cfg)
