"""Structures for DFT from MD with a facet potential: the configurations a trial model visits (one round of
active learning). A model trained on the rest of the set can find minima that DFT does not have where the
data is thin, e.g. short bonds in the liquid; relabelled by DFT, these snapshots teach it otherwise.

Usage (through scripts/dft/sample-md, which sets up LAMMPS): sample_md.py POTENTIAL OUT.xyz
    [--structure liquid|slab111|slab100|interstitial|vacancy] [--temp 1800] [--atoms 16] [--runs 3] [--snapshots 5]
    [--every 500] [--seed 1]

Per run, the start: for `liquid`, n atoms placed at random (no pair closer than 2.1 Å) in a cubic cell at
the liquid's experimental density; for `slab111` and `slab100` (--atoms is not used), the slabs of the data
set's surface categories (16 atoms, 10 Å of vacuum; tasks.slab), for `interstitial` its <110> dumbbell cell
(17 atoms; tasks.interstitial), for `vacancy` the 16-atom cell of the vacancy category less one atom (15 atoms),
rattled by 0.05 Å. Then facet NVT (LAMMPS,
Nose-Hoover 0.1 ps, 1 fs steps) at --temp for 0.5 ps and --snapshots snapshots --every steps apart (a first
trial model, 16 atoms at 1800 K: one run of two formed a bond of 1.81 Å after 1.5 ps that stayed, a minimum
DFT does not have). Writes them as extended XYZ (no labels) with their provenance: the potential's file name
and SHA-256, the temperature, the run seed and the step; a slab also its vacuum axis (vacuum_axis=2, which
sets the k-mesh).
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile

import numpy as np

from ase import Atoms

from tasks import diamond, interstitial, slab

LIQUID_DENSITY = 0.0551  # atoms / Å^3, experiment at the melting point (data/si-pbe/reference/experiment.json)
EQUILIBRATION_STEPS = 500
MASS = 28.0855

INPUT = """units metal
atom_style atomic
boundary p p p
read_data {data}
plugin load {plugin}
pair_style facet
pair_coeff * * {potential} Si
mass 1 {mass}
timestep 0.001
velocity all create {temp} {seed} mom yes rot no dist gaussian loop geom
fix md all nvt temp {temp} {temp} 0.1
thermo 500
thermo_style custom step temp pe press
run {equil}
dump pos all custom {every} {dump} id x y z
dump_modify pos sort id format float %.10f
run {sample}
"""


def random_packing(n, length, rng, dmin=2.1):
    x = np.empty((0, 3))
    while len(x) < n:
        trial = rng.uniform(0, length, 3)
        d = x - trial
        d -= np.round(d / length) * length
        if len(x) == 0 or np.sqrt((d ** 2).sum(axis=1)).min() > dmin:
            x = np.vstack([x, trial])
    return x


def read_dump(path):
    """[(step, positions sorted by id)] of a LAMMPS custom dump with columns id x y z (of an NVT run: the cell
    is the one of the data file)."""
    frames, lines, k = [], open(path).read().splitlines(), 0
    while k < len(lines):
        step = int(lines[k + 1])
        n = int(lines[k + 3])
        rows = np.array([[float(v) for v in line.split()] for line in lines[k + 9:k + 9 + n]])
        rows = rows[np.argsort(rows[:, 0])]
        frames.append((step, rows[:, 1:4]))
        k += 9 + n
    return frames


def closest_pair(positions, cell):
    """The shortest distance between two atoms, minimum image (fused atoms show here before they show in g(r))."""
    d = Atoms(f'Si{len(positions)}', positions=positions, cell=cell, pbc=True).get_all_distances(mic=True)
    np.fill_diagonal(d, np.inf)
    return float(d.min())


def start_structure(kind, n, rng):
    """(cell rows, positions) of a run's start; the cell is lower triangular, as LAMMPS needs it."""
    if kind == 'liquid':
        length = (n / LIQUID_DENSITY) ** (1 / 3)
        return np.diag([length] * 3), random_packing(n, length, rng)
    # a along x, b in the xy plane (the slabs' vacuum along z)
    if kind == 'interstitial':
        at = interstitial('dumbbell')
    elif kind == 'vacancy':  # every site of the perfect cell is alike: take out the first
        at = diamond((2, 1, 1))
        del at[0]
    else:
        at = slab(kind[len('slab'):])
    at.positions += rng.normal(0.0, 0.05, at.positions.shape)
    at.wrap()
    return at.cell.array.copy(), at.positions.copy()


