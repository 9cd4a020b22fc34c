"""Convergence study of the PBE settings (cutoff, k-point density, smearing) for the Si data set.

Run (≈30 min on 2 busy cores; results are cached in data/si-pbe/convergence.json):
    nice -n 19 mpirun -np 2 /usr/bin/python3 scripts/dft/convergence.py      # compute (resumable)
    /usr/bin/python3 scripts/dft/convergence.py --report                     # table + settings.json

One parameter is scanned at a time around BASE (SCAN_BASE overrides it per scan); the reference
of each scan is its last, most accurate point (highest cutoff, densest k-mesh, smallest width).
The chosen value is the cheapest one whose errors stay within TOL for every test cell; the
settings go to data/si-pbe/settings.json, which scripts/dft/generate reads.
"""
import json
import os
import sys

import numpy as np
from ase import Atoms
from ase.build import bulk

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dftcommon import A0_PBE, label, stress_gpa  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'data', 'si-pbe')
RESULTS = os.path.join(OUT, 'convergence.json')
BASE = dict(ecut=300.0, kdens=2.0, smearing='fermi-dirac', width=0.1)
# Each scan's last value is its reference. Smearing: Fermi-Dirac and Marzari-Vanderbilt (cold)
# widths against Fermi-Dirac 0.02 eV, the closest to the unsmeared limit tried.
FD, MV = 'fermi-dirac', 'marzari-vanderbilt'
SCANS = {'ecut': [250.0, 300.0, 350.0, 400.0, 500.0],
         'kdens': [1.5, 2.0, 3.0, 4.0],
         'smearing': [(FD, 0.2), (FD, 0.1), (FD, 0.05), (MV, 0.2), (MV, 0.1), (FD, 0.02)]}
# The smearing scan runs on a finer k-mesh than BASE: on the 3x3x3 mesh the rattled cell has
# states near the Fermi level that exist only because of the coarse sampling.
SCAN_BASE = {'smearing': dict(kdens=3.0)}
TOL = dict(energy=1e-3, forces=1e-2, stress=0.5)  # eV/atom, eV/Å, GPa


def test_cells():
    rng = np.random.RandomState(42)
    rattled = bulk('Si', 'diamond', A0_PBE, cubic=True)
    rattled.positions += rng.normal(0, 0.1, rattled.positions.shape)
    # Strained: -4% volume with a 5% shear, plus a small rattle so forces are non-trivial.
    strained = bulk('Si', 'diamond', A0_PBE, cubic=True)
    eps = np.array([[-0.02, 0.05, 0.0], [0.05, -0.01, 0.0], [0.0, 0.0, -0.01]])
    strained.set_cell(strained.cell @ (np.eye(3) + eps), scale_atoms=True)
    strained.positions += rng.normal(0, 0.03, strained.positions.shape)
    # Metallic beta-tin (4-atom tetragonal cell): the hardest case for k-points and smearing.
    a, c = 4.82, 2.66
    btin = Atoms('Si4', cell=[a, a, c], pbc=True,
                 scaled_positions=[[0, 0, 0], [0, .5, .25], [.5, .5, .5], [.5, 0, .75]])
    btin.positions += rng.normal(0, 0.03, btin.positions.shape)
    return {'rattled-8': rattled, 'strained-8': strained, 'beta-tin-4': btin}


def setting(scan, v):
    s = {**BASE, **SCAN_BASE.get(scan, {})}
    s.update(dict(zip(('smearing', 'width'), v)) if scan == 'smearing' else {scan: v})
    return s


def fmt(scan, v):
    return f'{v[0]} {v[1]:g}' if scan == 'smearing' else f'{v:g}'


def points():
    """All (scan, value, settings) points; points shared between scans are computed once."""
    for scan, values in SCANS.items():
        for v in values:
            yield scan, v, setting(scan, v)


def key(name, s):
    mv = '|mv' if s['smearing'] == MV else ''
    return f"{name}|{s['ecut']:g}|{s['kdens']:g}|{s['width']:g}{mv}"


