"""How converged are the labels of computed frames? Recomputes frames of data/si-pbe/frames at a denser k-mesh,
or with another smearing (the convergence study used crystal and beta-tin cells only; docs/dft-data.md, "Limits
of this study") and compares energy, forces and stress with the stored labels.

    nice -n 19 mpirun -np 2 /usr/bin/python3 scripts/dft/label_check.py --kdens 6 TASK_ID ...   # compute (resumable)
    ... label_check.py --kdens 8 --smearing marzari-vanderbilt --width 0.1 TASK_ID ...           # another smearing
    /usr/bin/python3 scripts/dft/label_check.py --report [kdens=6]                              # table
    /usr/bin/python3 scripts/dft/label_check.py --scan TASK_ID                            # one frame, every setting

Results are cached in data/si-pbe/label-check.json, one entry per (task, setting), against the labels in
data/si-pbe/frames at the time (their mesh is recorded); the recomputed frames go to
data/si-pbe/label-check/kdensK[-SETTING]/TASK.xyz (facet-eval reads them). Since the generator relabels the
categories given denser settings in place, label-check/kdens4/ also keeps the 4.0 labels of the frames scanned
before that (copied from the commit before: c5cc888 for the disordered categories, aada556 for the phases and
slabs), so that --scan still shows them.
"""
import argparse
import glob
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


def setting_name(kdens, smearing, width, grid, stored_info):
    """Key suffix and folder of a setting: smearing and mesh type are named only where they differ from the
    stored ones."""
    key, folder = f'kdens={kdens:g}', f'kdens{kdens:g}'
    if (smearing, width) != (stored_info['smearing'], float(stored_info['smearing_width_eV'])):
        key, folder = f'{key} smearing={smearing}:{width:g}', f'{folder}-{smearing}{width:g}'
    if grid != stored_info['kgrid_type']:
        key, folder = f'{key} {grid}', f'{folder}-{grid}'
    return key, folder


