"""Write the reference task trajectory (REFERENCE nmmo 2.1.2): the built-in predicates, their
combinations and the task classes evaluated along the combat recording.

    .reference/venv/bin/python tests/data/make_reference_tasks_trajectory.py   # from the repo root

The world and the policy are those of make_reference_combat_trajectory.py, imported from it (its
config, its item loadouts given right after reset, its policy with the same seeds), for the
first STEPS steps; the only difference is that every agent gets its own task through
`env.reset(seed=SEED, make_task_fn=...)` (the default game with these tasks: the same world,
spawns and RNG draws as without them; the loadouts are given after this reset exactly as in the
combat script). Tasks do not act on the world, so the trajectory is the combat one (asserted
against reference_combat_trajectory.npz when it is there: actions, deaths, the initial world).

The tasks: a first pass of the same trajectory without tasks tells the spawns, who logs which
events, who holds which items at the start and how long every agent lives. Agent a gets one of
TEMPLATES instantiated for a, with "near" agents n1, n2, ... = the other agents nearest to a's
spawn (Chebyshev distance, ties by id), a's spawn tile (r, c) and, for predicates of rare events
and items, subjects made of agents that log those events or hold those items (`Actors`);
those templates go to the longest-lived agents (`task_list`). Every template is a JSON-able dict
  {"cls": "Task" | "OngoingTask" | "HoldDurationTask", "hold": hold_duration,
   "multiplier": reward_multiplier, "expr": node}
  node = a number
       | {"pred": built-in name, "subject": null (the agent itself) or [ids], "kwargs": {...}}
       | {"op": "AND" | "OR" | "NOT" | "ADD" | "SUB" | "MUL", "args": [node, ...]}
kwargs name skills, items and materials by class name ("Melee", "Arrow", "Water"); a combination
is built with the Python operators (`a & b`, `~a`, `0.9 - p` ...), so a number on the left keeps
the reference's operator semantics. The reference side builds `make_predicate(<base_predicates
function>)(Group(ids), **kwargs)` (a subject of null = Group(a)) and `<cls>(predicate, [a],
reward_multiplier=..., [hold_duration=...])`. Every predicate instance and Group is fresh:
no Group object is shared between operands or tasks, so SPEC 14.1's cache quirk (a Group bound
twice in a step clears `gs.alive_agents`) never fires and the recorded values are the ones
predicates give as pure functions of the state.

Writes reference_tasks_trajectory.npz next to this file (T = STEPS, N = 128, agent a at index
a - 1; "after step t" = index t - 1):
  seed, item_seed, action_seed, steps, horizon  int64 scalars
  tiles, row0, col0, inv0, next_item_id0, item_free0, item_max_id0   the initial world, as in the
                                         combat recording
  actions          int16 [T, N, 6]       as in the combat recording
  tasks            str   []              json: the instantiated task dict of every agent (list)
  task_names       str   []              json: the reference's task names (list)
  template         int16 [N]             the template index of each agent's task
  alive            bool  [T, N]          alive after the step
  obs_present      bool  [T, N]          agent current in the step (alive before it): its info
                                         holds its task
  progress         float64 [T, N]        infos[a]["task"][name]["progress"] (0 if absent)
  task_reward      float64 [T, N]        infos[a]["task"][name]["reward"] (0 if absent)
  completed        bool  [T, N]          infos[a]["task"][name]["completed"]
  rewards          float64 [T, N]        the reward returned by the step (-1 in the step of
                                         death; 0 if absent)
A summary per template (highest progress, completions) is printed.
"""

import json
import operator
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference_combat_trajectory as combat  # noqa: E402

OUT = combat.OUT
STEPS = 120
NEAR = 7  # the near agents a template may name (groups of up to 8 = task_group_size)


def pred(name, subject=None, **kwargs):
    return {"pred": name, "subject": subject, "kwargs": kwargs}


def op(name, *args):
    return {"op": name, "args": list(args)}


def task(expr, cls="Task", hold=0, multiplier=1.0):
    return {"cls": cls, "hold": hold, "multiplier": multiplier, "expr": expr}


