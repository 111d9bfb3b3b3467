"""What the predicates read, gathered once per step from the state (SPEC 14.2).

The reference builds a GameState after each step: the live entity rows, the items by owner,
every event of the episode, the agents' observations. Its predicates filter those tables per
subject. Here the per-player quantities every built-in predicate needs are put side by side in
one int32 table [N, F] (entity columns, event counts, gold sums, best levels, free slots), and
a subject's members read it with one row gather each (`query.Query`). Quantities that depend
on a predicate's arguments (an item type and a minimum level) stay in small per-player tables
that a member reads at those arguments.

What a member *saw* (CanSeeTile, CanSeeAgent, CanSeeGroup) and its inventory's free space
(InventorySpaceGE) are part of the task memory: the reference reads a dead member's last
observation, so they are kept from the last step the member was alive (`TaskMemory`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from nmmo_jax import items as it
from nmmo_jax.config import Config
from nmmo_jax.events import EVENT_CODES, EVENT_COLUMN, GOLD_KEYS, N_SKILLS
from nmmo_jax.state import ENTITY_COLUMNS, WorldState, material

# The columns of Features.table, in order.
EVENT_FEATURES = tuple(f"event_{name}" for name in EVENT_CODES)
FEATURE_COLUMNS = (
    ENTITY_COLUMNS
    + ("alive", "spawn_row", "spawn_col", "free_slots", "team")
    + EVENT_FEATURES
    + tuple(f"hits_{style}" for style in ("melee", "range", "mage"))
    + tuple(f"gold_{name}" for name in GOLD_KEYS)
    + tuple(f"level_up_{skill}" for skill in range(1, N_SKILLS + 1))
)
FEATURE = {name: i for i, name in enumerate(FEATURE_COLUMNS)}
N_FEATURES = len(FEATURE_COLUMNS)
_ENTITY = frozenset(ENTITY_COLUMNS)
# the event-log columns of the table: (EventLog field, column index)
_LOG_COLUMNS = {
    **{f"event_{name}": ("episode", EVENT_COLUMN[code]) for name, code in EVENT_CODES.items()},
    **{f"hits_{style}": ("hits", i) for i, style in enumerate(("melee", "range", "mage"))},
    **{f"gold_{name}": ("gold", i) for i, name in enumerate(GOLD_KEYS)},
    **{f"level_up_{skill}": ("level_up", skill - 1) for skill in range(1, N_SKILLS + 1)},
}


@struct.dataclass
class TaskMemory:
    """What the task system remembers between steps (per env; N players): where each player
    last stood alive, and its free inventory slots then, for the views of dead members.

    last_row, last_col  int32 [N]  position at the last live step (-1: never seen alive)
    free_slots          int32 [N]  free inventory slots at the last live step
    """

    last_row: jax.Array
    last_col: jax.Array
    free_slots: jax.Array


class Features:
    """One step's per-player quantities (N players), read from the state where they are
    needed: a predicate's members gather their own values (`at`, `items_at`, `owned_at`, ...),
    so a step builds no table of every player's columns. The whole-table forms remain, built
    on demand, for predicates that read them (`table`, `owned`, `equipped`).

    tick       int32 []
    table      int32 [N, F]            FEATURE_COLUMNS (entity columns of dead players are 0)
    alive      bool  [N]
    items      int32 [N, K, L]         the event log's item-event number sums (events.py)
    owned      int32 [N, T, L]         quantity owned by item type and level (alive players)
    equipped   int32 [N, T, L]         items equipped by type and level (alive players)
    kills      int32 [N, 2, KL]        kills by (victim is an NPC, victim level)
    material   int8  [S, S]            the material of every tile now
    memory     TaskMemory              last live positions (updated for this step's live
                                       players)
    seize      int32 [2]               the centre tile's holder id and seize tick (zeros
                                       without a seize target; systems/seize.py)

    Nothing is cached: XLA merges the identical reads of one step, and a cached value would
    leak out of a `lax.map` or `lax.switch` body that computed it first.
    """

    def __init__(self, state: WorldState, memory: TaskMemory, cfg: Config):
        self.state = state
        self.memory = memory
        self.cfg = cfg
        self.n = cfg.player_n

    # --- whole-player quantities
    @property
    def tick(self) -> jax.Array:
        return self.state.tick.astype(jnp.int32)

    @property
    def alive(self) -> jax.Array:
        return self.state.entities.alive[: self.n]

    @property
    def material(self) -> jax.Array:
        return material(self.state.tiles, self.state.tick)

    def material_window(self, row: jax.Array, col: jax.Array, size: int) -> jax.Array:
        """int8 [size, size]: the materials of the square from (row, col) (clamped into the
        map as `lax.dynamic_slice` does), computed on that square only."""
        tiles = self.state.tiles

        def cut(x):
            return jax.lax.dynamic_slice(x, (row, col), (size, size))

        return material(
            tiles.replace(base=cut(tiles.base), regrow_at=cut(tiles.regrow_at)), self.state.tick
        )

    @property
    def seize(self) -> jax.Array:
        seize = self.state.seize
        return jnp.zeros(2, jnp.int32) if seize is None else seize

    @property
    def items(self) -> jax.Array:
        return self.state.events.items[: self.n].astype(jnp.int32)

    @property
    def kills(self) -> jax.Array:
        return self.state.events.kills[: self.n].astype(jnp.int32)

    def column(self, name: str) -> jax.Array:
        """int32 [N]: the FEATURE_COLUMNS column `name` of every player."""
        return self.at(jnp.arange(self.n), FEATURE[name])

    @property
    def table(self) -> jax.Array:
        return jnp.stack([self.column(name) for name in FEATURE_COLUMNS], axis=1)

    def _by_type_table(self, equipped: bool) -> jax.Array:
        n = self.n
        slots = self.state.inventory.slots[:n].astype(jnp.int32)
        occupied = it.occupied(slots) & self.alive[:, None]
        levels = self.state.events.items.shape[-1]
        type_id = it.column(slots, "type_id")
        level = jnp.clip(it.column(slots, "level"), 1, levels) - 1
        if equipped:
            value = (occupied & (it.column(slots, "equipped") > 0)).astype(jnp.int32)
        else:
            value = jnp.where(occupied, it.column(slots, "quantity"), 0)
        player = jnp.broadcast_to(jnp.arange(n)[:, None], type_id.shape)
        table = jnp.zeros((n, it.N_TYPES, levels), jnp.int32)
        return table.at[player, type_id, level].add(value)

    @property
    def owned(self) -> jax.Array:
        return self._by_type_table(equipped=False)

    @property
    def equipped(self) -> jax.Array:
        return self._by_type_table(equipped=True)

    # --- the members' values (slot: int32 [...] player slots in 0..N-1)
    def at(self, slot: jax.Array, column: int) -> jax.Array:
        """int32 [...]: column `column` (an index of FEATURE_COLUMNS, a Python int) of the
        players `slot`, gathered from the state."""
        name = FEATURE_COLUMNS[column]
        ent, events = self.state.entities, self.state.events
        if name in _ENTITY:
            alive = ent.alive[slot]
            return jnp.where(alive, getattr(ent, name)[slot], 0).astype(jnp.int32)
        if name == "alive":
            return ent.alive[slot].astype(jnp.int32)
        if name in ("spawn_row", "spawn_col", "team"):
            return getattr(ent, name)[slot].astype(jnp.int32)
        if name == "free_slots":
            occupied = it.occupied(self.state.inventory.slots[slot])
            return self.cfg.item_inventory_capacity - occupied.sum(axis=-1).astype(jnp.int32)
        source, index = _LOG_COLUMNS[name]
        return getattr(events, source)[slot, index].astype(jnp.int32)

    def event_at(self, slot: jax.Array, code: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(int32 [...] the episode count of event `code` of the players `slot`, bool []
        whether `code` is an event code)."""
        column, known = event_column(code)
        return self.state.events.episode[slot, column].astype(jnp.int32), known

    def items_at(self, slot: jax.Array, key: jax.Array) -> jax.Array:
        """int32 [..., L]: the item-event number sums of aggregate key `key` by level."""
        return self.state.events.items[slot, key].astype(jnp.int32)

    def kills_at(self, slot: jax.Array, npc: jax.Array) -> jax.Array:
        """int32 [..., KL]: kills of NPCs (`npc` true) or players by victim level."""
        return self.state.events.kills[slot, jnp.where(npc, 1, 0)].astype(jnp.int32)

    def by_type_at(
        self, slot: jax.Array, item_type: jax.Array, level: jax.Array, equipped: bool
    ) -> jax.Array:
        """int32 [...]: the quantity of `item_type` at level >= `level` the players `slot`
        own (or, `equipped`, how many such items they have equipped), read from their
        inventory slots (0 for dead players): `owned` or `equipped` summed over levels.
        `item_type` may be a vector of types [P]: int32 [..., P], the inventories read once."""
        slots = self.state.inventory.slots[slot].astype(jnp.int32)  # [..., S, fields]
        levels = self.state.events.items.shape[-1]
        held = it.occupied(slots) & self.state.entities.alive[slot][..., None]
        held &= jnp.clip(it.column(slots, "level"), 1, levels) >= level
        if equipped:
            value = (held & (it.column(slots, "equipped") > 0)).astype(jnp.int32)
        else:
            value = jnp.where(held, it.column(slots, "quantity"), 0)
        item_type = jnp.asarray(item_type)
        type_id = it.column(slots, "type_id")
        if item_type.ndim:
            match = type_id[..., None] == item_type  # [..., S, P]
            return jnp.where(match, value[..., None], 0).sum(-2, dtype=jnp.int32)
        return jnp.where(type_id == item_type, value, 0).sum(-1, dtype=jnp.int32)


