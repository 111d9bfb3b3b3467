"""The main job: `nmmo-jax rollout` and the Rollout it runs."""

import jax
import pytest

import nmmo_jax as nj
from nmmo_jax import cli
from nmmo_jax.rollout import Rollout

# The command and the Rollout test run the same program (3 envs, chunk 5, small, immortal), so
# the second compile is a hit of the persistent compilation cache.
COMMAND = "rollout --envs 3 --steps 5 --chunk 5 --preset small --immortal --quiet"


def test_rollout_command_prints_throughput_and_survival(capsys):
    code = cli.main(COMMAND.split())
    assert code == 0
    out = capsys.readouterr().out
    for line in ("agent-steps/s", "episodes finished", "deaths", "alive now"):
        assert line in out


def test_rollout_command_rejects_bad_arguments():
    with pytest.raises(SystemExit):
        cli.main(["rollout", "--envs", "0"])
    with pytest.raises(SystemExit):
        cli.main(["rollout", "--preset", "huge"])


def test_rollout_counts_agent_steps_as_the_reference():
    # IMMORTAL: every player is alive at the start of every step, so agent-steps are exactly
    # envs x steps x players, nobody dies, and no episode ends before the horizon (128).
    cfg = nj.Config.preset("small", immortal=True)
    rollout = Rollout(nj.Env(cfg), num_envs=3, chunk=5, mode="random")
    carry = rollout.init(jax.random.key(0))
    carry, stats = rollout.run(carry, jax.random.key(1))
    assert int(stats["agent_steps"]) == 3 * 5 * cfg.player_n
    assert int(stats["deaths"]) == 0 and int(stats["episodes"]) == 0
    # reward: 1/128 per agent-step
    assert float(stats["reward"]) == pytest.approx(3 * 5 * cfg.player_n / 128)


def test_rollout_rejects_bad_arguments():
    env = nj.Env(nj.Config.small())
    with pytest.raises(ValueError, match="mode"):
        Rollout(env, 2, 4, mode="walk")
    with pytest.raises(ValueError, match="num_envs"):
        Rollout(env, 0, 4)
