"""Test-set errors of every stage of train-si-pbe: a picture of what each round of data bought.

Each stage's potential (build/si-pbe-train/stageN.facet, or the commit that shipped it; the last stage's is
potentials/Si-PBE.facet) is evaluated with facet-eval on two test sets: the one of its own time (the frames of the
releases it was trained on, test-rK.xyz) and today's full test set (test.xyz). The first shows the numbers each
version was reported with, the second compares all versions on the same frames. Writes OUT/history.dat, history.gp
and history.png (gnuplot).

The right panel is a learning curve: today's test RMSE against the number of training frames, with a power law
fitted over the stages from --fit-from on and extended to where it would meet the targets. Its rounds were picked by
active learning (each from the last potential's own MD), so the curve says what more rounds of the same kind are
likely to buy, not what random frames would.
"""
import argparse
import math
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


# Targets of issue 8 on the test set: energy (meV/atom) and forces (meV/Å).
TARGETS = (5.0, 100.0)


def frame_count(path):
    """Frames in an extended-XYZ file written by ASE (its comment lines, and only they, hold Properties=)."""
    with open(path) as f:
        return sum(1 for line in f if 'Properties=' in line)


def power_law(n_frames, errors):
    """Least-squares fit of log(error) = log(a) + b log(n): returns (a, b)."""
    xs = [math.log(n) for n in n_frames]
    ys = [math.log(e) for e in errors]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return math.exp(my - b * mx), b


def frames_for(target, a, b):
    """Training frames at which the fitted a n^b reaches target (None if the fit does not fall)."""
    return (target / a) ** (1 / b) if b < 0 else None


GNUPLOT = """set terminal pngcairo size 1500,450 enhanced
set encoding utf8
set output 'history.png'
set multiplot layout 1,3 title 'Si-PBE: test RMSE of each stage of train-si-pbe'
set xlabel 'stage'
set grid
set key top right
set xtics 1
set ylabel 'energy RMSE (meV/atom)'
set yrange [0:*]
plot 'history.dat' using 1:2 with linespoints title 'the test set of its time', \\
     '' using 1:5 with linespoints title 'today''s test set ({n} frames)', {t_e} with lines dt 2 title 'target'
set ylabel 'force RMSE (meV/Å)'
set yrange [80:*]
plot 'history.dat' using 1:3 with linespoints title 'the test set of its time', \\
     '' using 1:6 with linespoints title 'today''s test set ({n} frames)', {t_f} with lines dt 2 title 'target'
set title 'learning curve on today''s test set (fit: stages {fit_from}-{last})'
set xlabel 'training frames'
set ylabel 'RMSE / target'
set logscale xy
set xtics (200, 300, 400, 500, 700, 1000, 1400)
set yrange [0.8:*]
set xrange [200:{x_max}]
set key top right
fe(x) = {a_e} * x**({b_e}) / {t_e}
ff(x) = {a_f} * x**({b_f}) / {t_f}
plot sample [x={x_fit}:{x_max}] fe(x) with lines dt 2 lc 1 title 'energy ∝ N^{{{b_e:.2f}}}', \\
     [x={x_fit}:{x_max}] ff(x) with lines dt 2 lc 2 title 'forces ∝ N^{{{b_f:.2f}}}', \\
     'history.dat' using 8:($5/{t_e}) with points pt 7 lc 1 title 'energy', \\
     '' using 8:($6/{t_f}) with points pt 5 lc 2 title 'forces', \\
     1 with lines lc rgb 'black' title 'target'
unset multiplot
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--work', default=os.path.join(ROOT, 'build', 'si-pbe-train'))
    ap.add_argument('--shipped', default=os.path.join(ROOT, 'potentials', 'Si-PBE.facet'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'potentials', 'Si-PBE'))
    ap.add_argument('--fit-from', type=int, default=12,
                    help='first stage of the learning-curve fit (12: any start from 11 to 14 gives a force '
                         'exponent of -0.37 to -0.38; earlier starts, when each round still filled larger gaps, '
                         'give steeper ones: -0.46 from 9)')
    args = ap.parse_args()
    evaluator = os.path.join(ROOT, 'build', 'tools', 'facet-eval')
    if not os.access(evaluator, os.X_OK):
        sys.exit(f'stage-history: {evaluator} is missing: run scripts/build first')
    today = os.path.join(args.work, 'test.xyz')
    if not os.path.exists(today):
        sys.exit(f'stage-history: {today} is missing: run scripts/dft/train-si-pbe first (it writes the splits)')
    rows = []
    for n, potential in stage_potentials(args.work, args.shipped):
        release = max(n - 1, 1)  # stages 1 and 2 train on release 1
        e_own, f_own, n_own = rmse(evaluator, potential, os.path.join(args.work, f'test-r{release}.xyz'))
        e_all, f_all, n_all = rmse(evaluator, potential, today)
        n_train = frame_count(os.path.join(args.work, f'train-r{release}.xyz'))
        rows.append((n, e_own, f_own, n_own, e_all, f_all, n_all, n_train))
        print(f'stage {n:2d} ({n_train} training frames): own test set ({n_own} frames) {e_own:.2f} / {f_own:.1f}; '
              f'today\'s ({n_all}) {e_all:.2f} / {f_all:.1f} meV/atom, meV/Å', flush=True)
    fitted = [r for r in rows if r[0] >= args.fit_from]
    if len({r[7] for r in fitted}) < 2:
        sys.exit(f'stage-history: fewer than two training-set sizes from stage {args.fit_from} on: nothing to fit')
    a_e, b_e = power_law([r[7] for r in fitted], [r[4] for r in fitted])
    a_f, b_f = power_law([r[7] for r in fitted], [r[5] for r in fitted])
    reach = []
    for name, unit, target, a, b in (('energy', 'meV/atom', TARGETS[0], a_e, b_e),
                                     ('forces', 'meV/Å', TARGETS[1], a_f, b_f)):
        n_target = frames_for(target, a, b)
        reach.append(n_target or rows[-1][7])
        at = f'{n_target:.0f} training frames' if n_target else 'never (the fit does not fall)'
        print(f'learning curve, stages {fitted[0][0]}-{fitted[-1][0]}: {name} RMSE ∝ N^{b:.2f}; '
              f'{target:g} {unit} at {at}')
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'history.dat'), 'w') as f:
        f.write('# stage  own_E(meV/atom)  own_F(meV/A)  own_frames  today_E(meV/atom)  today_F(meV/A)  '
                'today_frames  training_frames\n')
        for r in rows:
            f.write('%d %.4f %.3f %d %.4f %.3f %d %d\n' % r)
    with open(os.path.join(args.out, 'history.gp'), 'w') as f:
        f.write(GNUPLOT.format(n=rows[-1][6], fit_from=fitted[0][0], last=fitted[-1][0], a_e=a_e, b_e=b_e, a_f=a_f,
                               b_f=b_f, t_e=TARGETS[0], t_f=TARGETS[1], x_fit=fitted[0][7],
                               x_max=1.15 * max(reach)))
    subprocess.run(['gnuplot', 'history.gp'], cwd=args.out, check=True)
    print(f'wrote {args.out}/history.dat, history.gp, history.png')


if __name__ == '__main__':
    main()
