"""A subject's view of the game: what a predicate reads (SPEC 14.1-14.3).

A predicate is written for one subject, as a `jnp` function of a `Query` and its arguments;
the task engine vmaps it over every task of every agent. `Query` mirrors the reference's
GroupView: entity columns of the *alive* members, their items, their episode events (dead
members' events still count), what they saw, where they spawned.

Members are a fixed-size list of player slots (`-1` = empty), so reading a column is one small
gather per subject rather than a reduction over all players.
"""

from __future__ import annotations

from functools import cached_property

import jax
import jax.numpy as jnp

from nmmo_jax import events as ev
from nmmo_jax import items as it
from nmmo_jax.config import Config
from nmmo_jax.task.features import FEATURE, Features


class Args:
    """A predicate's arguments by name: `args.level` is a float32 scalar."""

    def __init__(self, names: tuple[str, ...], values: jax.Array):
        self._names = names
        self._values = values

    def __getattr__(self, name: str) -> jax.Array:
        try:
            return self._values[self._names.index(name)]
        except ValueError:
            raise AttributeError(f"no argument {name!r} (arguments: {self._names})") from None

    def int(self, name: str) -> jax.Array:
        """The argument rounded to int32 (ids, levels, counts)."""
        return jnp.round(getattr(self, name)).astype(jnp.int32)


