"""Recomputes a stored frame at its own settings with a given number of bands and compares the labels: the check
behind band_count() (docs/dft-data.md, "Bands"). Prints the wall time, SCF iterations and the largest differences
in energy, force and stress from the stored labels.

Usage: OMP_NUM_THREADS=1 /usr/bin/python3 scripts/dft/band_check.py TASK_ID [NBANDS|default|rule]
(default: GPAW's own band count, 1.2 x occupied + 4; rule: band_count(), what the generator uses; one MPI rank
unless run under mpirun).
"""
import argparse
import os
import sys
import time

import numpy as np
from ase.io import read
from ase.units import GPa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dftcommon import make_calc, results  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'si-pbe')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('task_id')
    ap.add_argument('bands', nargs='?', default='rule')
    args = ap.parse_args()
    stored = read(os.path.join(DATA, 'frames', args.task_id + '.xyz'))
    info = stored.info
    atoms = stored.copy()
    atoms.calc = make_calc(atoms, info['ecut_eV'], info['kpt_density_per_A'], info['smearing_width_eV'],
                           info['smearing'], grid=info.get('kgrid_type', 'gamma-centred'))
    if args.bands != 'rule':
        atoms.calc.set(nbands=None if args.bands == 'default' else int(args.bands))
    t0 = time.time()
    lab = results(atoms)
    seconds = time.time() - t0
    print(f'{args.task_id}: {lab["nbands"]} bands, {seconds:.0f} s, {lab["niter"]} SCF iterations '
          f'(stored: {info.get("nbands", "default")} bands, {info["scf_iterations"]} iterations)')
    print(f'  max |dE| {1000 * abs(lab["energy"] - stored.get_potential_energy()) / len(atoms):.1e} meV/atom, '
          f'max |dF| {1000 * np.abs(lab["forces"] - stored.get_forces()).max():.2e} meV/A, '
          f'max |dsigma| {np.abs(lab["stress"] - stored.get_stress(voigt=False)).max() / GPa:.1e} GPa')


if __name__ == '__main__':
    main()
