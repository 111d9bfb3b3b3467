"""Static game configuration: a frozen, hashable dataclass with the nmmo 2.1.2 Default values.

Field names are the reference's config keys in lower case (``PLAYER_N`` -> ``player_n``); SPEC 1.
Every field is validated in ``__post_init__``; a bad value raises ``ValueError`` naming the field.
"""

from __future__ import annotations

import dataclasses
import math

# The reference clips CurrentTick to MAX_HORIZON = 2**15 - 1 (SPEC 1.2).
MAX_HORIZON = 2**15 - 1


def _int_range(lo: int | None = None, hi: int | None = None) -> dict:
    return {"kind": "int", "lo": lo, "hi": hi}


def _float_range(lo: float | None = None, hi: float | None = None) -> dict:
    return {"kind": "float", "lo": lo, "hi": hi}


def _bool() -> dict:
    return {"kind": "bool"}


def _optional_int_range(lo: int | None = None, hi: int | None = None) -> dict:
    return {"kind": "optional_int", "lo": lo, "hi": hi}


def field(default, **check):
    return dataclasses.field(default=default, metadata=check)


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything that fixes shapes or rules. Hashable, so it can be a static jit argument.

    Defaults are ``nmmo.config.Default`` (the Medium preset with every game system), SPEC 1.
    """

    # --- population and episode (SPEC 1.1, 1.2)
    player_n: int = field(128, **_int_range(1, 4096))
    npc_n: int = field(128, **_int_range(0, 4096))
    horizon: int = field(1024, **_int_range(1, MAX_HORIZON - 1))
    player_vision_radius: int = field(7, **_int_range(1, 15))
    player_n_obs: int = field(100, **_int_range(1, 1024))
    player_base_health: int = field(100, **_int_range(1, 32767))
    player_health_increment: int = field(0, **_int_range(0, 1000))
    immortal: bool = field(False, **_bool())

    # --- map geometry (SPEC 1.1, 2.2); map_border = (map_size - map_center) // 2
    map_size: int = field(160, **_int_range(16, 2048))
    map_center: int = field(128, **_int_range(1, 2048))
    map_n: int = field(1, **_int_range(1, 4096))

    # --- terrain (SPEC 1.3, 2.3)
    terrain_flip_seed: bool = field(False, **_bool())
    terrain_frequency: float = field(-3.0, **_float_range(-16.0, 0.0))
    terrain_frequency_offset: float = field(7.0, **_float_range(-16.0, 16.0))
    terrain_log_interpolate_min: float = field(-2.0, **_float_range(-8.0, 8.0))
    terrain_log_interpolate_max: float = field(0.0, **_float_range(-8.0, 8.0))
    terrain_tiles_per_octave: int = field(8, **_int_range(1, 1024))
    terrain_water: float = field(0.30, **_float_range(0.0, 1.0))
    terrain_grass: float = field(0.70, **_float_range(0.0, 1.0))
    terrain_foilage: float = field(0.85, **_float_range(0.0, 1.0))
    terrain_reset_to_grass: bool = field(False, **_bool())
    terrain_disable_stone: bool = field(False, **_bool())
    terrain_scatter_extra_resources: bool = field(True, **_bool())

    # --- resource placement (SPEC 2.4)
    progression_spawn_clusters: int = field(64, **_int_range(0, 65536))
    progression_spawn_uniforms: int = field(256, **_int_range(0, 65536))
    profession_system_enabled: bool = field(True, **_bool())

    # --- survival (SPEC 1.3 Resource, 3.3)
    resource_base: int = field(100, **_int_range(1, 32767))
    resource_depletion_rate: int = field(5, **_int_range(0, 32767))
    resource_starvation_rate: int = field(10, **_int_range(0, 32767))
    resource_dehydration_rate: int = field(10, **_int_range(0, 32767))
    resource_resilient_population: float = field(0.0, **_float_range(0.0, 1.0))
    resource_damage_reduction: float = field(0.5, **_float_range(0.0, 1.0))
    resource_foilage_respawn: float = field(0.025, **_float_range(0.0, 1.0))
    resource_harvest_restore_fraction: float = field(1.0, **_float_range(0.0, 1.0))
    resource_health_regen_threshold: float = field(0.5, **_float_range(0.0, 1.0))
    resource_health_restore_fraction: float = field(0.1, **_float_range(0.0, 1.0))

    # --- regrowth of the profession tiles (SPEC 1.3 Profession, 2.1)
    profession_tree_respawn: float = field(0.105, **_float_range(0.0, 1.0))
    profession_ore_respawn: float = field(0.10, **_float_range(0.0, 1.0))
    profession_crystal_respawn: float = field(0.10, **_float_range(0.0, 1.0))
    profession_herb_respawn: float = field(0.02, **_float_range(0.0, 1.0))
    profession_fish_respawn: float = field(0.02, **_float_range(0.0, 1.0))

    # --- movement (SPEC 1.2, 13.2)
    allow_move_into_occupied_tile: bool = field(True, **_bool())

    # --- death fog (SPEC 1.2, 10); None switches it off (not traced at all)
    death_fog_onset: int | None = field(None, **_optional_int_range(0, MAX_HORIZON))
    death_fog_speed: float = field(1.0, **_float_range(0.0, 1024.0))
    death_fog_final_size: int = field(8, **_int_range(0, 2048))
    provide_death_fog_obs: bool = field(False, **_bool())

    # --- system switches of this far (SPEC 1.3); a switched-off system is not traced at all
    progression_system_enabled: bool = field(True, **_bool())
    item_system_enabled: bool = field(True, **_bool())
    equipment_system_enabled: bool = field(True, **_bool())

    # --- progression: XP and levels (SPEC 1.3 Progression, 4.1)
    progression_base_level: int = field(1, **_int_range(0, 99))
    progression_level_max: int = field(10, **_int_range(1, 99))
    progression_exp_threshold: tuple = dataclasses.field(
        default=(0, 90, 217, 373, 553, 754, 974, 1212, 1467, 1737), metadata={"kind": "thresholds"}
    )
    progression_combat_xp_scale: int = field(6, **_int_range(0, 32767))
    progression_ammunition_xp_scale: int = field(15, **_int_range(0, 32767))
    progression_consumable_xp_scale: int = field(30, **_int_range(0, 32767))

    # --- equipment stats by level (SPEC 1.3 Equipment, 7.1)
    weapon_drop_prob: float = field(0.025, **_float_range(0.0, 1.0))
    equipment_weapon_base_damage: int = field(5, **_int_range(0, 100))
    equipment_weapon_level_damage: int = field(5, **_int_range(0, 100))
    equipment_ammunition_base_damage: int = field(5, **_int_range(0, 100))
    equipment_ammunition_level_damage: int = field(10, **_int_range(0, 100))
    equipment_tool_base_defense: int = field(15, **_int_range(0, 100))
    equipment_tool_level_defense: int = field(0, **_int_range(0, 100))
    equipment_armor_base_defense: int = field(0, **_int_range(0, 100))
    equipment_armor_level_defense: int = field(3, **_int_range(0, 100))
    # PROFESSION_CONSUMABLE_RESTORE(level) = base + per_level * level (SPEC 1.3 Profession)
    profession_consumable_restore_base: int = field(50, **_int_range(0, 100))
    profession_consumable_restore_level: int = field(5, **_int_range(0, 100))

    # --- combat (SPEC 1.3 Combat, 5)
    combat_system_enabled: bool = field(True, **_bool())
    combat_spawn_immunity: int = field(20, **_int_range(0, 32767))
    combat_status_duration: int = field(3, **_int_range(0, 32767))
    combat_weakness_multiplier: float = field(1.5, **_float_range(0.0, 100.0))
    combat_minimum_damage_proportion: float = field(0.25, **_float_range(0.0, 1.0))
    combat_melee_damage: int = field(10, **_int_range(0, 1000))  # without progression only
    combat_range_damage: int = field(10, **_int_range(0, 1000))
    combat_mage_damage: int = field(10, **_int_range(0, 1000))
    combat_melee_reach: int = field(3, **_int_range(0, 64))
    combat_range_reach: int = field(3, **_int_range(0, 64))
    combat_mage_reach: int = field(3, **_int_range(0, 64))
    progression_melee_base_damage: int = field(10, **_int_range(0, 1000))
    progression_range_base_damage: int = field(10, **_int_range(0, 1000))
    progression_mage_base_damage: int = field(10, **_int_range(0, 1000))
    progression_melee_level_damage: int = field(5, **_int_range(0, 1000))
    progression_range_level_damage: int = field(5, **_int_range(0, 1000))
    progression_mage_level_damage: int = field(5, **_int_range(0, 1000))
    progression_base_defense: int = field(0, **_int_range(0, 1000))
    progression_level_defense: int = field(5, **_int_range(0, 1000))

    # --- NPCs (SPEC 1.3 NPC, 6)
    npc_system_enabled: bool = field(True, **_bool())
    npc_default_refill_dead_npcs: bool = field(True, **_bool())
    npc_spawn_attempts: int = field(25, **_int_range(0, 4096))
    # charging NPCs per tick whose step is the path rule's (systems/npc.py); the rest step greedily
    npc_path_batch: int = field(16, **_int_range(0, 4096))
    npc_spawn_aggressive: float = field(0.80, **_float_range(0.0, 1.0))
    npc_spawn_neutral: float = field(0.50, **_float_range(0.0, 1.0))
    npc_spawn_passive: float = field(0.0, **_float_range(0.0, 1.0))
    npc_level_min: int = field(1, **_int_range(0, 99))
    npc_level_max: int = field(10, **_int_range(0, 99))
    npc_base_defense: int = field(0, **_int_range(0, 1000))
    npc_level_defense: int = field(8, **_int_range(0, 1000))
    npc_base_damage: int = field(0, **_int_range(0, 1000))
    npc_level_damage: int = field(8, **_int_range(0, 1000))
    npc_level_multiplier: float = field(1.0, **_float_range(0.0, 100.0))

    # --- exchange: gold, the market, Give (SPEC 1.3 Exchange and Item, 8)
    exchange_system_enabled: bool = field(True, **_bool())
    exchange_base_gold: int = field(1, **_int_range(0, 32767))
    exchange_listing_duration: int = field(3, **_int_range(0, 32767))
    # the Buy bucket runs in a random order each tick (the reference shuffles it, SPEC 8); off:
    # in player id order, for replays against the reference where the order must not matter
    exchange_shuffle_buys: bool = field(True, **_bool())
    price_n_obs: int = field(99, **_int_range(1, 32767))
    item_allow_gift: bool = field(True, **_bool())

    # --- communication (SPEC 1.3 Communication, 9)
    communication_system_enabled: bool = field(True, **_bool())
    communication_n_obs: int = field(32, **_int_range(1, 4096))
    communication_num_tokens: int = field(127, **_int_range(1, 32766))

    # --- capacities kept in the state now so later systems fit without a rewrite
    item_inventory_capacity: int = field(12, **_int_range(0, 256))
    market_n_obs: int = field(384, **_int_range(0, 4096))
    event_capacity: int = field(1024, **_int_range(1, 1 << 20))

    # --- tasks (SPEC 14): the shape of an encoded task (nmmo_jax.task.encode)
    task_nodes: int = field(4, **_int_range(1, 64))  # predicates, numbers and combinators
    task_group_size: int = field(8, **_int_range(1, 4096))  # most members of a subject
    # the Task observation: the reference's TASK_EMBED_DIM is 4096 (8 KB per agent per step);
    # ours defaults to 64 (DEVIATIONS), set it to 4096 for the reference's width
    task_embed_dim: int = field(64, **_int_range(0, 8192))
    # KingoftheHill's seize target: the centre tile's holder is tracked (SPEC 14.3, 14.7)
    seize_center: bool = field(False, **_bool())

    # --- teams (SPEC 3.1, 14.5, 14.7; nmmo_jax.systems.teams): 0 = every player alone (the
    # reference's TEAMS None); else the reference's make_teams(PLAYER_N, team_n), each team
    # spawning together on its own edge tile
    team_n: int = field(0, **_int_range(0, 4096))
    team_leader_cull: bool = field(False, **_bool())  # ProtectTheKing: a team dies with its leader

    def __post_init__(self):
        for f in dataclasses.fields(self):
            _check_field(f, getattr(self, f.name))
        if (self.map_size - self.map_center) % 2:
            raise ValueError(
                f"map_size - map_center must be even (got map_size={self.map_size}, "
                f"map_center={self.map_center})"
            )
        if self.map_center >= self.map_size:
            raise ValueError(
                f"map_center must be in [1, map_size - 2] (got {self.map_center}, "
                f"map_size={self.map_size})"
            )
        if self.map_border <= self.player_vision_radius:
            raise ValueError(
                f"map_border = (map_size - map_center) // 2 must exceed player_vision_radius "
                f"(got map_border={self.map_border}, player_vision_radius="
                f"{self.player_vision_radius}); SPEC 1.4"
            )
        if self.player_n > 4 * self.map_center:
            raise ValueError(
                f"player_n must be in [1, 4 * map_center = {4 * self.map_center}] "
                f"(players spawn on the {4 * self.map_center} edge tiles; got {self.player_n})"
            )
        if self.team_n > self.player_n:
            raise ValueError(f"team_n must be in [0, player_n={self.player_n}] (got {self.team_n})")
        if self.team_n and not self.map_center > 4 * ((self.team_n + 3) // 4):
            raise ValueError(
                f"team_n={self.team_n} teams do not fit on the edge: map_center must exceed "
                f"4 * ceil(team_n / 4) (SPEC 3.1; got map_center={self.map_center})"
            )
        if self.team_leader_cull and not self.team_n:
            raise ValueError("team_leader_cull needs teams: set team_n > 0")
        thresholds = self.progression_exp_threshold
        if (
            not isinstance(thresholds, tuple)
            or len(thresholds) < self.progression_level_max
            or not all(isinstance(t, int) and not isinstance(t, bool) for t in thresholds)
            or any(b < a for a, b in zip(thresholds[:-1], thresholds[1:], strict=True))
            or thresholds[0] != 0
        ):
            raise ValueError(
                "progression_exp_threshold must be a non-decreasing tuple of ints starting at 0 "
                f"with at least progression_level_max={self.progression_level_max} entries "
                f"(got {thresholds!r})"
            )
        for system in ("equipment", "profession"):
            if getattr(self, f"{system}_system_enabled") and not self.item_system_enabled:
                raise ValueError(
                    f"{system}_system_enabled requires item_system_enabled (SPEC 1.4); "
                    f"set {system}_system_enabled=False too"
                )
        if self.exchange_system_enabled and not self.item_system_enabled:
            raise ValueError(
                "exchange_system_enabled requires item_system_enabled (SPEC 1.4); "
                "set exchange_system_enabled=False too"
            )
        if self.npc_level_max < self.npc_level_min:
            raise ValueError(
                f"npc_level_max must be >= npc_level_min (got {self.npc_level_max} < "
                f"{self.npc_level_min})"
            )
        if not self.terrain_water <= self.terrain_grass <= self.terrain_foilage:
            raise ValueError(
                "terrain_water <= terrain_grass <= terrain_foilage must hold "
                f"(got {self.terrain_water}, {self.terrain_grass}, {self.terrain_foilage})"
            )

    # --- derived sizes
    @property
    def map_border(self) -> int:
        return (self.map_size - self.map_center) // 2

    @property
    def vision_diameter(self) -> int:
        return 2 * self.player_vision_radius + 1

    @property
    def n_entities(self) -> int:
        """Rows of the entity table: players first (slot i = player id i + 1), then NPCs."""
        return self.player_n + self.npc_n

    @property
    def regen_threshold(self) -> int:
        """Food and water must both exceed this for health to regenerate (SPEC 3.3)."""
        return int(self.resource_health_regen_threshold * self.resource_base)

    @property
    def regen_amount(self) -> int:
        """Health regained per tick when fed and watered: floor(100 * 0.1) (SPEC 3.3)."""
        return math.floor(self.player_base_health * self.resource_health_restore_fraction)

    def consumable_restore(self, level):
        """PROFESSION_CONSUMABLE_RESTORE(level) (SPEC 1.3): what a Ration/Potion restores."""
        return (
            self.profession_consumable_restore_base
            + self.profession_consumable_restore_level * level
        )

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)

    # --- presets
    @classmethod
    def small(cls, **overrides) -> Config:
        """A tiny world for tests: the reference Small map (64, centre 32), 8 players."""
        base = dict(
            player_n=8,
            npc_n=8,
            npc_level_max=5,
            horizon=128,
            map_size=64,
            map_center=32,
            terrain_log_interpolate_min=0.0,
            progression_spawn_clusters=4,
            progression_spawn_uniforms=16,
        )
        base.update(overrides)
        return cls(**base)

    @classmethod
    def medium(cls, **overrides) -> Config:
        """The reference Medium preset, which is also its Default: 128 players on 160 x 160."""
        return cls(**overrides)

    @classmethod
    def large(cls, **overrides) -> Config:
        """The reference Large preset: 1024 players on 1056 x 1056."""
        base = dict(
            player_n=1024,
            npc_n=1024,
            npc_level_max=15,
            horizon=8192,
            map_size=1056,
            map_center=1024,
            progression_spawn_clusters=1024,
            progression_spawn_uniforms=4096,
        )
        base.update(overrides)
        return cls(**base)

    PRESETS = ("small", "medium", "large")

    @classmethod
    def preset(cls, name: str, **overrides) -> Config:
        if name not in cls.PRESETS:
            raise ValueError(f"preset must be one of {cls.PRESETS} (got {name!r})")
        return getattr(cls, name)(**overrides)


def _check_field(f: dataclasses.Field, value) -> None:
    meta = f.metadata
    kind = meta.get("kind")
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{f.name} must be a bool (got {value!r})")
        return
    if kind == "optional_int":
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"{f.name} must be None or an int in [{meta['lo']}, {meta['hi']}] (got {value!r})"
            )
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"{f.name} must be an int in [{meta['lo']}, {meta['hi']}] (got {value!r})"
            )
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ValueError(
                f"{f.name} must be a number in [{meta['lo']}, {meta['hi']}] (got {value!r})"
            )
    else:
        return
    lo, hi = meta["lo"], meta["hi"]
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{f.name} must be in [{lo}, {hi}] (got {value!r})")