class Query:
    """The members of one subject and the world, for one predicate evaluation.

    members  int32 [G]   player slots (player id - 1), -1 = empty place
    target   bool  [N]   the predicate's target group (CheckAgentStatus, CanSeeGroup, ...)
    """

    def __init__(self, f: Features, members: jax.Array, target: jax.Array, cfg: Config):
        self.f = f
        self.cfg = cfg
        self.members = members
        self.target = target
        self.valid = members >= 0
        self.slot = jnp.clip(members, 0, cfg.player_n - 1)

    # --- membership
    @property
    def tick(self) -> jax.Array:
        return self.f.tick

    def _at(self, column) -> jax.Array:
        """int32 [G]: one column of the feature table at the members' rows, gathered from the
        state (G values: no table of every player is built); `column` a Python int, or an
        int32 index into the whole table (`Features.table`, built then)."""
        if isinstance(column, int):
            return self.f.at(self.slot, column)
        return self.f.table[self.slot, column]

    def feature(self, name: str) -> jax.Array:
        """int32 [G]: a column of FEATURE_COLUMNS for each member (0 for empty places)."""
        return jnp.where(self.valid, self._at(FEATURE[name]), 0)

    @cached_property
    def size(self) -> jax.Array:
        """int32 []: the number of members (alive or not), the reference's `len(subject)`."""
        return self.valid.sum().astype(jnp.int32)

    @cached_property
    def alive(self) -> jax.Array:
        """bool [G]: members alive now (the reference's live entity rows)."""
        return self.valid & self.f.alive[self.slot]

    # --- entity columns of the alive members (SPEC 14.1: dead members are absent)
    def column(self, name: str) -> jax.Array:
        """int32 [G]: an entity column (`"health"`, `"gold"`, `"melee_level"`, ...) of the alive
        members, 0 for the others; reduce it under `alive`."""
        return jnp.where(self.alive, self._at(FEATURE[name]), 0)

    # --- events of the episode (every member, dead or alive)
    def event_count(self, code: jax.Array) -> jax.Array:
        """int32 [G]: how often each member logged event `code` (an event code, SPEC 14.6)."""
        counts, known = self.f.event_at(self.slot, code)
        return jnp.where(self.valid & known, counts, 0)

    def item_events(self, name: str, item_type: jax.Array, level: jax.Array) -> jax.Array:
        """int32 [G]: each member's sum of the `number` field of item events `name` (e.g.
        "HARVEST_ITEM") of `item_type` with level >= `level`."""
        key = ev.item_key(name, item_type)
        known = key < ev.N_ITEM_KEYS
        per_level = self.f.items_at(self.slot, jnp.minimum(key, ev.N_ITEM_KEYS - 1))  # [G, L]
        return jnp.where(self.valid & known, _from_level(per_level, level), 0)

    def owned(self, item_type: jax.Array, level: jax.Array) -> jax.Array:
        """int32 [G]: quantity each alive member owns of `item_type` at level >= `level`."""
        return self._by_type(item_type, level, equipped=False)

    def equipped(self, item_type: jax.Array, level: jax.Array) -> jax.Array:
        """int32 [G]: items of `item_type` at level >= `level` each alive member has equipped;
        int32 [G, P] for a vector of P types (each inventory read once)."""
        return self._by_type(item_type, level, equipped=True)

    def _by_type(self, item_type, level, equipped):
        item_type = jnp.asarray(item_type)
        inside = (item_type >= 0) & (item_type < it.N_TYPES)
        count = self.f.by_type_at(self.slot, item_type, level, equipped)
        alive = self.alive.reshape(self.alive.shape + (1,) * item_type.ndim)
        return jnp.where(alive & inside, count, 0)

    def kills(self, npc: jax.Array, level: jax.Array) -> jax.Array:
        """int32 [G]: each member's kills of NPCs (`npc` true) or players, victim level >= level."""
        per_level = self.f.kills_at(self.slot, npc)  # [G, KL]
        levels = jnp.arange(per_level.shape[-1])
        return jnp.where(self.valid, jnp.where(levels >= level, per_level, 0).sum(-1), 0)

    # --- views: what the members' observations show, from where they last stood alive
    @cached_property
    def _seen_from(self):
        """(row, col, has a view) [G]: each member's position at its last live step."""
        row = self.f.memory.last_row[self.slot]
        col = self.f.memory.last_col[self.slot]
        return row, col, self.valid & (row >= 0)

    def saw_material(self, material: jax.Array) -> jax.Array:
        """bool [G]: `material` is in the member's 15x15 window (SPEC 11 Tile)."""
        row, col, has_view = self._seen_from
        radius, size = self.cfg.player_vision_radius, self.cfg.vision_diameter

        tiles = jax.vmap(lambda r, c: self.f.material_window(r - radius, c - radius, size))(
            row, col
        )
        return has_view & (tiles == material).any(axis=(1, 2))

    def saw(self, targets: jax.Array) -> jax.Array:
        """bool [G]: a live player of `targets` (bool [N]) is within the member's vision radius
        (the reference's Entity rows, SPEC 11)."""
        row, col, has_view = self._seen_from
        players = self.f.column("row"), self.f.column("col")
        distance = jnp.maximum(
            jnp.abs(players[0][None, :] - row[:, None]), jnp.abs(players[1][None, :] - col[:, None])
        )
        near = distance <= self.cfg.player_vision_radius
        return has_view & (near & targets[None, :] & self.f.alive[None, :]).any(axis=1)

    @cached_property
    def target_size(self) -> jax.Array:
        """int32 []: the players of the target group."""
        return _count(self.target, jnp.ones_like(self.target))

    @cached_property
    def target_alive(self) -> jax.Array:
        """int32 []: the players of the target group alive now."""
        return _count(self.target, self.player_alive)

    @property
    def player_alive(self) -> jax.Array:
        """bool [N]: every player alive now (the reference's `gs.alive_agents`)."""
        return self.f.alive


def _count(a: jax.Array, b: jax.Array) -> jax.Array:
    """int32 []: how many places two bool [N] masks share, as a dot product (exact: N < 2**24):
    vmapped over leaves it is one matrix-vector product, cheaper on XLA CPU than the
    and-reduction of a bool [leaves, N] array."""
    return jnp.dot(a.astype(jnp.float32), b.astype(jnp.float32)).astype(jnp.int32)


def _from_level(per_level: jax.Array, level: jax.Array) -> jax.Array:
    """Sum of `per_level` [..., L] (index = level - 1) over levels >= `level`."""
    levels = jnp.arange(1, per_level.shape[-1] + 1)
    return jnp.where(levels >= level, per_level, 0).sum(-1)
