"""Shared helpers of the task tests: one small world, event-log edits, a compiled evaluator.

The world is a 16x16 drawing inside the void border of `scenario.build` (vision 7, border 8):
map_center C = 16, map_border B = 8, map_size S = 32, so the centre tile (S//2, S//2) is
(16, 16) in state coordinates. Positions in these tests are state coordinates (what the
predicates' `row`/`col` arguments and the distances use); `player(row, col, ...)` converts
them for `scenario.build`. There are always PLAYERS = 6 player slots; a slot not given is a
dead placeholder (alive False, health 0).

Drawing: grass, with water on the drawing's cells (0, 0) and (0, 1), i.e. state (8, 8) and
(8, 9), and one tree at drawing cell (15, 15), state (23, 23).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from nmmo_jax import events as ev
from nmmo_jax import scenario
from nmmo_jax.task import REGISTRY, TaskSpec, engine
from nmmo_jax.task import spec as enc

PLAYERS = 6
BORDER = 8
DRAWING = "\n".join(
    ["~ ~ " + " ".join("." * 14)] + [" ".join("." * 16)] * 14 + [" ".join("." * 15) + " t"]
)
# the ids of the built-in predicates (registered first, ProtectLeader last), not of any a test
# registers
BUILTINS = tuple(range(list(REGISTRY).index("ProtectLeader") + 1))


def player(row: int, col: int, **columns) -> dict:
    """A `scenario.build` player entry standing on state tile (row, col)."""
    return dict(row=row - BORDER, col=col - BORDER, **columns)


def world(players: dict, tick: int = 0, team=None, **overrides):
    """(cfg, state): the module's world with `players` ({id: player(...)}) at `tick`; `team`
    sets the players' team ids (default: each player its own team)."""
    overrides.setdefault("task_nodes", 8)
    cfg, state = scenario.build(DRAWING, players=players, tick=tick, player_n=PLAYERS, **overrides)
    if team is None:
        team = range(PLAYERS)
    ent = state.entities
    state = state.replace(entities=ent.replace(team=ent.team.at[:PLAYERS].set(jnp.asarray(team))))
    return cfg, state


def set_entity(state, pid: int, **columns):
    """`state` with entity columns of player `pid` replaced (`alive`, `row`, `gold`, ...)."""
    ent = state.entities
    return state.replace(
        entities=ent.replace(**{k: getattr(ent, k).at[pid - 1].set(v) for k, v in columns.items()})
    )


# --- the event log (nmmo_jax.events): episode counts, item numbers, gold, kills, hits
def add_events(state, pid: int, **counts):
    """`counts` more events of each code name (EAT_FOOD=3) logged by player `pid`."""
    log = state.events
    episode = log.episode
    for name, count in counts.items():
        episode = episode.at[pid - 1, ev.EVENT_COLUMN[ev.EVENT_CODES[name]]].add(count)
    return state.replace(events=log.replace(episode=episode))


def add_item_event(state, pid: int, name: str, item_type: int, level: int, number: int):
    """One item event `name` (HARVEST_ITEM, ...) of player `pid` with its fields and count."""
    log = state.events
    key = int(ev.ITEM_KEY[name][item_type])
    items = log.items.at[pid - 1, key, level - 1].add(number)
    return add_events(state.replace(events=log.replace(items=items)), pid, **{name: 1})


def add_gold(state, pid: int, name: str, amount: int):
    """One gold event `name` (EARN_GOLD, LOOT_GOLD, BUY_ITEM) of `amount` by player `pid`."""
    log = state.events
    gold = log.gold.at[pid - 1, ev.GOLD_KEYS.index(name)].add(amount)
    return add_events(state.replace(events=log.replace(gold=gold)), pid, **{name: 1})


def add_kill(state, pid: int, npc: bool, level: int, count: int = 1):
    """`count` PLAYER_KILL events of player `pid`: victims NPCs (`npc`) or players at `level`."""
    log = state.events
    kills = log.kills.at[pid - 1, int(npc), level].add(count)
    return add_events(state.replace(events=log.replace(kills=kills)), pid, PLAYER_KILL=count)


def add_hits(state, pid: int, style: int, count: int):
    """`count` SCORE_HIT events of player `pid` with combat style 1 melee, 2 range, 3 mage."""
    log = state.events
    hits = log.hits.at[pid - 1, style - 1].add(count)
    return add_events(state.replace(events=log.replace(hits=hits)), pid, SCORE_HIT=count)


# --- tasks
def specs(*tasks):
    """TaskSpecs from expressions or specs (an expression becomes TaskSpec(expr))."""
    return [t if isinstance(t, TaskSpec) else TaskSpec(t) for t in tasks]


def table(cfg, tasks, team=None):
    """The bound TaskTable [player_n] (jnp): task i for player i + 1, Success for the players
    after the last task; `team` int [player_n] (default: each player its own team)."""
    rows = specs(*tasks)
    if len(rows) > cfg.player_n:
        raise ValueError(f"{len(rows)} tasks for {cfg.player_n} players")
    rows += specs(*[enc.P.Success()] * (cfg.player_n - len(rows)))
    encoded = jax.tree.map(jnp.asarray, enc.encode(rows, cfg))
    if team is None:
        team = jnp.arange(cfg.player_n)
    return engine.bind(encoded, jnp.asarray(team, jnp.int32), cfg)


class Evaluator:
    """One compiled `engine.evaluate` for a Config and a set of predicate ids (`used`, default
    every built-in); tables are data, so every test of a module reuses the compiled program."""

    def __init__(self, cfg, used=BUILTINS):
        self.cfg = cfg
        self.used = tuple(used)
        self.views = engine.uses_views(self.used)
        self._evaluate = jax.jit(functools.partial(engine.evaluate, cfg=cfg, used=self.used))

    def start(self, state, tasks, team=None):
        """Fresh TaskState for `tasks` (expressions or TaskSpecs, task i for player i + 1)."""
        if team is None:
            team = state.entities.team[: self.cfg.player_n]
        return engine.new_state(table(self.cfg, tasks, team), self.cfg, self.views)

    def evaluate(self, state, tasks, active=None):
        """(tasks, reward np [N], info) after a step that left `state`; `active` (default:
        every player) as in engine.evaluate."""
        if active is None:
            active = jnp.ones(self.cfg.player_n, bool)
        tasks, reward, info = self._evaluate(state, tasks, jnp.asarray(active))
        return tasks, np.asarray(reward), jax.tree.map(np.asarray, info)

    def values(self, state, *tasks, memory=None):
        """np float [len(tasks)]: each expression's value for its player (task i for player
        i + 1) on `state`, evaluated once as a fresh Task (its progress is the value)."""
        return self.values_and_memory(state, *tasks, memory=memory)[0]

    def values_and_memory(self, state, *tasks, memory=None):
        """(values, memory after the evaluation); more tasks than players are evaluated in
        several calls from the same memory (views and the seize holder depend on the state
        only, so every call leaves the same memory)."""
        n = self.cfg.player_n
        out = []
        for start in range(0, len(tasks), n):
            fresh = self.start(state, tasks[start : start + n])
            if memory is not None:
                fresh = fresh.replace(memory=memory)
            after, _, info = self.evaluate(state, fresh)
            out.append(info["progress"][: len(tasks[start : start + n])])
        return np.concatenate(out), after.memory
