"""Game modes (SPEC 14.7): a Config and a task curriculum for each of the reference's games.

Each function returns `(cfg, specs)` for `Env(cfg, tasks=specs)`:

    cfg, specs = nj.games.team_battle(nj.Config(), team_n=16)
    env = nj.Env(cfg, tasks=specs)

What a game changes in the reference at each reset (its `_set_config`, spawning, tasks and
update rule) is fixed here for a whole run: the config overrides and system toggles of the
minigames, team spawning (`cfg.team_n`), the seize target (`cfg.seize_center`), the leader
rule of ProtectTheKing (`cfg.team_leader_cull`). Not modelled (DEVIATIONS): the adaptive
difficulty between episodes (a larger map or a longer seize after wins: build a new Env with
the next setting), winner bookkeeping (it does not change rewards), RacetoCenter's resurrection
at the edge, and the Sandwich, CommTogether and RadioRaid minigames.
"""

from __future__ import annotations

from nmmo_jax.config import Config
from nmmo_jax.task.spec import P, TaskSpec

# the reference's systems (config.toggle_systems) and our switches for each
SYSTEM_FLAGS = {
    "COMBAT": ("combat_system_enabled",),
    "NPC": ("npc_system_enabled",),
    "PROGRESSION": ("progression_system_enabled",),
    "ITEM": ("item_system_enabled",),
    "EQUIPMENT": ("equipment_system_enabled",),
    "PROFESSION": ("profession_system_enabled",),
    "EXCHANGE": ("exchange_system_enabled",),
    "COMMUNICATION": ("communication_system_enabled",),
}


def toggle_systems(cfg: Config, required) -> Config:
    """The reference's `config.toggle_systems(required)`: every system not listed is turned
    off (TERRAIN and RESOURCE are always on here)."""
    off = {
        flag: False
        for system, flags in SYSTEM_FLAGS.items()
        if system not in required
        for flag in flags
    }
    return cfg.replace(**off)


def agent_training(cfg: Config, curriculum) -> tuple[Config, list]:
    """AgentTraining: every player draws its own task from the curriculum's agent specs."""
    specs = [s for s in curriculum if s.reward_to == "agent"]
    if not specs:
        raise ValueError("curriculum: AgentTraining needs at least one spec with reward_to='agent'")
    return cfg, specs


def team_training(cfg: Config, curriculum, team_n: int) -> tuple[Config, list]:
    """TeamTraining: teams spawn together; each team draws one of the curriculum's team specs."""
    specs = [s for s in curriculum if s.reward_to == "team"]
    if not specs:
        raise ValueError("curriculum: TeamTraining needs at least one spec with reward_to='team'")
    return cfg.replace(team_n=team_n), specs


def team_battle(cfg: Config, team_n: int = 16) -> tuple[Config, list]:
    """TeamBattle: each team's task is to survive to the horizon together (TickGE(HORIZON))."""
    return cfg.replace(team_n=team_n), [TaskSpec(P.TickGE(num_tick=cfg.horizon), reward_to="team")]


def protect_the_king(cfg: Config, team_n: int = 16) -> tuple[Config, list]:
    """ProtectTheKing: keep the team's leader alive (ProtectLeader); a team dies with it."""
    spec = TaskSpec(
        P.ProtectLeader(target_protect="my_team_leader", target_destroy="all_foe_leaders"),
        reward_to="team",
    )
    return cfg.replace(team_n=team_n, team_leader_cull=True), [spec]


def _minigame_terrain(cfg: Config, map_center: int) -> Config:
    """The minigames' map: a smaller centre regenerated from the fractal with little water and
    stone (TERRAIN_WATER 0.05, TERRAIN_FOILAGE 0.95), and no moving into occupied tiles."""
    return cfg.replace(
        map_center=map_center,
        allow_move_into_occupied_tile=False,
        terrain_water=0.05,
        terrain_foilage=0.95,
        terrain_scatter_extra_resources=True,
    )


def race_to_center(cfg: Config, map_center: int = 40) -> tuple[Config, list]:
    """RacetoCenter: only terrain and resources; every player's task is ProgressTowardCenter."""
    cfg = _minigame_terrain(toggle_systems(cfg, ("TERRAIN", "RESOURCE")), map_center)
    return cfg.replace(death_fog_onset=None), [TaskSpec(P.ProgressTowardCenter())]


def king_of_the_hill(
    cfg: Config, team_n: int = 16, seize_duration: int = 10, map_center: int = 40
) -> tuple[Config, list]:
    """KingoftheHill: teams race to seize the centre tile and hold it for `seize_duration`
    ticks (SeizeCenter), under a death fog from tick 32 (speed 1/16, final size 5)."""
    cfg = toggle_systems(cfg, ("TERRAIN", "COMBAT", "RESOURCE", "COMMUNICATION"))
    cfg = _minigame_terrain(cfg, map_center).replace(
        team_n=team_n,
        seize_center=True,
        death_fog_onset=32,
        death_fog_speed=1 / 16,
        death_fog_final_size=5,
    )
    return cfg, [TaskSpec(P.SeizeCenter(num_ticks=seize_duration), reward_to="team")]


GAMES = {
    "team_battle": team_battle,
    "protect_the_king": protect_the_king,
    "race_to_center": race_to_center,
    "king_of_the_hill": king_of_the_hill,
}
