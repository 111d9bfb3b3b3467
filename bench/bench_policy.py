#!/usr/bin/env python
"""Cost of a small flax policy that reads every observation leaf, beside the environment's.

    python bench/bench_policy.py                                  # Default config, 4 and 16 envs
    python bench/bench_policy.py --envs 16 --modes policy         # one point
    python bench/bench_policy.py --preset small --envs 2 --steps 8 --repeats 1   # smoke test

The policy (`Policy`, flax.linen) embeds every leaf of `nmmo_jax.observe.Observation`: the
entity table once per env (a 2-layer MLP over the 31 columns, symlog-scaled), gathered into the
window (`obs.entities[obs.entity]`, both layers) and added to an embedding of the tile
materials, then a 3x3 stride-3 conv over the 15x15 window and a dense layer; the agent's own
row; the inventory rows (MLP, pooled over the occupied rows); the market rows (once per env,
pooled over the listed rows, broadcast to the agents); the comm rows (gathered from the entity
embeddings, pooled); the tick; the death fog when the config provides it. A 2-layer MLP torso
(`--hidden`) feeds one logits head per column of `env.action_heads` (13): the Use, Destroy,
Give and Sell item heads point at the inventory row embeddings, the Attack/Give/GiveGold target
heads at the entity embeddings (slot s = row s + 1), Buy at the market rows, each with a learned
no-op logit; Move, Style, the prices and Comm are dense. Every head is masked with its
`obs.action_mask` (`where(mask, logits, -1e9)`) and sampled by `jax.random.categorical` with a
key of its own. It returns the int32 [N, 13] actions, and, as an actor of a learner would, the
log-probability of the sampled actions and a value.

Modes, each measured in a fresh process pinned with `taskset` to one core (--cpu), like
bench/bench_env.py: `random` = env.step with `env.sample_actions` (the environment's cost),
`policy` = env.step with the policy's actions, both vmapped over envs in one `lax.scan`
(IMMORTAL, no auto-reset: the timed ticks stay within the horizon); `forward` = the policy
alone, scanned over a fixed batch of observations (taken after 8 random steps; a runtime
zero added to every leaf keeps XLA from hoisting the encoder out of the loop). Every observation
leaf, action, log-prob and value goes into a checksum. Every scan also counts the sampled
choices whose mask bit is not set (must be 0: checked on every step from the first, printed)
and the choices other than the head's no-op. Compile times are reported apart.
Results: bench/out/bench_policy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

from bench_env import _cpu_name  # bench/ is on the path when a script of it runs

HERE = pathlib.Path(__file__).resolve()
ROOT = HERE.parent.parent
MODES = ("random", "policy", "forward")

# heads whose choices are rows of an observation table (plus a trailing no-op)
ITEM_HEADS = ("use", "destroy", "give_item", "sell_item")  # obs.inventory rows
TARGET_HEADS = ("attack_target", "give_target", "give_gold_target")  # entity slots
MARKET_HEADS = ("buy",)  # obs.market rows


def build_policy(cfg, hidden: int, embed: int):
    """(Policy module, ...) for `cfg`: imported here so the parent process stays light."""
    import jax
    import jax.numpy as jnp
    from flax import linen as nn

    from nmmo_jax import items as it
    from nmmo_jax import material as mat
    from nmmo_jax.step import action_heads, noop_action

    heads = action_heads(cfg)
    type_col = it.ITEM_COLUMNS.index("type_id")

    def symlog(x):
        x = x.astype(jnp.float32)
        return jnp.sign(x) * jnp.log1p(jnp.abs(x))

    def masked_mean(x, present, axis):
        """mean of x [..., K, d] over the rows where present [..., K] (0 where none)."""
        w = present.astype(x.dtype)[..., None]
        return (x * w).sum(axis) / jnp.maximum(w.sum(axis), 1.0)

    def rows_at(table, index):
        """table [R, d] at int indices [...] -> [..., d] (indices are in bounds by construction)."""
        return table.at[index.astype(jnp.int32)].get(mode="promise_in_bounds")

    class Policy(nn.Module):
        """One environment's observation -> (actions int32 [N, H], log-prob [N], value [N])."""

        hidden: int
        embed: int

        @nn.compact
        def __call__(self, obs, key):
            d, h_dim = self.embed, self.hidden
            n = obs.agent.shape[0]

            # the entity table, once per env: row 0 and dead rows are zero rows (no entity)
            present = obs.entities[:, 0] != 0  # the id column (NPC ids are negative)
            ent = nn.relu(nn.Dense(d, name="entity_1")(symlog(obs.entities)))
            ent = nn.Dense(d, name="entity_2")(ent) * present[:, None]  # [E + 1, d]

            # the window: materials + the entities on each tile (both layers), conv, dense
            tile = nn.Embed(mat.N_MATERIALS, 16, name="material")(obs.tile.astype(jnp.int32))
            on_tile = nn.Dense(16, name="entity_on_tile")(ent) * present[:, None]
            planes = [tile, rows_at(on_tile, obs.entity).sum(axis=-2)]  # [N, D, D, 16] each
            if obs.fog is not None:
                planes.append(symlog(obs.fog)[..., None])
            x = jnp.concatenate(planes, axis=-1)
            x = nn.relu(nn.Conv(32, (3, 3), strides=(3, 3), padding="VALID", name="conv")(x))
            x = nn.relu(nn.Dense(h_dim, name="window")(x.reshape(n, -1)))

            own = nn.relu(nn.Dense(d, name="agent")(symlog(obs.agent)))

            held = obs.inventory[..., type_col] > 0  # [N, C]
            inv = nn.relu(nn.Dense(d, name="inventory_1")(symlog(obs.inventory)))
            inv = nn.Dense(d, name="inventory_2")(inv)  # [N, C, d]
            inv_pool = masked_mean(inv, held, axis=-2)

            listed = obs.market[:, type_col] > 0  # [M]
            market = nn.relu(nn.Dense(d, name="market_1")(symlog(obs.market)))
            market = nn.Dense(d, name="market_2")(market)  # [M, d]
            market_pool = jnp.broadcast_to(masked_mean(market, listed, axis=0), (n, d))

            team = obs.comm.astype(jnp.int32)  # [N, K] rows of the entity table
            comm_pool = masked_mean(rows_at(ent, team), team > 0, axis=-2)

            t = obs.tick.astype(jnp.float32) / cfg.horizon
            tick = jnp.broadcast_to(
                jnp.stack([t, jnp.sin(6.2832 * t), jnp.cos(6.2832 * t)]), (n, 3)
            )

            z = jnp.concatenate([x, own, inv_pool, market_pool, comm_pool, tick], axis=-1)
            z = nn.relu(nn.Dense(h_dim, name="torso_1")(z))
            z = nn.relu(nn.Dense(h_dim, name="torso_2")(z))
            value = nn.Dense(1, name="value")(z)[:, 0]

            pointers = {
                **{name: inv for name in ITEM_HEADS},
                **{name: ent[1:] for name in TARGET_HEADS},
                **{name: market for name in MARKET_HEADS},
            }
            keys = jax.random.split(key, len(heads))
            actions, logp = [], jnp.zeros((n,), jnp.float32)
            for h, (name, size) in enumerate(heads):
                rows = pointers.get(name)
                if rows is not None and rows.shape[-2] + 1 == size:
                    q = nn.Dense(d, name=f"{name}_query")(z)
                    if rows.ndim == 3:  # per agent [N, R, d]
                        scores = jnp.einsum("nrd,nd->nr", rows, q)
                    else:  # per env [R, d]
                        scores = q @ rows.T
                    noop = nn.Dense(1, name=f"{name}_noop")(z)
                    logits = jnp.concatenate([scores / d**0.5, noop], axis=-1)
                else:
                    logits = nn.Dense(size, name=name)(z)
                assert logits.shape == (n, size), (name, logits.shape, size)
                logits = jnp.where(getattr(obs.action_mask, name), logits, -1e9)
                a = jax.random.categorical(keys[h], logits, axis=-1).astype(jnp.int32)
                log_probs = jax.nn.log_softmax(logits, axis=-1)
                logp = logp + jnp.take_along_axis(log_probs, a[:, None], axis=-1)[:, 0]
                actions.append(a)
            return jnp.stack(actions, axis=-1), logp, value

    return Policy(hidden=hidden, embed=embed), heads, noop_action(cfg)