ITEM_EVENTS = {"ConsumeItem": "CONSUME_ITEM", "HarvestItem": "HARVEST_ITEM"}
ITEM_EVENTS.update({"FireAmmo": "FIRE_AMMO", "ListItem": "LIST_ITEM", "BuyItem": "BUY_ITEM"})


def item_tasks(name, items):
    """One template per (item, quantity); subject: agents with that item event (Actors)."""
    return [
        lambda a, n, s, x, i=i, q=q: task(
            pred(name, x.did(a, ITEM_EVENTS[name], item=i), item=i, level=1, quantity=q)
        )
        for i, q in items
    ]


class Actors:
    """Who does what in the trajectory (a first pass without tasks) and who holds what at the
    start: subjects for the predicates of rare events and items. A group is the agent a and up
    to 7 of the actors (a rotation that depends on a)."""

    def __init__(self, events, inv0):
        self.events = np.asarray(events)  # the EventState rows: recorded, ent_id, tick, event,
        self.inv0 = inv0  # type, level, number, gold, target_ent

    @staticmethod
    def group(a, ids):
        ids = sorted({int(i) for i in ids} - {a})
        if ids:
            k = a % len(ids)
            ids = (ids[k:] + ids[:k])[:7]
        return sorted([a, *ids])

    def did(self, a, event, item=None, skill=None):
        """The agents that logged `event` (of an item type or a skill, by class name)."""
        from nmmo.lib.event_code import EventCode
        from nmmo.systems import item as nitem
        from nmmo.systems import skill as nskill

        rows = self.events[self.events[:, 3] == getattr(EventCode, event)]
        if item is not None:
            rows = rows[rows[:, 4] == getattr(nitem, item).ITEM_TYPE_ID]
        if skill is not None:
            rows = rows[rows[:, 4] == getattr(nskill, skill).SKILL_ID]
        return self.group(a, rows[rows[:, 1] > 0, 1])

    def holding(self, a, *items, level=1):
        """The agents given every one of `items` (class names) at >= level at the start."""
        from nmmo.systems import item as nitem

        inv = self.inv0.astype(np.int64)
        has = np.ones(len(inv), bool)
        for name in items:
            kind = getattr(nitem, name).ITEM_TYPE_ID
            has &= ((inv[..., 1] == kind) & (inv[..., 3] >= level)).any(axis=1)
        return self.group(a, np.flatnonzero(has) + 1)


