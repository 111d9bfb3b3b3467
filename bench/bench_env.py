#!/usr/bin/env python
"""Throughput of nmmo-jax against the reference nmmo 2.1.2, measured side by side in one run.

    python bench/bench_env.py                       # sweep num_envs on 1 and 2 cores + reference
    python bench/bench_env.py --envs 16 --cores 1   # one point
    python bench/bench_env.py --no-reference        # ours only

Each measurement runs in a fresh process pinned with `taskset` to its cores. Ours: the Default
(Medium) config with IMMORTAL set, so all 128 players stay alive, stepped in one compiled `lax.scan`
with auto-reset; every observation leaf of every step is read (the action masks by the random
policy, every other leaf by a checksum) so XLA cannot drop work nobody reads. On 2 cores the env
batch is split over 2 XLA host devices with shard_map (XLA CPU runs one program on one thread).
Reference: bench/reference_nmmo.py `run` with --immortal in the same modes (noop = no actions,
random = every head uniform among the valid choices of its mask: all nine of the reference's, and
all thirteen heads of ours), one process per core; the reference's figure excludes its action
sampling, ours includes it. Agent-steps count the agents alive at the start of each step, as the
reference does; resets are outside the timed loop in the reference and are inside ours (none happen
within a horizon).
Install the reference first: `bash bench/setup_reference.sh` (creates .reference/venv).
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

HERE = pathlib.Path(__file__).resolve()
ROOT = HERE.parent.parent
# ours -> the reference's comparable mode: no actions, or every head uniform among its valid
# choices (both engines: all nine actions, SPEC 12)
MODES = {"noop": "noop", "random": "random"}


def measure(args) -> dict:
    """One measurement in this process (called in a pinned subprocess)."""
    if args.cores > 1:
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "")
            + f" --xla_force_host_platform_device_count={args.cores}"
        )
    t_import = time.perf_counter()
    import jax
    from jax.sharding import Mesh
    from jax.sharding import PartitionSpec as P

    import nmmo_jax as nj
    from nmmo_jax.rollout import Rollout

    t_import = time.perf_counter() - t_import
    cfg = nj.Config.preset(args.preset, immortal=True)
    env = nj.Env(cfg)
    if args.envs % args.cores:
        raise ValueError(f"--envs ({args.envs}) must be a multiple of --cores ({args.cores})")
    local = Rollout(env, args.envs // args.cores, args.steps, args.mode)
    key = jax.random.key(args.seed)

    if args.cores == 1:
        init, run = local.reset_batch, local.run_chunk
    else:
        mesh = Mesh(jax.devices()[: args.cores], ("env",))

        def init_local(key):
            return local.reset_batch(jax.random.fold_in(key, jax.lax.axis_index("env")))

        def run_local(carry, key):
            key = jax.random.fold_in(key, jax.lax.axis_index("env"))
            carry, stats = local.run_chunk(carry, key)
            return carry, jax.tree.map(lambda x: jax.lax.psum(x, "env"), stats)

        init = jax.shard_map(
            init_local, mesh=mesh, in_specs=P(), out_specs=P("env"), check_vma=False
        )
        run = jax.shard_map(
            run_local,
            mesh=mesh,
            in_specs=(P("env"), P()),
            out_specs=(P("env"), P()),
            check_vma=False,
        )

    t0 = time.perf_counter()
    init = nj.jit(init, once=True)  # runs once: compiled for its compile time
    carry = jax.block_until_ready(init(key))
    compile_init = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = nj.jit(run, donate_argnums=0).lower(carry, key).compile()  # nmmo_jax/compile.py
    compile_run = time.perf_counter() - t0

    carry, stats = run(carry, jax.random.fold_in(key, 1))  # warm-up
    jax.block_until_ready(stats)
    rates, checksums = [], []
    for r in range(args.repeats):
        t = time.perf_counter()
        carry, stats = run(carry, jax.random.fold_in(key, 2 + r))
        stats = jax.device_get(stats)
        dt = time.perf_counter() - t
        rates.append(float(stats["agent_steps"]) / dt)
        checksums.append(int(stats["checksum"]))
    return {
        "preset": args.preset,
        "mode": args.mode,
        "envs": args.envs,
        "cores": args.cores,
        "steps_per_call": args.steps,
        "player_n": cfg.player_n,
        "agent_steps_per_s": statistics.median(rates),
        "agent_steps_per_s_runs": rates,
        "env_steps_per_s": statistics.median(rates) / cfg.player_n,
        "compile_s": compile_init + compile_run,
        "compile_reset_s": compile_init,
        "compile_step_scan_s": compile_run,
        "import_s": t_import,
        "mean_alive": float(stats["agent_steps"]) / (args.envs * args.steps),
        "checksum": checksums[-1],
        "jax": jax.__version__,
        "backend": jax.default_backend(),
    }


def cpu_list(cores: int) -> str:
    return ",".join(str(c) for c in range(cores))


def run_ours(args, envs: int, cores: int, mode: str) -> dict | None:
    cmd = [
        "taskset",
        "-c",
        cpu_list(cores),
        sys.executable,
        str(HERE),
        "_measure",
        "--envs",
        str(envs),
        "--cores",
        str(cores),
        "--mode",
        mode,
        "--steps",
        str(args.steps),
        "--repeats",
        str(args.repeats),
        "--preset",
        args.preset,
        "--seed",
        str(args.seed),
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if p.returncode != 0:
        print(f"ours envs={envs} cores={cores} {mode} FAILED:\n{p.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_reference(args, cores: int, mode: str) -> dict | None:
    """The reference in `mode`: `cores` pinned processes at once (one per core), throughput
    summed; repeated --reference-repeats times, the median reported."""
    python = ROOT / args.reference_python
    if not python.exists():
        return None
    totals, per_process, alive = [], [], []
    for repeat in range(args.reference_repeats):
        procs = []
        for core in range(cores):
            cmd = [
                str(python),
                str(ROOT / args.reference_script),
                "run",
                "--mode",
                mode,
                "--tasks",
                "default",
                "--immortal",
                "--ticks",
                str(args.reference_ticks),
                "--mapgen-repeats",
                "0",
                "--seed",
                str(42 + core + 100 * repeat),
                "--workdir",
                str(ROOT / ".reference" / f"work{core}"),
            ]
            env = dict(
                os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1"
            )
            procs.append(
                subprocess.Popen(
                    ["taskset", "-c", str(core), *cmd],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                )
            )
        outs = []
        for p in procs:
            out, err = p.communicate()
            if p.returncode != 0:
                print(f"reference {mode} FAILED:\n{err[-2000:]}", file=sys.stderr)
                return None
            outs.append(json.loads(out.strip().splitlines()[-1]))
        totals.append(sum(o["agent_steps_per_s"] for o in outs))
        per_process.append([o["agent_steps_per_s"] for o in outs])
        alive.append(statistics.mean(o["mean_alive"] for o in outs))
    return {
        "mode": mode,
        "cores": cores,
        "agent_steps_per_s": statistics.median(totals),
        "agent_steps_per_s_runs": totals,
        "per_process": per_process,
        "mean_alive": statistics.mean(alive),
        "ticks": args.reference_ticks,
    }


def sweep(args) -> int:
    envs_list = [int(x) for x in args.envs_list.split(",")]
    cores_list = [int(x) for x in args.cores_list.split(",")]
    modes = args.modes.split(",")
    results = {
        "machine": platform.platform(),
        "cpu": _cpu_name(),
        "python": sys.version.split()[0],
        "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "ours": [],
        "reference": [],
    }
    ref = {}
    for cores in cores_list:
        for mode in modes:
            if not args.no_reference:
                r = run_reference(args, cores, MODES[mode])
                if r is None:
                    print(
                        f"reference not measured (no {args.reference_python}; run "
                        "`bash bench/setup_reference.sh`)",
                        file=sys.stderr,
                    )
                else:
                    ref[(cores, mode)] = r
                    results["reference"].append(r)
                    print(
                        f"reference  cores={cores} mode={MODES[mode]:5s} "
                        f"agent-steps/s {r['agent_steps_per_s']:12,.0f}  "
                        f"(alive {r['mean_alive']:.0f})",
                        flush=True,
                    )
            for envs in envs_list:
                if envs % cores:
                    continue
                o = run_ours(args, envs, cores, mode)
                if o is None:
                    continue
                base = ref.get((cores, mode))
                o["ratio_vs_reference"] = (
                    o["agent_steps_per_s"] / base["agent_steps_per_s"] if base else None
                )
                results["ours"].append(o)
                ratio = f"{o['ratio_vs_reference']:7.1f}x" if base else "    n/a"
                print(
                    f"nmmo-jax   cores={cores} mode={mode:6s} envs={envs:4d} agent-steps/s "
                    f"{o['agent_steps_per_s']:12,.0f}  ratio {ratio}  compile "
                    f"{o['compile_s']:5.1f} s  alive {o['mean_alive']:.0f}",
                    flush=True,
                )
    if args.out:
        out = ROOT / args.out
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1))
        print(f"wrote {out}")
    return 0


def _cpu_name() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd")
    m = sub.add_parser("_measure", help="one measurement (internal)")
    m.add_argument("--envs", type=int, required=True)
    m.add_argument("--cores", type=int, default=1)
    m.add_argument("--mode", choices=list(MODES), default="noop")
    m.add_argument("--steps", type=int, default=256)
    m.add_argument("--repeats", type=int, default=3)
    m.add_argument("--preset", default="medium")
    m.add_argument("--seed", type=int, default=0)
    ap.add_argument("--envs", dest="envs_list", default="1,4,16,64")
    ap.add_argument("--cores", dest="cores_list", default="1,2")
    ap.add_argument("--modes", default="noop,random")
    ap.add_argument("--steps", type=int, default=256, help="steps per timed call")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls (median reported)")
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reference-ticks", type=int, default=512)
    ap.add_argument("--reference-repeats", type=int, default=3, help="median of this many runs")
    ap.add_argument("--reference-python", default=".reference/venv/bin/python")
    ap.add_argument("--reference-script", default="bench/reference_nmmo.py")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--out", default="bench/out/bench_env.json")
    args = ap.parse_args()
    if args.cmd == "_measure":
        print(json.dumps(measure(args)))
        return 0
    return sweep(args)


if __name__ == "__main__":
    sys.exit(main())