def measure(args) -> dict:
    """One measurement in this process (called in a pinned subprocess)."""
    t_import = time.perf_counter()
    import jax
    import jax.numpy as jnp
    import numpy as np

    import nmmo_jax as nj
    from nmmo_jax.rollout import checksum

    t_import = time.perf_counter() - t_import
    cfg = nj.Config.preset(args.preset, immortal=True)
    env = nj.Env(cfg)
    n, b = cfg.player_n, args.envs
    total_ticks = args.steps * (args.repeats + 1) + (
        args.warm_steps if args.mode == "forward" else 0
    )
    if total_ticks > cfg.horizon:
        raise ValueError(f"{total_ticks} ticks exceed the horizon ({cfg.horizon}): lower --steps")
    policy, heads, noop = build_policy(cfg, args.hidden, args.embed)
    noop = jnp.asarray(noop, jnp.int32)
    key = jax.random.key(args.seed)

    def mask_stats(actions, masks):
        """(invalid, non-noop) int32 [H]: chosen indices whose mask bit is off, and choices other
        than the head's no-op, summed over envs and agents."""
        allowed = jnp.stack(
            [
                jnp.take_along_axis(getattr(masks, name), actions[..., h, None], axis=-1)[..., 0]
                for h, (name, _) in enumerate(heads)
            ],
            axis=-1,
        )
        invalid = (~allowed).reshape(-1, len(heads)).sum(0, dtype=jnp.int32)
        acted = (actions != noop).reshape(-1, len(heads)).sum(0, dtype=jnp.int32)
        return invalid, acted

    def act(params, key, obs):
        """([B, N, H] actions, float32 [] checksum of the actor's other outputs)."""
        keys = jax.random.split(key, b)
        if args.mode == "random":
            return jax.vmap(env.sample_actions)(keys, obs), jnp.float32(0)
        actions, logp, value = jax.vmap(policy.apply, in_axes=(None, 0, 0))(params, obs, keys)
        return actions, logp.sum() + value.sum()

    def zeros():
        return {
            "agent_steps": jnp.int32(0),
            "checksum": jnp.int32(0),
            "out_sum": jnp.float32(0),
            "invalid": jnp.zeros((len(heads),), jnp.int32),
            "acted": jnp.zeros((len(heads),), jnp.int32),
        }

    def add(totals, obs, actions, out_sum, active):
        invalid, acted = mask_stats(actions, obs.action_mask)
        return {
            "agent_steps": totals["agent_steps"] + active,
            "checksum": totals["checksum"] + actions.sum(),
            "out_sum": totals["out_sum"] + out_sum,
            "invalid": totals["invalid"] + invalid,
            "acted": totals["acted"] + acted,
        }

    def run_env(params, carry, key):
        """`steps` env steps, actions from the policy or random."""

        def body(inner, step_key):
            (obs, states), totals = inner
            act_key, env_key = jax.random.split(step_key)
            actions, out_sum = act(params, act_key, obs)
            obs_before = obs
            obs, states, _, _, _, info = jax.vmap(env.step)(
                jax.random.split(env_key, b), states, actions
            )
            totals = add(totals, obs_before, actions, out_sum, info["active"].sum())
            totals["checksum"] += checksum(obs)  # every leaf of every observation is read
            return ((obs, states), totals), None

        (carry, totals), _ = jax.lax.scan(body, (carry, zeros()), jax.random.split(key, args.steps))
        return carry, totals

    def run_forward(params, batch, key):
        """`steps` policy calls on one fixed batch of observations. batch = (obs, never): `never`
        is -1, a runtime argument, so XLA cannot prove that the observations are the same at
        every step and hoist the encoder (which does not read the key) out of the scan (an
        optimization barrier does not stop it: measured in the HLO)."""
        obs, never = batch

        def body(totals, xs):
            i, step_key = xs
            same = i == never  # always False; adds 0 to (xors 0 into) every leaf, fused
            fixed = jax.tree.map(
                lambda x: x ^ same if x.dtype == jnp.bool_ else x + same.astype(x.dtype), obs
            )
            actions, out_sum = act(params, step_key, fixed)
            alive = (fixed.agent[..., 0] != 0).sum()
            return add(totals, fixed, actions, out_sum, alive), None

        xs = (jnp.arange(args.steps), jax.random.split(key, args.steps))
        totals, _ = jax.lax.scan(body, zeros(), xs)
        return batch, totals

    def reset(key):
        return jax.vmap(env.reset)(jax.random.split(key, b))

    t0 = time.perf_counter()
    carry = jax.block_until_ready(nj.jit(reset, once=True)(key))
    compile_reset = time.perf_counter() - t0  # compile + one call
    one_env = jax.tree.map(lambda x: x[0], carry[0])
    params = jax.jit(policy.init)(jax.random.fold_in(key, 7), one_env, key)
    n_params = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(params))
    compile_warm = 0.0
    if args.mode == "forward":
        # realistic observations (items, listings) after a few random steps; the env is compiled
        # for this, outside the policy's figures
        t0 = time.perf_counter()

        def warm(carry, key):
            def body(carry, step_key):
                obs, states = carry
                act_key, env_key = jax.random.split(step_key)
                actions = jax.vmap(env.sample_actions)(jax.random.split(act_key, b), obs)
                out = jax.vmap(env.step)(jax.random.split(env_key, b), states, actions)
                return out[:2], None

            return jax.lax.scan(body, carry, jax.random.split(key, args.warm_steps))[0]

        carry = jax.block_until_ready(nj.jit(warm)(carry, jax.random.fold_in(key, 3)))
        compile_warm = time.perf_counter() - t0
        timed, timed_input = run_forward, (carry[0], jnp.int32(-1))
    else:
        timed, timed_input = run_env, carry

    t0 = time.perf_counter()
    donate = () if args.mode == "forward" else (1,)
    # nmmo_jax/compile.py: the CPU compiler options (the same for the env and the policy)
    run = nj.jit(timed, donate_argnums=donate).lower(params, timed_input, key).compile()
    compile_run = time.perf_counter() - t0

    out, stats = run(params, timed_input, jax.random.fold_in(key, 1))  # warm-up: first steps
    stats = jax.device_get(stats)
    first = {k: np.asarray(v).tolist() for k, v in stats.items() if k in ("invalid", "acted")}
    first_steps = int(stats["agent_steps"])
    invalid_total = int(np.sum(stats["invalid"]))
    rates, checksums = [], []
    for r in range(args.repeats):
        if args.mode != "forward":
            timed_input = out
        t = time.perf_counter()
        out, stats = run(params, timed_input, jax.random.fold_in(key, 2 + r))
        stats = jax.device_get(stats)
        dt = time.perf_counter() - t
        rates.append(float(stats["agent_steps"]) / dt)
        checksums.append([int(stats["checksum"]), float(stats["out_sum"])])
        invalid_total += int(np.sum(stats["invalid"]))
    rate = statistics.median(rates)
    names = [name for name, _ in heads]
    return {
        "preset": args.preset,
        "mode": args.mode,
        "envs": b,
        "cores": 1,
        "cpu": args.cpu,
        "steps_per_call": args.steps,
        "repeats": args.repeats,
        "player_n": n,
        "hidden": args.hidden,
        "embed": args.embed,
        "params": n_params,
        "heads": [list(h) for h in heads],
        "agent_steps_per_s": rate,
        "agent_steps_per_s_runs": rates,
        "us_per_agent_step": 1e6 / rate,
        "us_per_env_step": 1e6 * n / rate,
        "compile_reset_s": compile_reset,
        "compile_warm_s": compile_warm,
        "compile_run_s": compile_run,
        "import_s": t_import,
        "mean_alive": float(stats["agent_steps"]) / (b * args.steps),
        "mask_check": {
            "agent_steps_checked_first_call": first_steps,
            "invalid_first_call_by_head": dict(zip(names, first["invalid"], strict=True)),
            "non_noop_first_call_by_head": dict(zip(names, first["acted"], strict=True)),
            "invalid_all_calls": invalid_total,
        },
        "checksum": checksums[-1],
        "jax": jax.__version__,
        "backend": jax.default_backend(),
    }


