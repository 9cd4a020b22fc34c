"""Labels the Si task list with GPAW PBE, one extended-XYZ file per finished frame.

Run through scripts/dft/generate (mpirun -np 2). Resumable: tasks whose frame exists with the settings of its
category (settings.json and its overrides), or that are listed in failed.txt, are skipped; a frame computed with
other settings is relabelled in place (same structure, read from the frame). Rank 0 builds each structure and
writes the results; all ranks share the DFT calculation.
"""
import argparse
import json
import os
import socket
import sys
import time
import traceback

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import full_3x3_to_voigt_6_stress
from ase.io import read, write
from ase.units import GPa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ase  # noqa: E402
import gpaw  # noqa: E402
from gpaw import KohnShamConvergenceError  # noqa: E402
from gpaw.mpi import broadcast, world  # noqa: E402

from dftcommon import SCF_CONVERGENCE, is_stale, label, settings_for  # noqa: E402
from make_splits import assign  # noqa: E402
from tasks import SEED, make_structure, task_list, task_seed  # noqa: E402

DATA = os.environ.get('SI_PBE_DATA') or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'si-pbe'))


def log(msg):
    if world.rank == 0:
        print(time.strftime('%Y-%m-%d %H:%M:%S'), msg, flush=True)


def failed_ids(path):
    if not os.path.exists(path):
        return set()
    return {line.split()[0] for line in open(path) if line.strip() and not line.startswith('#')}


def stale_ids(frames_dir, tasks, s):
    """Frames computed with other settings than their category's now: to be relabelled."""
    stale = set()
    for tid, _, _ in tasks:
        path = os.path.join(frames_dir, tid + '.xyz')
        # parallel=False: only rank 0 is here; ASE's default would broadcast to the other ranks
        if os.path.exists(path) and is_stale(read(path, parallel=False).info, s):
            stale.add(tid)
    return stale


def stored_structure(path):
    """The structure of a stored frame, with the provenance that frame() carries over, without its labels."""
    a = read(path, parallel=False)
    out = Atoms(a.get_chemical_symbols(), positions=a.positions, cell=a.cell, pbc=True)
    out.info.update({k: v for k, v in a.info.items() if k in CARRIED})
    return out


# a slab's vacuum axis; the provenance of a structure from scripts/dft/sample-md
CARRIED = ('vacuum_axis', 'sampled_by', 'sampler_sha256', 'temperature_K', 'run_seed', 'step')


def frame(atoms, lab, s, task_id, cat):
    out = Atoms(atoms.get_chemical_symbols(), positions=atoms.positions, cell=atoms.cell, pbc=True)
    out.calc = SinglePointCalculator(out, energy=lab['energy'], forces=lab['forces'],
                                     stress=full_3x3_to_voigt_6_stress(lab['stress']))
    out.info.update(
        config_type=cat, task_id=task_id, seed=task_seed(task_id), global_seed=SEED,
        code='gpaw', code_version=gpaw.__version__, ase_version=ase.__version__,
        xc=s['xc'], mode='pw', ecut_eV=s['ecut'], kpt_density_per_A=s['kdens'],
        kgrid=' '.join(map(str, lab['kgrid'])), kgrid_type=s['kgrid_type'],
        smearing=s['smearing'], smearing_width_eV=s['width'],
        energy_kind='free_energy', energy_sigma0=lab['energy_sigma0'],
        scf_density_tol=SCF_CONVERGENCE['density'], scf_iterations=lab['niter'], nbands=lab['nbands'],
        wall_seconds=round(lab['seconds'], 1), mpi_ranks=world.size)
    for key in CARRIED:
        if key in atoms.info:
            out.info[key] = atoms.info[key]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--settings', default=os.path.join(DATA, 'settings.json'))
    ap.add_argument('--limit', type=int, default=0, help='stop after this many new frames')
    ap.add_argument('--only', nargs='*', help='run only these task ids')
    ap.add_argument('--first', nargs='*', default=[], choices=('train', 'val', 'test'),
                    help="these splits' tasks first (e.g. --first test val: the frames that measure a potential)")
    args = ap.parse_args()
    settings = json.load(open(args.settings))
    frames_dir = os.path.join(DATA, 'frames')
    failed_path = os.path.join(DATA, 'failed.txt')
    todo = stale = None
    if world.rank == 0:
        os.makedirs(frames_dir, exist_ok=True)
        tasks = task_list()
        done = {f[:-4] for f in os.listdir(frames_dir) if f.endswith('.xyz')}
        stale = stale_ids(frames_dir, tasks, settings)
        skip = (done - stale) | failed_ids(failed_path)
        todo = [t for t in tasks if t[0] not in skip and (not args.only or t[0] in args.only)]
        split = assign()
        todo.sort(key=lambda t: args.first.index(split[t[0]]) if split[t[0]] in args.first else len(args.first))
        log(f'start on {socket.gethostname()}: {len(tasks)} tasks, {len(done)} done ({len(stale)} of them with '
            f'other settings: relabelled), {len(skip - done)} failed, {len(todo)} to do; '
            f'settings {json.dumps(settings)}')
    todo, stale = broadcast((todo, stale) if world.rank == 0 else None)
    n_new = 0
    for task_id, cat, p in todo:
        s = settings_for(settings, cat)
        path = os.path.join(frames_dir, task_id + '.xyz')
        if world.rank == 0:
            atoms = stored_structure(path) if os.path.exists(path) else make_structure(task_id, cat, p)
        atoms = broadcast(atoms if world.rank == 0 else None)
        try:
            lab = label(atoms, s['ecut'], s['kdens'], s['width'], s['smearing'], grid=s['kgrid_type'])
        except Exception as err:  # noqa: BLE001 - any failure: log it, never write the frame
            reason = 'scf-not-converged' if isinstance(err, KohnShamConvergenceError) else \
                f'{type(err).__name__}: {err}'.replace('\n', ' ')
            log(f'FAILED {task_id}: {reason}')
            if world.rank == 0:
                if not isinstance(err, KohnShamConvergenceError):
                    traceback.print_exc()
                if task_id in stale:  # its labels are not those of the settings: out of the data set
                    os.remove(path)
                    log(f'removed {task_id} (its stored labels have the old settings)')
                with open(failed_path, 'a') as f:
                    f.write(f'{task_id} {time.strftime("%Y-%m-%dT%H:%M:%S")} {reason}\n')
            world.barrier()
            continue
        if world.rank == 0:
            # parallel=False: only rank 0 writes (ASE would otherwise wait for the other ranks)
            write(path + '.tmp', frame(atoms, lab, s, task_id, cat), format='extxyz', parallel=False)
            os.replace(path + '.tmp', path)  # atomic: a frame file is always complete
            f = lab['forces']
            relabelled = ' (relabelled)' if task_id in stale else ''
            log(f'{task_id:34s}{relabelled} n={len(atoms):2d} k={"x".join(map(str, lab["kgrid"]))} '
                f'E/N={lab["energy"] / len(atoms):8.4f} fmax={np.abs(f).max():6.3f} '
                f'|sumF|={np.linalg.norm(f.sum(0)):.1e} P={-np.trace(lab["stress"]) / 3 / GPa:7.2f}GPa '
                f'iter={lab["niter"]} {lab["seconds"]:.0f}s')
        world.barrier()
        n_new += 1
        if args.limit and n_new >= args.limit:
            break
    log(f'finished: {n_new} new frames')


if __name__ == '__main__':
    main()
