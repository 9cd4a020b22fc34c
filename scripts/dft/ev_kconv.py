"""k-point convergence of the E(V) reference cells of the metallic phases (docs/dft-data.md, "The metallic phases
and the slabs"): one E(V) cell per phase, near its minimum, at several k-point densities, each on the mesh that
reference.py gives the phase's E(V) at that density (that of its guess cell), against the densest.

    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/dft/ev_kconv.py [--kdens 4 6 8 10 12]    # ~15 min on one core
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refprops as RP  # noqa: E402
from dftcommon import label  # noqa: E402
from reference import ev_mesh  # noqa: E402

SETTINGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'si-pbe', 'settings.json')
CELLS = (('beta-tin', 1.0), ('sh', 1.078))  # volume scales of the E(V) grids, next to the minima


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--kdens', type=float, nargs='+', default=[4, 6, 8, 10, 12], help='k-point densities (Å)')
    kdens = sorted(ap.parse_args().kdens)
    s = json.load(open(SETTINGS))
    print('| phase | volume scale | k-density (Å⁻¹) | k-mesh | E − E(densest) (meV/atom) | s |')
    print('|---|---|---|---|---|---|')
    for phase, scale in CELLS:
        v_guess, ca = RP.phase_guess()[phase]
        rows = []
        for kd in kdens:
            atoms = RP.phase_cell(phase, v_guess * scale, ca)
            mesh = ev_mesh(phase, kd)
            r = label(atoms, s['ecut'], kd, s['width'], s['smearing'], kpts=mesh)
            rows.append((kd, mesh, r['energy'] / len(atoms), r['seconds']))
        for kd, mesh, e, sec in rows:
            print(f'| {phase} | {scale:g} | {kd:g} | {"×".join(map(str, mesh))} | {1000 * (e - rows[-1][2]):+.2f} '
                  f'| {sec:.0f} |', flush=True)


if __name__ == '__main__':
    main()