def write_data(path, cell, x):
    with open(path, 'w') as f:
        f.write(f'start\n\n{len(x)} atoms\n1 atom types\n\n')
        for ax, k in zip('xyz', range(3)):
            f.write(f'0 {cell[k, k]!r} {ax}lo {ax}hi\n')
        if np.any(np.tril(cell, -1)):  # a triclinic box only where needed (an orthogonal one runs as before)
            f.write(f'{cell[1, 0]!r} {cell[2, 0]!r} {cell[2, 1]!r} xy xz yz\n')
        f.write('\nAtoms # atomic\n\n')
        for i, p in enumerate(x):
            f.write(f'{i + 1} 1 {p[0]!r} {p[1]!r} {p[2]!r}\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('potential')
    ap.add_argument('out')
    ap.add_argument('--structure', default='liquid',
                    choices=('liquid', 'slab111', 'slab100', 'interstitial', 'vacancy'))
    ap.add_argument('--temp', type=float, default=1800.0)
    ap.add_argument('--atoms', type=int, default=16)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--snapshots', type=int, default=5)
    ap.add_argument('--every', type=int, default=500)
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args()
    lmp, plugin = os.environ['FACET_LMP'], os.environ['FACET_PLUGIN']
    sha = hashlib.sha256(open(args.potential, 'rb').read()).hexdigest()
    out = []
    with tempfile.TemporaryDirectory() as work:
        for run in range(args.runs):
            seed = args.seed * 1000 + run
            rng = np.random.default_rng(seed)
            cell, x = start_structure(args.structure, args.atoms, rng)
            if abs(cell[1, 0]) > 0.5 * cell[0, 0] or np.any(np.abs(np.triu(cell, 1)) > 1e-12):
                sys.exit('sample_md.py: the start cell is not one LAMMPS takes')
            data = os.path.join(work, f'start-{run}.data')
            write_data(data, cell, x)
            dump = os.path.join(work, f'run-{run}.pos')
            script = INPUT.format(data=data, plugin=plugin, potential=os.path.abspath(args.potential), mass=MASS,
                                  temp=args.temp, seed=seed + 12345, equil=EQUILIBRATION_STEPS,
                                  every=args.every, dump=dump, sample=args.every * args.snapshots)
            r = subprocess.run([lmp, '-nocite', '-log', os.path.join(work, f'run-{run}.log'), '-screen', 'none'],
                               input=script, text=True, capture_output=True)
            if r.returncode != 0:
                sys.exit(f'sample_md.py: LAMMPS failed (run {run}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}')
            # The first dump is the end of the equilibration (step 500): snapshots after it.
            frames = [f for f in read_dump(dump) if f[0] > EQUILIBRATION_STEPS]
            for step, pos in frames:
                out.append((seed, step, cell, pos))
                print(f'run {run} step {step}: closest pair {closest_pair(pos, cell):.3f} Å')
    with open(args.out, 'w') as f:
        for seed, step, cell, pos in out:
            f.write(f'{len(pos)}\n')
            lattice = ' '.join(repr(float(v)) for v in cell.ravel())
            slab_key = ' vacuum_axis=2' if args.structure.startswith('slab') else ''
            f.write(f'Lattice="{lattice}" Properties=species:S:1:pos:R:3 '
                    f'pbc="T T T" sampled_by={os.path.basename(args.potential)} sampler_sha256={sha} '
                    f'temperature_K={args.temp:g} run_seed={seed} step={step}{slab_key}\n')
            for p in pos:
                f.write(f'Si {p[0]:.10f} {p[1]:.10f} {p[2]:.10f}\n')
    print(f'wrote {len(out)} structures to {args.out}')


if __name__ == '__main__':
    main()
