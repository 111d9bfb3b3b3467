#!/usr/bin/env python
"""Writes the ready task suites of `tasks/` (run from the repo root: python tasks/make_suites.py).

Six suites built from the built-in predicates (SPEC 14.3) over grids of their arguments:
survival, foraging, combat, economy, exploration and team play, about a thousand tasks in all.
Every task belongs to a fixed split: "heldout" when the SHA-256 of its name is 0 mod 5 (about
a fifth), else "train", so a generalisation study trains on one and evaluates on the other,
and the split never changes with the order or number of tasks. Subjects are left out (the
assignee: the agent, or its team for team tasks), so each suite serves any number of players.
"""

from __future__ import annotations

import hashlib
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from nmmo_jax.task import P, TaskSpec  # noqa: E402
from nmmo_jax.task.suites import save, spec_to_json  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
CONSUMABLES = ("Ration", "Potion")
AMMUNITION = ("Whetstone", "Arrow", "Runes")
WEAPONS = ("Spear", "Bow", "Wand")
ARMOR = ("Hat", "Top", "Bottom")
TOOLS = ("Rod", "Gloves", "Pickaxe", "Axe", "Chisel")
GATHERING = ("fishing", "herbalism", "prospecting", "carving", "alchemy")
COMBAT = ("melee", "range", "mage")
STYLES = ("Melee", "Range", "Mage")


def task(expr, tags, **kwargs):
    return TaskSpec(expr, tags=tuple(tags), **kwargs)


def survival():
    out = []
    for ticks in (16, 32, 64, 128, 256, 512, 1024):
        out.append(task(P.TickGE(num_tick=ticks), ["survival", "tick"]))
    for hold in (8, 16, 32, 64, 128, 256, 512):
        out.append(
            task(
                P.StayAlive(), ["survival", "hold"], task_cls="HoldDurationTask", hold_duration=hold
            )
        )
    for event in ("EAT_FOOD", "DRINK_WATER"):
        for n in (1, 2, 3, 5, 8, 10, 15, 20, 30, 50):
            out.append(task(P.CountEvent(event=event, N=n), ["survival", "event"]))
            out.append(task(P.CountEvent(event=event, N=n) & P.StayAlive(), ["survival", "event"]))
    for item in CONSUMABLES:
        for level in (1, 2, 3):
            for quantity in (1, 2, 3, 5):
                out.append(
                    task(
                        P.ConsumeItem(item=item, level=level, quantity=quantity),
                        ["survival", "consume"],
                    )
                )
    for ticks in (64, 128, 256):
        for n in (5, 10):
            expr = P.TickGE(num_tick=ticks) & P.CountEvent(event="EAT_FOOD", N=n)
            out.append(task(expr, ["survival", "mixed"]))
    return out


def foraging():
    out = []
    for item in CONSUMABLES + AMMUNITION:
        for level in (1, 2, 3, 4, 5):
            for quantity in (1, 2, 3, 5, 10):
                out.append(
                    task(
                        P.HarvestItem(item=item, level=level, quantity=quantity),
                        ["foraging", "harvest"],
                    )
                )
    for skill in GATHERING:
        for level in (2, 3, 4, 5, 6, 7):
            out.append(
                task(P.AttainSkill(skill=skill, level=level, num_agent=1), ["foraging", "skill"])
            )
        for exp in (10, 30, 50, 100, 200, 400, 800):
            out.append(
                task(
                    P.GainExperience(skill=skill, experience=exp, num_agent=1),
                    ["foraging", "experience"],
                )
            )
    for item in CONSUMABLES + AMMUNITION:
        for level in (1, 3):
            for quantity in (1, 3, 5, 10):
                out.append(
                    task(P.OwnItem(item=item, level=level, quantity=quantity), ["foraging", "own"])
                )
    for tool in TOOLS:
        for level in (1, 2, 3):
            out.append(
                task(P.EquipItem(item=tool, level=level, num_agent=1), ["foraging", "equip"])
            )
    for material in ("Water", "Foilage", "Ore", "Tree", "Crystal", "Herb", "Fish"):
        out.append(task(P.CanSeeTile(tile_type=material), ["foraging", "see"]))
    for item in CONSUMABLES + AMMUNITION:
        for level in (1, 2, 3):
            for quantity in (1, 3, 5):
                expr = P.HarvestItem(item=item, level=level, quantity=quantity) & P.StayAlive()
                out.append(task(expr, ["foraging", "mixed"]))
    return out