# (agent a, near agents n[0..NEAR-1], spawn (r, c), Actors) -> task dict
ARMOUR = ("Hat", "Top", "Bottom")
TEMPLATES = [
    lambda a, n, s, x: task(pred("TickGE", num_tick=50)),
    lambda a, n, s, x: task(pred("TickGE", [a, n[0]])),  # num_tick None: the horizon
    lambda a, n, s, x: task(pred("StayAlive")),
    lambda a, n, s, x: task(pred("StayAlive", [a, n[0], n[1]])),
    lambda a, n, s, x: task(pred("AllDead", [n[0], n[1], n[2]])),
    lambda a, n, s, x: task(pred("CheckAgentStatus", target=[n[0], n[1], n[2]], status="dead")),
    lambda a, n, s, x: task(
        pred("CheckAgentStatus", [a, n[0]], target=[n[0], n[3]], status="alive")
    ),
    lambda a, n, s, x: task(pred("OccupyTile", row=s[0], col=s[1])),
    lambda a, n, s, x: task(pred("OccupyTile", [a, n[0]], row=s[0] + 1, col=s[1])),
    lambda a, n, s, x: task(pred("DistanceTraveled", dist=10)),
    lambda a, n, s, x: task(pred("DistanceTraveled", [a, n[0], n[1]], dist=40)),
    lambda a, n, s, x: task(
        pred(
            "AttainSkill", x.did(a, "LEVEL_UP", skill="Melee"), skill="Melee", level=2, num_agent=1
        )
    ),
    lambda a, n, s, x: task(
        pred(
            "AttainSkill", x.did(a, "LEVEL_UP", skill="Range"), skill="Range", level=2, num_agent=2
        )
    ),
    lambda a, n, s, x: task(pred("AttainSkill", skill="Mage", level=1, num_agent=1)),
    lambda a, n, s, x: task(
        pred(
            "AttainSkill",
            x.did(a, "LEVEL_UP", skill="Herbalism"),
            skill="Herbalism",
            level=2,
            num_agent=1,
        )
    ),
    lambda a, n, s, x: task(pred("GainExperience", skill="Melee", experience=30, num_agent=1)),
    lambda a, n, s, x: task(
        pred("GainExperience", [a, n[0], n[1]], skill="Mage", experience=40, num_agent=2)
    ),
    lambda a, n, s, x: task(pred("GainExperience", skill="Range", experience=20, num_agent=1)),
    lambda a, n, s, x: task(pred("CountEvent", event="EAT_FOOD", N=3)),
    lambda a, n, s, x: task(pred("CountEvent", event="DRINK_WATER", N=5)),
    lambda a, n, s, x: task(pred("CountEvent", event="GO_FARTHEST", N=8)),
    lambda a, n, s, x: task(pred("CountEvent", [a, n[0]], event="SCORE_HIT", N=6)),
    lambda a, n, s, x: task(pred("CountEvent", event="EQUIP_ITEM", N=3)),
    lambda a, n, s, x: task(pred("CountEvent", event="FIRE_AMMO", N=2)),
    lambda a, n, s, x: task(pred("CountEvent", [a, n[0], n[1]], event="PLAYER_KILL", N=1)),
    lambda a, n, s, x: task(pred("CountEvent", [a, n[0]], event="LOOT_GOLD", N=1)),
    lambda a, n, s, x: task(pred("CountEvent", x.did(a, "LEVEL_UP"), event="LEVEL_UP", N=2)),
    lambda a, n, s, x: task(pred("CountEvent", [a, n[0]], event="HARVEST_ITEM", N=2)),
    lambda a, n, s, x: task(
        pred("CountEvent", x.did(a, "CONSUME_ITEM"), event="CONSUME_ITEM", N=3)
    ),
    lambda a, n, s, x: task(pred("CountEvent", [a, n[0], n[1]], event="DESTROY_ITEM", N=1)),
    lambda a, n, s, x: task(pred("CountEvent", [a, n[0], n[1]], event="LOOT_ITEM", N=1)),
    lambda a, n, s, x: task(pred("ScoreHit", combat_style="Melee", N=3)),
    lambda a, n, s, x: task(pred("ScoreHit", [a, n[0]], combat_style="Range", N=2)),
    lambda a, n, s, x: task(pred("ScoreHit", [a, *n[:3]], combat_style="Mage", N=5)),
    lambda a, n, s, x: task(
        pred("DefeatEntity", x.did(a, "PLAYER_KILL"), agent_type="player", level=0, num_agent=3)
    ),
    lambda a, n, s, x: task(
        pred("DefeatEntity", [a, n[0], n[1]], agent_type="player", level=1, num_agent=2)
    ),
    lambda a, n, s, x: task(pred("DefeatEntity", agent_type="npc", level=0, num_agent=1)),
    lambda a, n, s, x: task(pred("HoardGold", amount=5)),
    lambda a, n, s, x: task(pred("HoardGold", [a, n[0]], amount=3)),
    lambda a, n, s, x: task(pred("EarnGold", amount=2)),
    lambda a, n, s, x: task(pred("SpendGold", amount=5)),
    lambda a, n, s, x: task(pred("MakeProfit", [a, n[0]], amount=2)),
    lambda a, n, s, x: task(pred("InventorySpaceGE", space=8)),
    lambda a, n, s, x: task(pred("InventorySpaceGE", [a, n[0]], space=9)),
    lambda a, n, s, x: task(pred("OwnItem", [a, *n[:3]], item="Whetstone", level=1, quantity=5)),
    lambda a, n, s, x: task(pred("OwnItem", [a, *n], item="Arrow", level=1, quantity=4)),
    lambda a, n, s, x: task(
        pred("OwnItem", x.holding(a, "Spear"), item="Spear", level=1, quantity=3)
    ),
    lambda a, n, s, x: task(
        pred("OwnItem", x.holding(a, "Ration"), item="Ration", level=1, quantity=2)
    ),
    lambda a, n, s, x: task(pred("EquipItem", item="Hat", level=1, num_agent=1)),
    lambda a, n, s, x: task(pred("EquipItem", [a, n[0], n[1]], item="Spear", level=1, num_agent=2)),
    lambda a, n, s, x: task(
        pred("EquipItem", x.holding(a, "Bow", level=2), item="Bow", level=2, num_agent=1)
    ),
    lambda a, n, s, x: task(pred("EquipItem", item="Top", level=1, num_agent=0)),  # 1 always
    lambda a, n, s, x: task(
        pred(
            "FullyArmed",
            x.holding(a, *ARMOUR, "Spear", "Whetstone"),
            combat_style="Melee",
            level=1,
            num_agent=1,
        )
    ),
    lambda a, n, s, x: task(
        pred(
            "FullyArmed",
            x.holding(a, *ARMOUR, "Bow", "Arrow"),
            combat_style="Range",
            level=1,
            num_agent=1,
        )
    ),
    lambda a, n, s, x: task(
        pred(
            "FullyArmed",
            x.holding(a, *ARMOUR, "Wand", "Runes"),
            combat_style="Mage",
            level=1,
            num_agent=2,
        )
    ),
    *item_tasks("ConsumeItem", [("Ration", 1), ("Potion", 1)]),
    *item_tasks("HarvestItem", [("Ration", 2), ("Whetstone", 1), ("Arrow", 2), ("Runes", 1)]),
    *item_tasks("FireAmmo", [("Arrow", 5), ("Whetstone", 5), ("Runes", 3)]),
    *item_tasks("ListItem", [("Spear", 1)]),
    *item_tasks("BuyItem", [("Ration", 1)]),
    lambda a, n, s, x: task(pred("CanSeeTile", tile_type="Water")),
    lambda a, n, s, x: task(
        pred("CanSeeTile", x.did(a, "HARVEST_ITEM", item="Arrow"), tile_type="Tree")
    ),
    lambda a, n, s, x: task(
        pred("CanSeeTile", x.did(a, "HARVEST_ITEM", item="Whetstone"), tile_type="Ore")
    ),
    lambda a, n, s, x: task(pred("CanSeeTile", tile_type="Fish")),
    lambda a, n, s, x: task(pred("CanSeeAgent", target=n[0])),
    lambda a, n, s, x: task(pred("CanSeeAgent", [a, n[1]], target=n[4])),
    lambda a, n, s, x: task(pred("CanSeeGroup", target=[n[2], n[3], n[4]])),
    lambda a, n, s, x: task(pred("CanSeeGroup", [a, n[0]], target=[n[5]])),
    lambda a, n, s, x: task(pred("ProgressTowardCenter")),
    lambda a, n, s, x: task(pred("AllMembersWithinRange", [a, n[0], n[1]], dist=5)),
    lambda a, n, s, x: task(pred("AllMembersWithinRange", [a, n[0]], dist=2)),
    lambda a, n, s, x: task(pred("SeizeTile", row=s[0] + 3, col=s[1] - 2, num_ticks=10)),
    lambda a, n, s, x: task(pred("SeizeTile", [a, n[0]], row=80, col=80, num_ticks=10)),
    lambda a, n, s, x: task(pred("SeizeCenter", num_ticks=10)),
    lambda a, n, s, x: task(pred("SeizeQuadCenter", num_ticks=10, quadrant="first")),
    lambda a, n, s, x: task(pred("SeizeQuadCenter", num_ticks=10, quadrant="third")),
    lambda a, n, s, x: task(
        pred("ProtectLeader", target_protect=n[0], target_destroy=[n[1], n[2]])
    ),
    # combinations
    lambda a, n, s, x: task(op("AND", pred("StayAlive"), pred("TickGE", num_tick=30))),
    lambda a, n, s, x: task(
        op(
            "OR",
            pred("ScoreHit", combat_style="Melee", N=2),
            pred("CountEvent", event="FIRE_AMMO", N=2),
        )
    ),
    lambda a, n, s, x: task(op("NOT", pred("AllDead", [n[0], n[1]]))),
    lambda a, n, s, x: task(
        op("ADD", pred("DistanceTraveled", dist=20), pred("HoardGold", amount=10))
    ),
    lambda a, n, s, x: task(
        op("SUB", pred("TickGE", num_tick=60), pred("CountEvent", event="SCORE_HIT", N=3))
    ),
    lambda a, n, s, x: task(
        op("MUL", pred("GainExperience", skill="Melee", experience=50, num_agent=1), 2.0)
    ),
    lambda a, n, s, x: task(op("SUB", 0.9, pred("TickGE", num_tick=20))),  # = TickGE - 0.9
    lambda a, n, s, x: task(op("ADD", op("MUL", 0.5, pred("CanSeeAgent", target=n[0])), 0.25)),
    lambda a, n, s, x: task(
        op(
            "AND",
            pred("AttainSkill", x.did(a, "LEVEL_UP"), skill="Range", level=2, num_agent=1),
            pred("CheckAgentStatus", target=[n[0]], status="alive"),
        )
    ),
    lambda a, n, s, x: task(
        op("OR", op("NOT", pred("StayAlive")), pred("EquipItem", item="Hat", level=1, num_agent=1))
    ),
    lambda a, n, s, x: task(op("ADD", pred("TickGE", num_tick=40), 0.3)),
    lambda a, n, s, x: task(
        op("MUL", pred("StayAlive", [a, n[0]]), pred("DistanceTraveled", [a, n[0]], dist=30))
    ),
    # task classes and multipliers
    lambda a, n, s, x: task(pred("TickGE", num_tick=80), cls="OngoingTask", multiplier=0.5),
    lambda a, n, s, x: task(pred("StayAlive", [a, n[0]]), cls="OngoingTask"),
    lambda a, n, s, x: task(pred("StayAlive"), cls="HoldDurationTask", hold=10),
    lambda a, n, s, x: task(
        pred("OccupyTile", row=s[0], col=s[1]), cls="HoldDurationTask", hold=3, multiplier=2.0
    ),
    lambda a, n, s, x: task(pred("CanSeeTile", tile_type="Water"), cls="HoldDurationTask", hold=5),
    lambda a, n, s, x: task(pred("CountEvent", event="SCORE_HIT", N=5), multiplier=2.0),
    lambda a, n, s, x: task(
        op("AND", pred("StayAlive"), pred("CanSeeAgent", target=n[0])),
        cls="HoldDurationTask",
        hold=4,
    ),
]