def compute():
    from gpaw.mpi import world
    res = json.load(open(RESULTS)) if os.path.exists(RESULTS) else {}
    for name, atoms0 in test_cells().items():
        for scan, v, s in points():
            k = key(name, s)
            if k in res:
                continue
            atoms = atoms0.copy()
            lab = label(atoms, s['ecut'], s['kdens'], s['width'], s['smearing'])
            res[k] = dict(natoms=len(atoms), energy=lab['energy'], forces=lab['forces'].tolist(),
                          stress=stress_gpa(lab['stress']).tolist(), seconds=lab['seconds'],
                          kgrid=lab['kgrid'])
            if world.rank == 0:
                print(f"{k:32s} E/N={lab['energy'] / len(atoms):.5f} grid={lab['kgrid']} "
                      f"{lab['seconds']:.0f}s", flush=True)
                with open(RESULTS + '.tmp', 'w') as f:
                    json.dump(res, f, indent=0)
                os.replace(RESULTS + '.tmp', RESULTS)
            world.barrier()


def errors(r, ref):
    return dict(energy=abs(r['energy'] - ref['energy']) / r['natoms'],
                forces=float(np.abs(np.subtract(r['forces'], ref['forces'])).max()),
                stress=float(np.abs(np.subtract(r['stress'], ref['stress'])).max()))


def report():
    res = json.load(open(RESULTS))
    names = list(test_cells())
    chosen = {}
    # Also the error of the energy relative to the rattled cell (per atom): systematic errors that
    # cancel there do not affect a potential fitted to many configurations.
    print('| scan | value | cell | k-grid | ΔE (meV/atom) | Δ(E−E_rattled) (meV/atom) '
          '| max ΔF (meV/Å) | max Δσ (GPa) | time (s) |')
    print('|---|---|---|---|---|---|---|---|---|')
    for scan, values in SCANS.items():
        ref_v = values[-1]
        ok = {}
        for v in values:
            s = setting(scan, v)
            ok[v] = True
            for n in names:
                if key(n, s) not in res or key(n, setting(scan, ref_v)) not in res:
                    ok[v] = False  # not computed yet (--report on a partial run)
                    continue
                r, ref = res[key(n, s)], res[key(n, setting(scan, ref_v))]
                e = errors(r, ref)
                ok[v] &= all(e[q] <= TOL[q] for q in TOL)
                r0, ref0 = res[key(names[0], s)], res[key(names[0], setting(scan, ref_v))]
                rel = ((r['energy'] - ref['energy']) / r['natoms']
                       - (r0['energy'] - ref0['energy']) / r0['natoms'])
                print(f"| {scan} | {fmt(scan, v)} | {n} | {'x'.join(map(str, r['kgrid']))} | "
                      f"{1e3 * e['energy']:.2f} | {'' if n == names[0] else f'{1e3 * abs(rel):.2f}'} | "
                      f"{1e3 * e['forces']:.1f} | {e['stress']:.3f} | "
                      f"{r['seconds']:.0f} |")
        # cheapest passing value: lowest cutoff / k-density; largest smearing width (fastest
        # k-point convergence and most robust SCF), cold smearing preferred at equal width
        passing = [v for v in values if ok[v]]
        if scan == 'smearing':
            chosen[scan] = max(passing, key=lambda v: (v[1], v[0] == MV)) if passing else None
        else:
            chosen[scan] = min(passing) if passing else None
    if None in chosen.values():
        sys.exit('incomplete study: settings.json not written')
    settings = dict(xc='PBE', ecut=chosen['ecut'], kdens=chosen['kdens'],
                    smearing=chosen['smearing'][0], width=chosen['smearing'][1],
                    tolerances=TOL, base=BASE, scan_base=SCAN_BASE)
    print('\nchosen:', json.dumps(settings))
    path = os.path.join(OUT, 'settings.json')
    if os.path.exists(path):  # the per-category overrides come from the label check (docs/dft-data.md), not from here
        settings.update({k: v for k, v in json.load(open(path)).items() if k == 'overrides'})
    with open(path, 'w') as f:
        json.dump(settings, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    report() if '--report' in sys.argv else compute()
