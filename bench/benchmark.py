#!/usr/bin/python3
"""Benchmark of facet-lammps (docs/benchmarks.md), everything measured in one run on one machine:

1. cost per atom of one evaluation (energy, forces, virial), Kokkos engine beside the LibTorch reference
   on the same model and structures (build/bench/facet-bench), for the shipped demo potential and a random
   model of Facet-small size, and the engine in mixed precision (time and its differences from double);
2. LAMMPS MD of crystalline silicon at 300 K (1k, 8k, 64k atoms): Stillinger-Weber, pair_style facet and
   facet/kk on the same number of OpenMP threads (facet also with `precision mixed`): atom-steps per second,
   memory per atom.

Prints markdown tables. Usage: scripts/benchmark [--threads 2] [--sizes 5 10 20] [--quick]
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))


def run(cmd, env=None):
    """Runs cmd, returns (stdout+stderr, peak RSS in bytes, wall seconds)."""
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=ROOT, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f'benchmark: {" ".join(cmd)} failed ({p.returncode}):\n{out[-3000:]}')
    return out, usage.ru_maxrss * 1024, time.time() - t0


def engine_vs_torch(args):
    print('## Engine vs LibTorch, one evaluation (energy, forces, virial), '
          f'{args.engine_threads} thread\n')
    bench = os.path.join(ROOT, 'build', 'bench', 'facet-bench')
    for model, cells in ((['--potential', 'potentials/Si-SW-demo.facet'], ['5', '10']),
                         (['--facet-small'], ['3'] if args.quick else ['5'])):
        out, _, _ = run([bench, *model, '--cells', *cells, '--repeat', '2', '--threads', str(args.engine_threads)],
                        env=dict(os.environ, OMP_PROC_BIND='false'))
        lines = out.strip().splitlines()
        print('`' + lines[0].lstrip('# ') + '`\n')
        print('| atoms | edges/atom | engine ms/atom | LibTorch ms/atom | engine speed-up | engine CPU ms/atom | '
              'LibTorch CPU ms/atom | engine workspace kB/atom | energy difference (relative) |')
        print('|---|---|---|---|---|---|---|---|---|')
        rows = [line.replace('|', ' ').split() for line in lines[2:]]
        for w in rows:
            print(f'| {w[0]} | {w[1]} | {w[2]} | {w[3]} | {w[4]}x | {w[5]} | {w[6]} | {w[7]} | {w[8]} |')
        print('\nThe same engine in mixed precision (same run; differences from double on the same structure):\n')
        print('| atoms | mixed ms/atom | mixed CPU ms/atom | speed-up over double | energy difference meV/atom | '
              'force difference rms meV/Å | force difference max meV/Å |')
        print('|---|---|---|---|---|---|---|')
        for w in rows:
            print(f'| {w[0]} | {w[9]} | {w[10]} | {w[11]}x | {w[12]} | {w[13]} | {w[14]} |')
        print()
        sys.stdout.flush()


def lammps_md(args):
    lmp = os.environ['FACET_LMP']
    sw = os.path.join(os.environ['LAMMPS_SOURCE_DIR'], '..', 'potentials', 'Si.sw')
    print(f'## LAMMPS MD, crystalline Si at 300 K, {args.threads} OpenMP threads, 1 MPI rank\n')
    print('| atoms | style | steps | loop time s | atom-steps/s | µs per atom-step (x threads) | '
          'LAMMPS memory MB | peak RSS kB/atom |')
    print('|---|---|---|---|---|---|---|---|')
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_PROC_BIND='spread', OMP_PLACES='threads')
    for cells in args.sizes:
        atoms = 8 * cells ** 3
        for style in ('sw', 'facet', 'facet mixed', 'facet/kk'):
            # about the same wall time per size: fewer steps for the slow styles and big cells
            steps = max(2, min(200, int((2e5 if style == 'sw' else 2e4) / atoms)))
            if args.quick:
                steps = max(1, steps // 5)
            cmd = [lmp, '-in', 'bench/in.bench', '-log', 'none', '-var', 'cells', str(cells), '-var', 'steps',
                   str(steps), '-var', 'style', 'sw' if style == 'sw' else 'facet',
                   '-var', 'precision', 'mixed' if style.endswith('mixed') else 'double',
                   '-var', 'potential', sw if style == 'sw' else 'potentials/Si-SW-demo.facet']
            if style in ('facet/kk', 'sw'):  # sw/kk: LAMMPS's own Kokkos style on the same threads
                cmd += ['-k', 'on', 't', str(args.threads), '-sf', 'kk']
            out, rss, _ = run(cmd, env)
            loops = re.findall(r'Loop time of ([0-9.e+-]+) on \d+ procs for (\d+) steps with (\d+) atoms', out)
            loop, n_steps, n_atoms = float(loops[-1][0]), int(loops[-1][1]), int(loops[-1][2])
            mem = re.findall(r'Per MPI rank memory allocat(?:ed|ion) \(min/avg/max\) = [0-9.]+ \| ([0-9.]+) \|', out)
            rate = n_atoms * n_steps / loop
            print(f'| {n_atoms} | {"sw/kk" if style == "sw" else style} | {n_steps} | {loop:.3g} | {rate:.4g} | '
                  f'{1e6 / rate * args.threads:.4g} | {mem[-1] if mem else "?"} | {rss / 1024 / n_atoms:.2f} |')
            sys.stdout.flush()
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=2, help='OpenMP threads for the LAMMPS runs')
    ap.add_argument('--engine-threads', type=int, default=1, help='threads for the engine vs LibTorch runs')
    ap.add_argument('--sizes', type=int, nargs='+', default=[5, 10, 20], help='N of N^3 conventional cells')
    ap.add_argument('--quick', action='store_true', help='fewer steps and a smaller Facet-small cell')
    ap.add_argument('--skip-engine', action='store_true')
    ap.add_argument('--skip-lammps', action='store_true')
    args = ap.parse_args()
    print(f'# facet-lammps benchmark, {time.strftime("%Y-%m-%d %H:%M")} on {os.uname().nodename}, '
          f'{os.cpu_count()} CPUs ({open("/proc/cpuinfo").read().split("model name")[1].split(":")[1].splitlines()[0].strip()})\n')
    if not args.skip_engine:
        engine_vs_torch(args)
    if not args.skip_lammps:
        lammps_md(args)


if __name__ == '__main__':
    main()