def near_agents(row0, col0):
    """[N, NEAR]: for each agent, the other agents nearest to its spawn (Chebyshev, ties by id)."""
    d = np.maximum(
        np.abs(row0[:, None].astype(np.int64) - row0[None, :]),
        np.abs(col0[:, None].astype(np.int64) - col0[None, :]),
    )
    np.fill_diagonal(d, 1 << 30)
    return np.argsort(d, axis=1, kind="stable")[:, :NEAR] + 1


def task_list(row0, col0, actors, lifetime):
    """The instantiated task dict of every agent (see the docstring) and its template index.
    The templates whose subjects are actors (rare events) go to the agents that live longest
    in the first pass (a task is evaluated only while its assignee is alive), then the others;
    the shortest-lived agents get a second copy of the first templates."""
    near = near_agents(row0, col0)
    with_actors = [
        k for k, f in enumerate(TEMPLATES) if {"did", "holding"} & set(f.__code__.co_names)
    ]
    order = with_actors + [k for k in range(len(TEMPLATES)) if k not in with_actors]
    order = (order * 2)[: len(row0)]
    agents = np.argsort(-lifetime, kind="stable") + 1  # the longest-lived first, ties by id
    template = np.zeros(len(row0), np.int16)
    template[agents - 1] = order
    tasks = []
    for a in range(1, len(row0) + 1):
        n = [int(i) for i in near[a - 1]]
        spawn = (int(row0[a - 1]), int(col0[a - 1]))
        tasks.append(TEMPLATES[template[a - 1]](a, n, spawn, actors))
    return tasks, template


