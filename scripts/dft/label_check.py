"""How converged are the labels of computed frames? Recomputes frames of data/si-pbe/frames at a denser k-mesh
(the convergence study used crystal and beta-tin cells only; docs/dft-data.md, "Limits of this study") and
compares energy, forces and stress with the stored labels.

    nice -n 19 mpirun -np 2 /usr/bin/python3 scripts/dft/label_check.py --kdens 6 TASK_ID ...   # compute (resumable)
    /usr/bin/python3 scripts/dft/label_check.py --report                                        # table

Results are cached in data/si-pbe/label-check.json, one entry per (task, k-point density); the recomputed frames
go to data/si-pbe/label-check/kdensK/TASK.xyz (facet-eval reads them).
"""
import argparse
import json
import os
import sys

import numpy as np
from ase.io import read

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dftcommon import label, stress_gpa  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'si-pbe')
RESULTS = os.path.join(DATA, 'label-check.json')


def load():
    return json.load(open(RESULTS)) if os.path.exists(RESULTS) else {}


def write_frame(stored, new, kdens, path):
    """The frame with the recomputed labels, in the generator's format, for facet-eval."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.constraints import full_3x3_to_voigt_6_stress
    from ase.io import write
    atoms = stored.copy()
    atoms.arrays.pop('forces', None)  # the stored labels, replaced by the calculator's
    atoms.info.update(kpt_density_per_A=kdens, kgrid=' '.join(map(str, new['kgrid'])),
                      energy_sigma0=new['energy_sigma0'], scf_iterations=new['niter'])
    atoms.calc = SinglePointCalculator(atoms, energy=new['energy'], forces=new['forces'],
                                       stress=full_3x3_to_voigt_6_stress(new['stress']))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write(path, atoms, format='extxyz', parallel=False)  # rank 0 only: no collective broadcast


def compute(task_ids, kdens):
    from gpaw.mpi import world
    done = load()
    for task in task_ids:
        key = f'{task} kdens={kdens:g}'
        if key in done:
            continue
        path = os.path.join(DATA, 'frames', task + '.xyz')
        if not os.path.exists(path):
            sys.exit(f'label_check: {path}: no such frame (a task id of data/si-pbe/frames is expected)')
        stored = read(path)
        info = stored.info
        atoms = stored.copy()  # keeps info['vacuum_axis'], which kgrid needs for slabs
        new = label(atoms, float(info['ecut_eV']), kdens, float(info['smearing_width_eV']), info['smearing'])
        n = len(atoms)
        dforces = new['forces'] - stored.get_forces()
        dstress = stress_gpa(new['stress']) - stress_gpa(stored.get_stress(voigt=False))
        stored_mesh = ' '.join(str(int(k)) for k in np.atleast_1d(info['kgrid']))
        entry = dict(config_type=info['config_type'], atoms=n, kgrid_stored=stored_mesh,
                     kgrid=' '.join(map(str, new['kgrid'])), seconds=round(new['seconds'], 1),
                     denergy_per_atom=(new['energy'] - stored.get_potential_energy()) / n,
                     rms_dforce=float(np.sqrt(np.mean(dforces ** 2))), max_dforce=float(np.abs(dforces).max()),
                     rms_force=float(np.sqrt(np.mean(stored.get_forces() ** 2))),
                     max_dstress_gpa=float(np.abs(dstress).max()))
        if world.rank == 0:
            write_frame(stored, new, kdens, os.path.join(DATA, 'label-check', f'kdens{kdens:g}', task + '.xyz'))
            done = load()
            done[key] = entry
            json.dump(done, open(RESULTS, 'w'), indent=1, sort_keys=True)
            print(f'{key}: dE {1000 * entry["denergy_per_atom"]:+.2f} meV/atom, '
                  f'dF rms {1000 * entry["rms_dforce"]:.1f} max {1000 * entry["max_dforce"]:.1f} meV/A, '
                  f'dS max {entry["max_dstress_gpa"]:.2f} GPa ({entry["seconds"]:.0f} s)', flush=True)


def report():
    done = load()
    if not done:
        sys.exit(f'label_check: no results in {RESULTS}')
    print('| frame | atoms | k-mesh stored -> denser | ΔE (meV/atom) | RMS ΔF (meV/Å) | max ΔF (meV/Å) | '
          'RMS F (meV/Å) | max Δσ (GPa) |')
    print('|---|---|---|---|---|---|---|---|')
    for key, e in sorted(done.items()):
        print(f'| `{key}` | {e["atoms"]} | {e["kgrid_stored"]} -> {e["kgrid"]} | {1000 * e["denergy_per_atom"]:+.2f} | '
              f'{1000 * e["rms_dforce"]:.1f} | {1000 * e["max_dforce"]:.1f} | {1000 * e["rms_force"]:.0f} | '
              f'{e["max_dstress_gpa"]:.2f} |')
    for kd in sorted({key.split('kdens=')[1] for key in done}, key=float):
        rows = [e for key, e in done.items() if key.endswith(f'kdens={kd}')]
        de = np.array([e['denergy_per_atom'] for e in rows])
        df = np.array([e['rms_dforce'] for e in rows])
        # A constant energy offset is absorbed by the model's reference energy; the spread about it is label noise.
        print(f'\nk-point density {kd}: {len(rows)} frames, ΔE mean {1000 * de.mean():+.2f}, spread (RMS about '
              f'the mean) {1000 * de.std():.2f} meV/atom; RMS ΔF over the frames '
              f'{1000 * np.sqrt(np.mean(df ** 2)):.1f} meV/Å')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('tasks', nargs='*', help='task ids (file names in data/si-pbe/frames without .xyz)')
    ap.add_argument('--kdens', type=float, default=6.0, help='k-point density of the recomputation (Å; 6)')
    ap.add_argument('--report', action='store_true', help='print the table of the cached results')
    a = ap.parse_args()
    if a.report:
        report()
    elif a.tasks:
        compute(a.tasks, a.kdens)
    else:
        ap.error('give task ids, or --report')