def event_column(code: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(int32 [] the event log's column of event `code`, bool [] whether `code` is one)."""
    codes = jnp.asarray(list(EVENT_CODES.values()))
    columns = jnp.asarray([EVENT_COLUMN[c] for c in EVENT_CODES.values()])
    return columns[jnp.argmax(codes == code)], (codes == code).any()


def empty_memory(cfg: Config, views: bool) -> TaskMemory:
    """Nothing seen yet; without `views` (no task reads them) the arrays are empty."""
    n = cfg.player_n if views else 0
    return TaskMemory(
        last_row=jnp.full(n, -1, jnp.int32),
        last_col=jnp.full(n, -1, jnp.int32),
        free_slots=jnp.full(n, cfg.item_inventory_capacity, jnp.int32),
    )


def remember(memory: TaskMemory, state: WorldState, cfg: Config) -> TaskMemory:
    """The memory after a step: live players' positions and free slots (SPEC 14.3: a dead
    member's observation keeps its last live view)."""
    ent = state.entities
    n = cfg.player_n
    alive = ent.alive[:n]
    free = cfg.item_inventory_capacity - it.occupied(state.inventory.slots).sum(axis=1)
    return memory.replace(
        last_row=jnp.where(alive, ent.row[:n], memory.last_row).astype(jnp.int32),
        last_col=jnp.where(alive, ent.col[:n], memory.last_col).astype(jnp.int32),
        free_slots=jnp.where(alive, free, memory.free_slots).astype(jnp.int32),
    )


def features(state: WorldState, memory: TaskMemory, cfg: Config) -> Features:
    """The per-player quantities of SPEC 14.2-14.3 after a step (`memory` already updated by
    `remember`)."""
    return Features(state, memory, cfg)