OPERATORS = {"AND": operator.and_, "OR": operator.or_, "ADD": operator.add}
OPERATORS.update({"SUB": operator.sub, "MUL": operator.mul})


def build_reference_task(spec, a):
    """The reference Task of one task dict for agent a."""
    from nmmo.lib import material
    from nmmo.systems import item as nitem
    from nmmo.systems import skill as nskill
    from nmmo.task import base_predicates as bp
    from nmmo.task import task_api
    from nmmo.task.group import Group
    from nmmo.task.predicate_api import make_predicate

    classes = {"skill": nskill, "combat_style": nskill, "item": nitem, "tile_type": material}

    def build(node):
        if isinstance(node, (int, float)):
            return float(node)
        if "op" in node:
            args = [build(x) for x in node["args"]]
            return ~args[0] if node["op"] == "NOT" else OPERATORS[node["op"]](*args)
        kwargs = {
            k: getattr(classes[k], v) if k in classes else v for k, v in node["kwargs"].items()
        }
        subject = Group(node["subject"] or [a])  # a fresh Group for every predicate
        return make_predicate(getattr(bp, node["pred"]))(subject, **kwargs)

    cls = getattr(task_api, spec["cls"])
    extra = {"hold_duration": spec["hold"]} if spec["cls"] == "HoldDurationTask" else {}
    return cls(build(spec["expr"]), [a], reward_multiplier=spec["multiplier"], **extra)