def combat():
    out = []
    for style in STYLES:
        for n in (1, 2, 3, 5, 10, 20, 50):
            out.append(task(P.ScoreHit(combat_style=style, N=n), ["combat", "hit"]))
    for kind in ("npc", "player"):
        for level in (0, 1, 2, 3, 5, 7):
            for num in (1, 2, 3, 5):
                out.append(
                    task(
                        P.DefeatEntity(agent_type=kind, level=level, num_agent=num),
                        ["combat", "defeat"],
                    )
                )
    for skill in COMBAT:
        for level in (2, 3, 4, 5, 6, 8):
            out.append(
                task(P.AttainSkill(skill=skill, level=level, num_agent=1), ["combat", "skill"])
            )
        for exp in (20, 50, 100, 300):
            out.append(
                task(
                    P.GainExperience(skill=skill, experience=exp, num_agent=1),
                    ["combat", "experience"],
                )
            )
    for style in STYLES:
        for level in (1, 2, 3):
            out.append(
                task(
                    P.FullyArmed(combat_style=style, level=level, num_agent=1), ["combat", "armed"]
                )
            )
    for item in WEAPONS + ARMOR:
        for level in (1, 2, 3):
            out.append(task(P.EquipItem(item=item, level=level, num_agent=1), ["combat", "equip"]))
    for item in AMMUNITION:
        for level in (1, 2, 3):
            for quantity in (1, 5, 10):
                out.append(
                    task(P.FireAmmo(item=item, level=level, quantity=quantity), ["combat", "ammo"])
                )
    for n in (1, 3, 5):
        expr = P.DefeatEntity(agent_type="npc", level=1, num_agent=n) & P.StayAlive()
        out.append(task(expr, ["combat", "mixed"]))
    return out


def economy():
    out = []
    for amount in (2, 5, 10, 20, 30, 50, 75, 100, 150, 200):
        out.append(task(P.HoardGold(amount=amount), ["economy", "hoard"]))
        out.append(task(P.EarnGold(amount=amount), ["economy", "earn"]))
        out.append(task(P.SpendGold(amount=amount), ["economy", "spend"]))
        out.append(task(P.MakeProfit(amount=amount), ["economy", "profit"]))
    items = CONSUMABLES + AMMUNITION + WEAPONS + ARMOR + TOOLS
    for item in items:
        for level in (1, 3):
            for quantity in (1, 3):
                out.append(
                    task(P.ListItem(item=item, level=level, quantity=quantity), ["economy", "list"])
                )
                out.append(
                    task(P.BuyItem(item=item, level=level, quantity=quantity), ["economy", "buy"])
                )
    for space in range(1, 12):
        out.append(task(P.InventorySpaceGE(space=space), ["economy", "space"]))
    for n in (1, 3, 5, 10):
        out.append(task(P.CountEvent(event="GIVE_ITEM", N=n), ["economy", "give"]))
        out.append(task(P.CountEvent(event="GIVE_GOLD", N=n), ["economy", "give"]))
    return out


def exploration():
    out = []
    for dist in (2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128):
        out.append(task(P.DistanceTraveled(dist=dist), ["exploration", "distance"]))
        out.append(task(P.DistanceTraveled(dist=dist) & P.StayAlive(), ["exploration", "distance"]))
    for material in (
        "Water",
        "Grass",
        "Foilage",
        "Stone",
        "Ore",
        "Tree",
        "Crystal",
        "Herb",
        "Fish",
        "Scrub",
        "Slag",
        "Stump",
        "Fragment",
        "Weeds",
    ):
        out.append(task(P.CanSeeTile(tile_type=material), ["exploration", "see"]))
    out.append(task(P.ProgressTowardCenter(), ["exploration", "center"]))
    out.append(task(P.ProgressTowardCenter(), ["exploration", "center"], task_cls="OngoingTask"))
    for n in (1, 5, 10, 20, 40, 64):
        out.append(task(P.CountEvent(event="GO_FARTHEST", N=n), ["exploration", "farthest"]))
    for offset in range(-16, 17, 4):
        for col_offset in range(-16, 17, 4):
            out.append(
                task(P.OccupyTile(row=80 + offset, col=80 + col_offset), ["exploration", "occupy"])
            )
    for hold in (4, 16):
        for quadrant in ("first", "second", "third", "fourth"):
            out.append(
                task(P.SeizeQuadCenter(num_ticks=hold, quadrant=quadrant), ["exploration", "seize"])
            )
    return out


