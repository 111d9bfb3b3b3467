"""Death fog: a float16 map that closes in from the edge and hurts the players in it (SPEC 10,
3.3 steps 2-3, 3.4, 13.1 f, 18.1, 18.11).

The map (`WorldState.fog`, float16 [S, S], S = map_size) is the reference's `realm.fog_map`:
* at reset, ring k (k = min(r, c, S - 1 - r, S - 1 - c), the distance from the map's edge, taken
  at most S // 2 - 1 as the reference's ring loop stops there) holds MAP_BORDER - k: positive
  in the void border, 0 on ring 16 of the Default map (row 16), negative inside. The last
  walkable row 144 is ring 15 and so starts at +1 (quirk 18.1). The safe square
  `[c - F, c + F]^2` (c = S // 2, F = DEATH_FOG_FINAL_SIZE, numpy slicing) holds -S;
* at the end of every step whose new tick is >= DEATH_FOG_ONSET every cell gains
  DEATH_FOG_SPEED, added in float16 as the reference adds it (a speed of 0.1 is float16
  0.0999755859375 and the sums round to the float16 grid; 1/16 is exact while values stay
  below 128), then the safe square is set to -S again (`advance`);
* during the player update of a step whose tick (before it advances) is >= DEATH_FOG_ONSET, a
  live player standing where the fog is > 0.5 takes round(fog) damage, rounded half to even as
  Python's round (`damage`): health falls (floored at 0), the `damage` column records it
  (quirk 18.11: starvation does not), no attacker is set. A player it kills stops its update
  (no health increment, regeneration, harvest, water or food) and is culled with the other
  dead at the end of the step: a sourceless death (gold vanishes, items destroyed, no kill
  event). IMMORTAL players take no fog damage (the reference's receive_damage returns first).

Switched off (DEATH_FOG_ONSET None, the default) nothing here is traced and `WorldState.fog` is
None rather than an empty array: a pytree node with no leaves, so the state of a fog-less config
has exactly the leaves it had before the fog existed (saved states still load, batches carry
nothing), and any code that reached for the map without checking the config would fail loudly
instead of reading zeros. The shape of the state is fixed per config either way.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from nmmo_jax import ops
from nmmo_jax.config import Config
from nmmo_jax.state import WorldState


def enabled(cfg: Config) -> bool:
    """Whether the config has a death fog (a static fact of the config)."""
    return cfg.death_fog_onset is not None


def safe_square(cfg: Config) -> tuple[int, int]:
    """[start, stop) of the rows (and columns) of the safe square: the reference's slice
    `[c - F : c + F + 1]` with c = S // 2, with numpy's meaning (a negative start counts from
    the end, so an F above c leaves only the far corner safe, as in the reference)."""
    size, centre, final = cfg.map_size, cfg.map_size // 2, cfg.death_fog_final_size
    start, stop, _ = slice(centre - final, centre + final + 1).indices(size)
    return start, max(start, stop)


def _reset_safe(fog: jax.Array, cfg: Config) -> jax.Array:
    start, stop = safe_square(cfg)
    if start == stop:
        return fog
    return fog.at[start:stop, start:stop].set(jnp.float16(-cfg.map_size))


def initial(cfg: Config) -> jax.Array | None:
    """float16 [S, S]: the fog at reset (module docstring), or None when the fog is off."""
    if not enabled(cfg):
        return None
    size = cfg.map_size
    edge = jnp.arange(size, dtype=jnp.int32)
    edge = jnp.minimum(edge, size - 1 - edge)
    ring = jnp.minimum(jnp.minimum(edge[:, None], edge[None, :]), size // 2 - 1)
    # integers of magnitude <= 2048: exact in float16
    return _reset_safe((cfg.map_border - ring).astype(jnp.float16), cfg)


def advance(state: WorldState, cfg: Config) -> WorldState:
    """The end-of-step fog update (SPEC 13.1 f): `state.tick` is the new tick. No-op when off."""
    if not enabled(cfg):
        return state
    speed = jnp.float16(np.float16(cfg.death_fog_speed))  # rounded from float64, as numpy does
    moved = _reset_safe(state.fog + speed, cfg)  # one float16 add, rounded to float16
    return state.replace(fog=jnp.where(state.tick >= cfg.death_fog_onset, moved, state.fog))


def damage(state: WorldState, cfg: Config) -> tuple[WorldState, jax.Array]:
    """Fog damage in the player update (SPEC 3.3 step 2), after the generic entity update.

    Returns the state and `updating`, bool [player_n]: the live players whose update goes on
    (not killed by the fog, SPEC 3.3 step 3). When the fog is off every live player updates.
    """
    n = cfg.player_n
    ent = state.entities
    live = ent.alive[:n]
    if not enabled(cfg) or cfg.immortal:
        return state, live
    fog = ops.gather(state.fog, ent.row[:n], ent.col[:n])
    hit = live & (state.tick >= cfg.death_fog_onset) & (fog > 0.5)
    amount = jnp.round(fog).astype(jnp.int32)  # half to even, as Python's round
    health = ent.health[:n]
    new_health = jnp.where(hit, jnp.maximum(health - amount, 0), health)
    killed = hit & (new_health == 0)
    ent = ent.replace(
        health=ent.health.at[:n].set(new_health),
        damage=ent.damage.at[:n].set(jnp.where(hit, amount, ent.damage[:n])),
    )
    return state.replace(entities=ent), live & ~killed


def rounded(state: WorldState, cfg: Config) -> jax.Array:
    """int16 [S, S]: round(fog), the fog observation's values (zeros when the fog is off, as the
    reference's never-updated zero map)."""
    if not enabled(cfg):
        return jnp.zeros((cfg.map_size, cfg.map_size), jnp.int16)
    return jnp.round(state.fog).astype(jnp.int16)