def start(env, n, tasks=None):
    """env.reset(seed=SEED[, make_task_fn]) and the combat loadouts: (obs, reset infos, the
    initial world: tiles, spawns, inventories, the item allocator)."""
    from nmmo.lib.event_log import EventState
    from nmmo.systems.item import ItemState

    make_task_fn = None if tasks is None else (lambda: tasks)
    obs, infos = env.reset(seed=combat.SEED, make_task_fn=make_task_fn)
    realm = env.realm
    ds = realm.datastore
    assert len(realm.npcs.entities) == 0
    world = {
        "tiles": np.array(ds.table("Tile")._data[1 : 160 * 160 + 1, 2].reshape(160, 160), np.int8),
        "row0": np.array([realm.players[a].pos[0] for a in range(1, n + 1)], np.int16),
        "col0": np.array([realm.players[a].pos[1] for a in range(1, n + 1)], np.int16),
    }
    # the combat recording's loadouts, given right after the reset
    item_table = ds.table("Item")
    assert len(realm.items) == 0 and list(item_table._id_allocator.free) == list(range(1, 100))
    combat.give_initial_items(realm, n)
    assert len(EventState.Query.table(ds)) == 0
    world["inv0"] = np.zeros((n, 12, 16), np.int16)
    for a in range(1, n + 1):
        rows = ItemState.Query.owned_by(ds, a)
        world["inv0"][a - 1, : len(rows)] = rows
    world["item_free0"] = np.array(list(item_table._id_allocator.free), np.int64)
    world["item_max_id0"] = np.int64(item_table._id_allocator.max_id)
    world["next_item_id0"] = np.int64(world["item_free0"][0])
    return obs, infos, world


def play(env, obs, n, record=None):
    """STEPS steps of the combat policy (its seed and draws); calls record(t, rew, infos) after
    each step. Returns the recorded actions [T, N, 6]."""
    realm = env.realm
    rng = np.random.default_rng(combat.ACTION_SEED)
    actions = np.zeros((STEPS, n, 6), np.int16)
    actions[:] = (combat.STAY, combat.NO_STYLE, 0, combat.TARGET_NOOP, combat.NOOP, combat.NOOP)
    prev_target = {}
    for t in range(STEPS):
        u = rng.random((n, 16))  # every agent, dead or alive
        action_dict, _ = combat.choose_actions(obs, realm, u, t, prev_target, actions[t])
        obs, rew, _, _, infos = env.step(action_dict)
        assert realm.tick == t + 1
        if record is not None:
            record(t, rew, infos)
    return actions