def run_one(args, envs: int, mode: str) -> dict | None:
    cmd = [
        "taskset",
        "-c",
        str(args.cpu),
        sys.executable,
        str(HERE),
        "_measure",
        *("--envs", str(envs), "--mode", mode, "--cpu", str(args.cpu)),
        *("--steps", str(args.steps), "--repeats", str(args.repeats)),
        *("--preset", args.preset, "--seed", str(args.seed)),
        *("--hidden", str(args.hidden), "--embed", str(args.embed)),
        *("--warm-steps", str(args.warm_steps)),
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if p.returncode != 0:
        print(f"envs={envs} {mode} FAILED:\n{p.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def sweep(args) -> int:
    results = {
        "machine": platform.platform(),
        "cpu": _cpu_name(),
        "python": sys.version.split()[0],
        "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_before": os.getloadavg(),
        "runs": [],
    }
    failed = False
    for envs in [int(x) for x in args.envs_list.split(",")]:
        row = {}
        for mode in args.modes.split(","):
            r = run_one(args, envs, mode)
            if r is None:
                failed = True
                continue
            row[mode] = r
            results["runs"].append(r)
            check = r["mask_check"]
            invalid = list(check["invalid_first_call_by_head"].values())
            print(
                f"envs={envs:3d} {mode:7s} agent-steps/s {r['agent_steps_per_s']:12,.0f}  "
                f"{r['us_per_agent_step']:7.3f} us/agent-step  compile {r['compile_run_s']:5.1f} s"
                f"  params {r['params']:,}",
                flush=True,
            )
            print(
                f"    mask check: {check['agent_steps_checked_first_call']:,} agent-steps of the "
                f"first call, invalid choices by head {invalid}"
                f", all calls {check['invalid_all_calls']}; non-no-op choices by head "
                f"{list(check['non_noop_first_call_by_head'].values())}",
                flush=True,
            )
            if check["invalid_all_calls"]:
                print("    MASK VIOLATION", flush=True)
                failed = True
        if "random" in row and "policy" in row:
            extra = row["policy"]["us_per_agent_step"] - row["random"]["us_per_agent_step"]
            print(f"    policy adds {extra:.3f} us per agent-step to env + random", flush=True)
    results["load_average_after"] = os.getloadavg()
    if args.out:
        out = ROOT / args.out
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1))
        print(f"wrote {out}")
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd")
    m = sub.add_parser("_measure", help="one measurement (internal)")
    m.add_argument("--envs", type=int, required=True)
    m.add_argument("--mode", choices=MODES, required=True)
    for p in (ap, m):
        p.add_argument("--cpu", type=int, default=0, help="the core to pin to (taskset -c)")
        p.add_argument("--steps", type=int, default=128, help="steps per timed call")
        p.add_argument("--repeats", type=int, default=3, help="timed calls (median reported)")
        p.add_argument("--preset", default="medium", help="config preset (medium = Default)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--hidden", type=int, default=128, help="torso width")
        p.add_argument("--embed", type=int, default=32, help="row embedding width")
        p.add_argument(
            "--warm-steps", type=int, default=8, help="random steps before the forward batch"
        )
    ap.add_argument("--envs", dest="envs_list", default="4,16", help="comma-separated")
    ap.add_argument("--modes", default=",".join(MODES), help="of " + ",".join(MODES))
    ap.add_argument("--out", default="bench/out/bench_policy.json")
    args = ap.parse_args()
    if args.cmd == "_measure":
        print(json.dumps(measure(args)))
        return 0
    return sweep(args)


if __name__ == "__main__":
    sys.exit(main())
