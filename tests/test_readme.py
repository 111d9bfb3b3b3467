"""The README's example runs as written (on the small preset, fewer envs and steps)."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_jit_vmap_example_runs():
    (example,) = [b for b in python_blocks() if "jax.jit(jax.vmap(env.step))" in b]
    # 3 environments: the programs of tests/test_semantics.py (N_ENVS), one compilation for both
    assert example.count(", 64)") == 3, "the example changed: update this test's substitutions"
    small = (
        example.replace("nj.Config()", "nj.Config.small()")
        .replace(", 64)", ", 3)")
        .replace("range(100)", "range(3)")
    )
    scope = {}
    exec(compile(small, "README.md", "exec"), scope)  # noqa: S102
    assert scope["reward"].shape == (3, 8)
    assert scope["actions"].shape == (3, 8, len(scope["env"].action_heads))
    assert int(scope["obs"].tick[0]) == 3


def test_scenario_example_runs():
    (example,) = [
        b
        for b in python_blocks()
        if "scenario.build" in b and "ev." not in b and "sell_price" not in b
    ]
    scope = {}
    exec(compile(example, "README.md", "exec"), scope)  # noqa: S102
    cfg, state = scope["cfg"], scope["state"]
    assert cfg.player_n == 2
    assert int(state.entities.food[0]) == 0


def test_event_log_example_runs():
    (example,) = [b for b in python_blocks() if "ev.item_number" in b]
    scope = {}
    exec(compile(example, "README.md", "exec"), scope)  # noqa: S102
    ev, items = scope["ev"], scope["items"]
    # Gloves of level 1 held: the potion is of level 1 + 1 = 2 (SPEC 4.2); 30 XP stays level 1.
    assert int(ev.count("HARVEST_ITEM")[0]) == 1
    assert int(ev.item_number("HARVEST_ITEM", items.POTION, 2)[0]) == 1
    assert int(ev.item_number("HARVEST_ITEM", items.POTION, 3)[0]) == 0
    rows = scope["obs"].inventory[0]
    assert [int(t) for t in rows[:2, 1]] == [items.GLOVES, items.POTION]


def test_market_example_runs():
    (example,) = [b for b in python_blocks() if "sell_price" in b]
    scope = {}
    exec(compile(example, "README.md", "exec"), scope)  # noqa: S102
    state, obs, items = scope["state"], scope["obs"], scope["items"]
    # SPEC 8: price = index + 1 = 10; the buyer had 20, the seller 1 (EXCHANGE_BASE_GOLD).
    assert [int(g) for g in state.entities.gold[:2]] == [11, 10]
    assert int(obs.inventory[1, 0, 1]) == items.ARROW and int(obs.inventory[1, 0, 5]) == 5
    assert int(obs.inventory[0, 0, 1]) == 0  # the seller has nothing left


def test_scripted_agents_example_runs():
    (example,) = [b for b in python_blocks() if "from agents import scripted" in b]
    small = example.replace("split(run_key, 128)", "split(run_key, 3)").replace("), 4))", "), 2))")
    assert small.count("), 2))") == 1 and "run_key, 3" in small, "update this test's substitutions"
    scope = {}
    exec(compile(small, "README.md", "exec"), scope)  # noqa: S102
    assert scope["rewards"].shape == (2, 3, 8)


def test_tasks_examples_run():
    (example,) = [b for b in python_blocks() if "env.set_tasks" in b]
    small = example.replace("nj.Config()", "nj.Config.small()").replace(
        "specs * 25 + specs[:3]", "specs + specs[:3]"
    )
    assert "specs + specs[:3]" in small, "the example changed: update this test's substitutions"
    scope = {}
    exec(compile(small, "README.md", "exec"), scope)  # noqa: S102
    state = scope["state"]
    # player i has the i-th spec: player 5 (row 4) HoardGold of players 1 and 2, 1 + 1 gold of 10
    assert [int(a) for a in state.tasks.table.args[:, -1, 0]][4] == 10
    assert scope["info"]["task"]["progress"].shape == (8,)

    (custom,) = [b for b in python_blocks() if "def RichMember" in b]
    custom = "import nmmo_jax as nj\nfrom nmmo_jax.task import P, TaskSpec\n" + custom.replace(
        "nj.Config()", "nj.Config.small()"
    )
    scope = {}
    exec(compile(custom, "README.md", "exec"), scope)  # noqa: S102
    env = scope["env"]
    import jax

    obs, state = env.reset(jax.random.key(1))
    state = state.replace(entities=state.entities.replace(gold=state.entities.gold.at[0].set(20)))
    _, _, _, _, _, info = env.step(jax.random.key(2), state, env.noop_actions)
    progress = [float(p) for p in info["task"]["progress"]]
    assert progress[0] == 1.0 and progress[1:] == [0.0] * 7  # only player 1 holds 20 gold