def main():
    tmp = tempfile.TemporaryDirectory()
    os.chdir(tmp.name)  # nmmo reads PATH_CWD = os.getcwd() at import time
    import nmmo
    from nmmo.lib.event_log import EventState

    cfg = combat.combat_config(tmp.name)
    n = cfg.PLAYER_N
    env = nmmo.Env(cfg, seed=combat.SEED)
    # A first pass without tasks: the spawns and who does what, which the tasks refer to.
    obs, _, probe = start(env, n)
    lifetime = np.zeros(n, np.int64)

    def count_alive(t, rew, infos):
        lifetime[[a - 1 for a in env.realm.players]] += 1

    probe_actions = play(env, obs, n, count_alive)
    actors = Actors(EventState.Query.table(env.realm.datastore), probe["inv0"])
    specs, template = task_list(probe["row0"], probe["col0"], actors, lifetime)
    tasks = [build_reference_task(spec, a) for a, spec in enumerate(specs, 1)]
    names = [t.name for t in tasks]

    # The recorded pass: the same world and policy, with the tasks.
    obs, infos, world = start(env, n, tasks)
    realm = env.realm
    assert env.tasks is tasks and env.game is env.default_game
    assert all(infos[a]["task"] == names[a - 1] for a in range(1, n + 1))
    for key, value in probe.items():
        assert (world[key] == value).all(), key
    T = STEPS
    alive = np.zeros((T, n), bool)
    obs_present = np.zeros((T, n), bool)
    progress = np.zeros((T, n), np.float64)
    task_reward = np.zeros((T, n), np.float64)
    completed = np.zeros((T, n), bool)
    rewards = np.zeros((T, n), np.float64)

    def record(t, rew, infos):
        for a in range(1, n + 1):
            alive[t, a - 1] = a in realm.players
        for a, info in infos.items():
            obs_present[t, a - 1] = True
            assert list(info["task"]) == [names[a - 1]], (t, a)
            entry = info["task"][names[a - 1]]
            progress[t, a - 1] = entry["progress"]
            task_reward[t, a - 1] = entry["reward"]
            completed[t, a - 1] = entry["completed"]
        for a, r in rew.items():
            rewards[t, a - 1] = r

    actions = play(env, obs, n, record)
    assert (actions == probe_actions).all()

    # ---- sanity checks -------------------------------------------------------------------------
    was_alive = np.concatenate([np.ones((1, n), bool), alive[:-1]])
    assert (obs_present == was_alive).all()
    died = obs_present & ~alive
    assert (rewards[died] == -1).all()
    assert (rewards[alive] == task_reward[alive]).all()
    assert ((progress >= 0) & (progress <= 1)).all()
    combat_file = os.path.join(OUT, "reference_combat_trajectory.npz")
    if os.path.exists(combat_file):  # the trajectory is the combat recording's
        with np.load(combat_file) as c:
            for key, ours in (("actions", actions), ("alive", alive)):
                assert (c[key][:T] == ours).all(), key
            for key, value in world.items():
                assert (c[key] == value).all(), key
        print(f"same trajectory as {os.path.basename(combat_file)} for {T} steps")

    # ---- summary -------------------------------------------------------------------------------
    print(f"{len(TEMPLATES)} templates over {n} agents, {T} steps; deaths {int(died.sum())}")
    nonzero = 0
    for k in range(len(TEMPLATES)):
        agents = np.flatnonzero(template == k)
        best = progress[:, agents].max()
        done = int(completed[:, agents].any(axis=0).sum())
        nonzero += best > 0
        print(f"{k:3d} {names[agents[0]][:90]:90s} max {best:.3f} completed {done}/{len(agents)}")
    print(f"templates with nonzero progress {nonzero}/{len(TEMPLATES)}")

    path = os.path.join(OUT, "reference_tasks_trajectory.npz")
    np.savez_compressed(
        path,
        seed=np.int64(combat.SEED),
        item_seed=np.int64(combat.ITEM_SEED),
        action_seed=np.int64(combat.ACTION_SEED),
        steps=np.int64(T),
        horizon=np.int64(cfg.HORIZON),
        **world,
        actions=actions,
        tasks=np.array(json.dumps(specs)),
        task_names=np.array(json.dumps(names)),
        template=template,
        alive=alive,
        obs_present=obs_present,
        progress=progress,
        task_reward=task_reward,
        completed=completed,
        rewards=rewards,
    )
    os.chdir(OUT)
    tmp.cleanup()
    print(f"npz size {os.path.getsize(path) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
