"""The task suites of tasks/ and their loader (issue 15): every suite loads, encodes under the
default shapes and round-trips; bad rows raise a ValueError naming the row and the field."""

import json

import numpy as np
import pytest

import nmmo_jax as nj
from nmmo_jax.task import P, TaskSpec, encode, suites


def test_every_suite_loads_and_encodes_under_the_default_config():
    cfg = nj.Config()
    names = suites.available()
    assert names == ["combat", "economy", "exploration", "foraging", "survival", "team"]
    total = heldout = 0
    for name in names:
        specs = suites.load(name)
        table = encode(specs, cfg)  # raises if a task does not fit the default shapes
        assert len(table) == len(specs) > 0
        assert len({s.name for s in specs}) == len(specs), f"{name}: duplicate tasks"
        held = suites.load(name, split="heldout")
        train = suites.load(name, split="train")
        assert len(held) + len(train) == len(specs) and held and train
        assert not {s.name for s in held} & {s.name for s in train}
        total += len(specs)
        heldout += len(held)
        if name == "team":
            assert {s.reward_to for s in specs} == {"team"}
    assert 900 <= total <= 1100  # "about a thousand tasks in all"
    assert 0.1 < heldout / total < 0.3  # about a fifth held out


def test_a_spec_round_trips_through_json(tmp_path):
    spec = TaskSpec(
        (P.HarvestItem(item="Ration", level=2, quantity=3) & ~P.AllDead(target="left_team"))
        | 0.5 * P.TickGE(num_tick=10),
        task_cls="HoldDurationTask",
        hold_duration=4,
        reward_to="team",
        reward_multiplier=2.0,
        tags=("x",),
    )
    path = tmp_path / "one.json"
    suites.save(path, "one", [suites.spec_to_json(spec, "heldout")])
    (back,) = suites.load(path)
    assert back.name == spec.name
    cfg = nj.Config.small(task_nodes=8)
    a, b = encode([spec], cfg), encode([back], cfg)
    for field in ("op", "pred", "args", "left", "right", "const", "target_kind", "embedding"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert suites.load(path, split="train") == []


@pytest.mark.parametrize(
    "row, message",
    [
        ({"expr": {"pred": "Harvest", "args": {}}}, "row 1: field 'pred': unknown predicate"),
        ({"expr": {"pred": "HoardGold", "args": {"amout": 3}}}, "row 1: field 'args'"),
        ({"expr": {"pred": "OwnItem", "args": {"item": "Sword", "level": 1, "quantity": 1}}},
         "row 1: field 'args'.*unknown item"),
        ({"expr": {"op": "XOR", "operands": []}}, "row 1: field 'op'"),
        ({"expr": {"op": "NOT", "operands": [1, 2]}}, "row 1: field 'operands'"),
        ({"expr": {"pred": "Success"}, "split": "test"}, "row 1: field 'split'"),
        ({"expr": {"pred": "Success"}, "task_cls": "Quest"}, "row 1: task_cls"),
        ({"expr": {"pred": "Success"}, "colour": 1}, "row 1: unknown fields"),
        ({"task_cls": "Task"}, "row 1: field 'expr' is missing"),
        ({"expr": 3}, "row 1: field 'expr' must be a predicate"),
    ],
)  # fmt: skip
def test_bad_rows_name_the_row_and_the_field(tmp_path, row, message):
    path = tmp_path / "bad.json"
    good = {"expr": {"pred": "Success"}}
    path.write_text(json.dumps({"name": "bad", "tasks": [good, row]}))
    with pytest.raises(ValueError, match=message):
        suites.load(path)


def test_unknown_suite_and_split():
    with pytest.raises(ValueError, match="unknown suite 'forage'"):
        suites.load("forage")
    with pytest.raises(ValueError, match="split"):
        suites.load("combat", split="test")
