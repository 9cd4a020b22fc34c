"""Test-set errors of every stage of train-si-pbe: a picture of what each round of data bought.

Each stage's potential (build/si-pbe-train/stageN.facet, or the commit that shipped it; the last stage's is
potentials/Si-PBE.facet) is evaluated with facet-eval on two test sets: the one of its own time (the frames of the
releases it was trained on, test-rK.xyz) and today's full test set (test.xyz). The first shows the numbers each
version was reported with, the second compares all versions on the same frames. Writes OUT/history.dat, history.gp
and history.png (gnuplot).
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


# The commit that shipped each stage's potential as potentials/Si-PBE.facet (stage 8 was never shipped, stage 1 is
# the first half of the first version): a stage whose WORK/stageN.facet is missing (a fresh checkout) is read from
# there. Add each newly shipped stage here.
SHIPPED_AT = {2: '4c7d173', 3: '9a7d4be', 4: '1c1300a', 5: '44ac484', 6: '56106b2', 7: 'd5e9968', 9: 'e3f89ac',
              10: '916a241', 11: '837ee51', 12: '16d9360', 13: '042810c', 14: '978d186', 15: '48986b3', 16: '7525b9c',
              17: '17bf3d0'}


def stage_potentials(work, shipped):
    """[(n, path)] for the stages in order: WORK/stageN.facet if that stage ran here, else its potential from the
    commit that shipped it (SHIPPED_AT); the last stage is the shipped file unless it ran here."""
    done = [n for n in range(1, 100) if os.path.exists(os.path.join(work, f'stage{n}.done'))]
    last = max(done + [max(SHIPPED_AT) + 1])
    found = []
    for n in range(1, last + 1):
        path = os.path.join(work, f'stage{n}.facet')
        if os.path.exists(path):
            found.append((n, path))
        elif n == last:
            found.append((n, shipped))
        elif n in SHIPPED_AT:
            path = os.path.join(work, 'history', f'stage{n}.facet')
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(subprocess.run(['git', '-C', ROOT, 'show', f'{SHIPPED_AT[n]}:potentials/Si-PBE.facet'],
                                       check=True, capture_output=True).stdout)
            found.append((n, path))
        else:
            print(f'stage {n:2d}: no {work}/stage{n}.facet and never shipped, left out')
    return found


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
