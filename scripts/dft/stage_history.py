"""Test-set errors of every stage of train-si-pbe: a picture of what each round of data bought.

Each stage's potential (build/si-pbe-train/stageN.facet; the last stage's is potentials/Si-PBE.facet) is evaluated
with facet-eval on two test sets: the one of its own time (the frames of the releases it was trained on, test-rK.xyz)
and today's full test set (test.xyz). The first shows the numbers each version was reported with, the second compares
all versions on the same frames. Writes OUT/history.dat, history.gp and history.png (gnuplot).
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rmse(evaluator, potential, frames):
    """(energy meV/atom, forces meV/Å, frame count) from facet-eval's summary lines."""
    out = subprocess.run([evaluator, potential, frames], check=True, capture_output=True, text=True).stdout
    energy = re.search(r'^energy RMSE (\S+) meV/atom \((\d+) frames\)', out, re.M)
    forces = re.search(r'^forces RMSE (\S+) meV/A', out, re.M)
    if not energy or not forces:
        sys.exit(f'stage-history: no RMSE lines in the output of facet-eval {potential} {frames}')
    return float(energy.group(1)), float(forces.group(1)), int(energy.group(2))


def stage_potentials(work, shipped):
    """[(n, path)] for the finished stages in order: WORK/stageN.facet, or the shipped file for the last stage."""
    found, n = [], 1
    while os.path.exists(os.path.join(work, f'stage{n}.done')):
        path = os.path.join(work, f'stage{n}.facet')
        found.append((n, path if os.path.exists(path) else None))
        n += 1
    if found and found[-1][1] is None:
        found[-1] = (found[-1][0], shipped)
    for n, path in found:
        if path is None:  # e.g. stage 1 when stage 2 was placed from a commit instead of run (potentials/README.md)
            print(f'stage {n:2d}: no {work}/stage{n}.facet, left out')
    return [(n, path) for n, path in found if path]


GNUPLOT = """set terminal pngcairo size 1000,450 enhanced
set encoding utf8
set output 'history.png'
set multiplot layout 1,2 title 'Si-PBE: test RMSE of each stage of train-si-pbe'
set xlabel 'stage'
set grid
set key top right
set xtics 1
set ylabel 'energy RMSE (meV/atom)'
set yrange [0:*]
plot 'history.dat' using 1:2 with linespoints title 'the test set of its time', \\
     '' using 1:5 with linespoints title 'today''s test set ({n} frames)', 5 with lines dt 2 title 'target'
set ylabel 'force RMSE (meV/Å)'
set yrange [80:*]
plot 'history.dat' using 1:3 with linespoints title 'the test set of its time', \\
     '' using 1:6 with linespoints title 'today''s test set ({n} frames)', 100 with lines dt 2 title 'target'
unset multiplot
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--work', default=os.path.join(ROOT, 'build', 'si-pbe-train'))
    ap.add_argument('--shipped', default=os.path.join(ROOT, 'potentials', 'Si-PBE.facet'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'potentials', 'Si-PBE'))
    args = ap.parse_args()
    evaluator = os.path.join(ROOT, 'build', 'tools', 'facet-eval')
    if not os.access(evaluator, os.X_OK):
        sys.exit(f'stage-history: {evaluator} is missing: run scripts/build first')
    today = os.path.join(args.work, 'test.xyz')
    if not os.path.exists(today):
        sys.exit(f'stage-history: {today} is missing: run scripts/dft/train-si-pbe first (it writes the splits)')
    rows = []
    for n, potential in stage_potentials(args.work, args.shipped):
        own = os.path.join(args.work, f'test-r{max(n - 1, 1)}.xyz')  # stages 1 and 2 train on release 1
        e_own, f_own, n_own = rmse(evaluator, potential, own)
        e_all, f_all, n_all = rmse(evaluator, potential, today)
        rows.append((n, e_own, f_own, n_own, e_all, f_all, n_all))
        print(f'stage {n:2d}: own test set ({n_own} frames) {e_own:.2f} / {f_own:.1f}; '
              f'today\'s ({n_all}) {e_all:.2f} / {f_all:.1f} meV/atom, meV/Å', flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'history.dat'), 'w') as f:
        f.write('# stage  own_E(meV/atom)  own_F(meV/A)  own_frames  today_E(meV/atom)  today_F(meV/A)  '
                'today_frames\n')
        for r in rows:
            f.write('%d %.4f %.3f %d %.4f %.3f %d\n' % r)
    with open(os.path.join(args.out, 'history.gp'), 'w') as f:
        f.write(GNUPLOT.format(n=rows[-1][6]))
    subprocess.run(['gnuplot', 'history.gp'], cwd=args.out, check=True)
    print(f'wrote {args.out}/history.dat, history.gp, history.png')


if __name__ == '__main__':
    main()