def write_frame(stored, new, kdens, smearing, width, grid, path):
    """The frame with the recomputed labels, in the generator's format, for facet-eval."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.constraints import full_3x3_to_voigt_6_stress
    from ase.io import write
    atoms = stored.copy()
    atoms.arrays.pop('forces', None)  # the stored labels, replaced by the calculator's
    atoms.info.update(kpt_density_per_A=kdens, kgrid=' '.join(map(str, new['kgrid'])), kgrid_type=grid,
                      smearing=smearing, smearing_width_eV=width, energy_sigma0=new['energy_sigma0'],
                      scf_iterations=new['niter'], wall_seconds=round(new['seconds'], 1))
    atoms.calc = SinglePointCalculator(atoms, energy=new['energy'], forces=new['forces'],
                                       stress=full_3x3_to_voigt_6_stress(new['stress']))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write(path, atoms, format='extxyz', parallel=False)  # rank 0 only: no collective broadcast


def compute(task_ids, kdens, smearing, width, grid):
    from gpaw.mpi import world
    done = load()
    for task in task_ids:
        path = os.path.join(DATA, 'frames', task + '.xyz')
        if not os.path.exists(path):
            sys.exit(f'label_check: {path}: no such frame (a task id of data/si-pbe/frames is expected)')
        stored = read(path)
        info = stored.info
        smear, wid = smearing or info['smearing'], float(info['smearing_width_eV']) if width is None else width
        name, folder = setting_name(kdens, smear, wid, grid, info)
        key = f'{task} {name}'
        out = os.path.join(DATA, 'label-check', folder, task + '.xyz')
        if key in done and os.path.exists(out):  # the first checks kept no frame: recomputed once asked again
            continue
        atoms = stored.copy()  # keeps info['vacuum_axis'], which kgrid needs for slabs
        new = label(atoms, float(info['ecut_eV']), kdens, wid, smear, grid=grid)
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
            write_frame(stored, new, kdens, smear, wid, grid, out)
            done = load()
            done[key] = entry
            json.dump(done, open(RESULTS, 'w'), indent=1, sort_keys=True)
            print(f'{key}: dE {1000 * entry["denergy_per_atom"]:+.2f} meV/atom, '
                  f'dF rms {1000 * entry["rms_dforce"]:.1f} max {1000 * entry["max_dforce"]:.1f} meV/A, '
                  f'dS max {entry["max_dstress_gpa"]:.2f} GPa ({entry["seconds"]:.0f} s)', flush=True)


def report(setting):
    """The table of cached results; only those of one setting (e.g. 'kdens=6') if `setting` is given."""
    done = {k: e for k, e in load().items() if not setting or k.split(' ', 1)[1] == setting}
    if not done:
        sys.exit(f'label_check: no results in {RESULTS}' + (f' for {setting}' if setting else ''))
    print('| frame | atoms | k-mesh stored -> denser | ΔE (meV/atom) | RMS ΔF (meV/Å) | max ΔF (meV/Å) | '
          'RMS F (meV/Å) | max Δσ (GPa) |')
    print('|---|---|---|---|---|---|---|---|')
    for key, e in sorted(done.items()):
        print(f'| `{key}` | {e["atoms"]} | {e["kgrid_stored"]} -> {e["kgrid"]} | {1000 * e["denergy_per_atom"]:+.2f} | '
              f'{1000 * e["rms_dforce"]:.1f} | {1000 * e["max_dforce"]:.1f} | {1000 * e["rms_force"]:.0f} | '
              f'{e["max_dstress_gpa"]:.2f} |')
    for kd in sorted({key.split('kdens=')[1] for key in done}, key=lambda k: (float(k.split()[0]), k)):
        rows = [e for key, e in done.items() if key.endswith(f'kdens={kd}')]
        de = np.array([e['denergy_per_atom'] for e in rows])
        df = np.array([e['rms_dforce'] for e in rows])
        # A constant energy offset is absorbed by the model's reference energy; the spread about it is label noise.
        print(f'\nk-point density {kd}: {len(rows)} frames, ΔE mean {1000 * de.mean():+.2f}, spread (RMS about '
              f'the mean) {1000 * de.std():.2f} meV/atom; RMS ΔF over the frames '
              f'{1000 * np.sqrt(np.mean(df ** 2)):.1f} meV/Å')


def setting_key(info):
    return info['smearing'], float(info['smearing_width_eV']), info['kgrid_type'], float(info['kpt_density_per_A'])


def settings_of(task):
    """{(smearing, width, mesh type, kdens): frame} of one task: the stored labels and every recomputation."""
    paths = [os.path.join(DATA, 'frames', task + '.xyz')] + \
        sorted(glob.glob(os.path.join(DATA, 'label-check', '*', task + '.xyz')))
    out = {}
    for path in paths:
        if os.path.exists(path):
            a = read(path)
            out[setting_key(a.info)] = a
    return out


def scan(task):
    """Every setting of `task` against its most accurate one: the stored smearing on the densest mesh (the
    stored width is the narrowest tried: the closest to no smearing)."""
    frames = settings_of(task)
    if not frames:
        sys.exit(f'label_check: no frames of {task}')
    stored = read(os.path.join(DATA, 'frames', task + '.xyz'))
    stored_key = setting_key(stored.info)
    ref_key = max((k for k in frames if k[:3] == stored_key[:3]), key=lambda k: k[3])

    def per_atom(a):
        return a.get_potential_energy() / len(a)
    ref = frames[ref_key]
    cached = load()
    print(f'{task}: against {ref_key[0]} {ref_key[1]:g} eV, {ref_key[2]} mesh at {ref_key[3]:g} Å⁻¹')
    print('| smearing | k-density (Å⁻¹) | k-mesh | s | ΔE (meV/atom) | RMS ΔF (meV/Å) | max ΔF (meV/Å) | '
          'max Δσ (GPa) |')
    print('|---|---|---|---|---|---|---|---|')
    for key in sorted(frames):
        a = frames[key]
        de = 1000 * (per_atom(a) - per_atom(ref))
        df = a.get_forces() - ref.get_forces()
        ds = stress_gpa(a.get_stress(voigt=False)) - stress_gpa(ref.get_stress(voigt=False))
        name = setting_name(key[3], key[0], key[1], key[2], stored.info)[0]
        # the cache's time first: the first recomputed frames kept the stored frame's wall_seconds
        seconds = cached.get(f'{task} {name}', {}).get('seconds', a.info['wall_seconds'])
        mesh = ' '.join(str(int(k)) for k in np.atleast_1d(a.info['kgrid']))
        mesh += '' if key[2] == 'gamma-centred' else ' MP'
        print(f'| {key[0]} {key[1]:g} | {key[3]:g} | {mesh} | {seconds} | {de:+.2f} | '
              f'{1000 * np.sqrt(np.mean(df ** 2)):.1f} | {1000 * np.abs(df).max():.1f} | {np.abs(ds).max():.2f} |')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('tasks', nargs='*', help='task ids (file names in data/si-pbe/frames without .xyz)')
    ap.add_argument('--kdens', type=float, default=6.0, help='k-point density of the recomputation (Å; 6)')
    ap.add_argument('--smearing', help='occupation smearing of the recomputation (default: the stored one)')
    ap.add_argument('--width', type=float, help='its width in eV (default: the stored one)')
    ap.add_argument('--monkhorst-pack', action='store_true', help='a Monkhorst-Pack mesh (sizes rounded up to '
                    'even ones, off Γ) instead of the stored Γ-centred one')
    ap.add_argument('--report', nargs='?', const='', metavar='SETTING',
                    help="print the table of the cached results (of one setting, e.g. 'kdens=6', if given)")
    ap.add_argument('--scan', metavar='TASK', help='print every computed setting of one frame against the best')
    a = ap.parse_args()
    if a.report is not None:
        report(a.report)
    elif a.scan:
        scan(a.scan)
    elif a.tasks:
        compute(a.tasks, a.kdens, a.smearing, a.width, 'monkhorst-pack' if a.monkhorst_pack else 'gamma-centred')
    else:
        ap.error('give task ids, or --report')