def team():
    out = []

    def team_task(expr, tags, **kwargs):
        return task(expr, ["team"] + tags, reward_to="team", **kwargs)

    for ticks in (64, 128, 256, 512, 1024):
        out.append(team_task(P.TickGE(num_tick=ticks), ["survival"]))
    for hold in (16, 64, 256):
        out.append(
            team_task(P.StayAlive(), ["survival"], task_cls="HoldDurationTask", hold_duration=hold)
        )
    for dist in (1, 2, 3, 5, 7, 10, 15):
        out.append(team_task(P.AllMembersWithinRange(dist=dist), ["cohesion"]))
        out.append(
            team_task(P.AllMembersWithinRange(dist=dist), ["cohesion"], task_cls="OngoingTask")
        )
    for target in ("left_team", "right_team", "all_foes"):
        out.append(team_task(P.AllDead(target=target), ["battle"]))
        out.append(team_task(P.CheckAgentStatus(target=target, status="dead"), ["battle"]))
        out.append(team_task(P.CanSeeGroup(target=target), ["scout"]))
    for target in ("left_team_leader", "right_team_leader", "all_foe_leaders"):
        out.append(team_task(P.CheckAgentStatus(target=target, status="dead"), ["battle"]))
        out.append(team_task(P.CanSeeAgent(target=target), ["scout"]))
    out.append(
        team_task(
            P.ProtectLeader(target_protect="my_team_leader", target_destroy="all_foe_leaders"),
            ["king"],
        )
    )
    for kind in ("npc", "player"):
        for num in (2, 4, 8, 16):
            out.append(
                team_task(P.DefeatEntity(agent_type=kind, level=1, num_agent=num), ["battle"])
            )
    for amount in (10, 50, 100, 200):
        out.append(team_task(P.HoardGold(amount=amount), ["economy"]))
        out.append(team_task(P.EarnGold(amount=amount), ["economy"]))
    for item in CONSUMABLES + AMMUNITION:
        for quantity in (5, 10, 20):
            out.append(
                team_task(P.HarvestItem(item=item, level=1, quantity=quantity), ["foraging"])
            )
    for skill in GATHERING + COMBAT:
        for num in (2, 4):
            out.append(team_task(P.AttainSkill(skill=skill, level=3, num_agent=num), ["skill"]))
    for hold in (5, 10, 20):
        out.append(team_task(P.SeizeCenter(num_ticks=hold), ["seize"]))
    for style in STYLES:
        out.append(team_task(P.FullyArmed(combat_style=style, level=1, num_agent=2), ["armed"]))
    return out


SUITES = {
    "survival": survival,
    "foraging": foraging,
    "combat": combat,
    "economy": economy,
    "exploration": exploration,
    "team": team,
}


def split_of(spec: TaskSpec) -> str:
    digest = hashlib.sha256(spec.name.encode()).digest()
    return "heldout" if int.from_bytes(digest[:8], "little") % 5 == 0 else "train"


def main() -> int:
    total = 0
    for name, build in SUITES.items():
        specs = build()
        names = [s.name for s in specs]
        assert len(set(names)) == len(names), f"{name}: duplicate tasks"
        rows = [spec_to_json(s, split_of(s)) for s in specs]
        save(HERE / f"{name}.json", name, rows)
        heldout = sum(r["split"] == "heldout" for r in rows)
        print(f"{name:12s} {len(rows):4d} tasks ({heldout} held out)")
        total += len(rows)
    print(f"{'all':12s} {total:4d} tasks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
