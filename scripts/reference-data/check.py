#!/usr/bin/python3
"""Self-test of the classical-reference data sets (data/si-sw, data/cu-eam).

    /usr/bin/python3 scripts/reference-data/check.py [si-sw] [cu-eam]

1. Format: every frame of {train,valid,test}.xyz is read back with a strict reader of the rules in
   docs/extxyz.md (counts, 7 columns, Lattice, stress 3x3, pbc, provenance keys), ids are unique, each
   frame is in the split that the hash rule gives it, and per-category counts are printed.
2. Labels: every frame is labelled again by LAMMPS from the positions in the file; energies, forces
   and stresses must agree to the written precision.
3. Finite differences: on a sheared (triclinic) frame, a liquid frame and a slab frame,
   F = -dE/dx by central differences (h = 1e-4 Å) and sigma_ab = (1/V) dE/deps_ab (eps = 1e-5),
   against the labels in the file.
4. Sign: a perfect crystal compressed by 3 % must have LAMMPS pressure > 0 and ASE stress < 0,
   and the reverse when stretched.
5. Physics, for the record: E/atom of the crystal, vacancy/interstitial formation and (100) surface
   energies, mean coordination of crystal and liquid snapshots.
Exit status 1 when a check fails.
"""
import collections
import math
import os
import shlex
import sys
import tempfile
import shutil

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refdata  # noqa: E402

SPLITS = ('train', 'valid', 'test')
REQUIRED = ('config_type', 'frame_id', 'reference', 'potential_sha256', 'generator', 'seed')
failures = []


def check(ok, what):
    print(f'  [{"ok" if ok else "FAIL"}] {what}')
    if not ok:
        failures.append(what)


def read_xyz(path, symbol):
    """Strict reader for the subset of extended XYZ the generator writes (see docs/extxyz.md)."""
    frames = []
    lines = open(path).read().splitlines()
    i = 0
    while i < len(lines):
        where = f'{path}:{i + 1}'
        n = int(lines[i])
        assert 8 <= n <= 64, f'{where}: {n} atoms'
        info = {}
        for tok in shlex.split(lines[i + 1]):
            k, v = tok.split('=', 1)
            assert k not in info, f'{where}: key {k} twice'
            info[k] = v
        assert info.pop('Properties') == 'species:S:1:pos:R:3:forces:R:3', where
        assert info.pop('pbc') == 'T T T', where
        cell = np.array([float(x) for x in info.pop('Lattice').split()]).reshape(3, 3)
        stress = np.array([float(x) for x in info.pop('stress').split()]).reshape(3, 3)
        energy = float(info.pop('energy'))
        for k in REQUIRED:
            assert k in info, f'{where}: no {k}'
        rows = [lines[i + 2 + k].split() for k in range(n)]
        assert all(len(r) == 7 and r[0] == symbol for r in rows), f'{where}: atom lines'
        a = np.array([[float(x) for x in r[1:]] for r in rows])
        assert np.isfinite(a).all() and np.isfinite(cell).all() and np.isfinite(stress).all() and math.isfinite(energy)
        assert abs(np.linalg.det(cell)) > 1.0, f'{where}: singular cell'
        frames.append(dict(cell=cell, pos=a[:, :3], forces=a[:, 3:], energy=energy, stress=stress, info=info))
        i += 2 + n
        while i < len(lines) and not lines[i].strip():
            i += 1
    return frames


def coordination(f, rc):
    """Mean number of neighbours within rc (minimum image; rc is below half of every cell width)."""
    inv = np.linalg.inv(f['cell'])
    d = f['pos'][:, None, :] - f['pos'][None, :, :]
    frac = d @ inv
    frac -= np.round(frac)
    r = np.linalg.norm(frac @ f['cell'], axis=-1)
    return ((r < rc).sum() - len(r)) / len(r)


def fd_frames(f, atoms, h, eps):
    """Displaced copies (atom a, direction c, +-h) and strained copies (lower-triangular d = I + eps E_ab,
    a >= b: keeps LAMMPS's cell form; dE/deps = V sigma_ab since the rotation part costs nothing)."""
    out = []
    for a in atoms:
        for c in range(3):
            for sgn in (1, -1):
                p = f['pos'].copy()
                p[a, c] += sgn * h
                out.append(dict(cell=f['cell'], pos=p))
    comps = [(0, 0), (1, 1), (2, 2), (1, 0), (2, 0), (2, 1)]
    for a, b in comps:
        for sgn in (1, -1):
            d = np.eye(3)
            d[a, b] += sgn * eps
            out.append(dict(cell=f['cell'] @ d, pos=f['pos'] @ d))
    return out, comps


def check_system(name, work):
    s = refdata.SYSTEMS[name]
    print(f'== {name}')
    data = {sp: read_xyz(os.path.join(refdata.ROOT, 'data', name, f'{sp}.xyz'), s['symbol']) for sp in SPLITS}
    frames = [f for sp in SPLITS for f in data[sp]]
    ids = [f['info']['frame_id'] for f in frames]
    check(len(set(ids)) == len(ids), f'format: {len(frames)} frames read back '
          f'({", ".join(f"{sp} {len(data[sp])}" for sp in SPLITS)}), frame ids unique')
    rule = refdata.split_of(frames)
    check(all(rule[f['info']['frame_id']] == sp for sp in SPLITS for f in data[sp]),
          'every frame is in the split its seeded hash gives')
    counts = collections.defaultdict(collections.Counter)
    for sp in SPLITS:
        for f in data[sp]:
            counts[f['info']['config_type']][sp] += 1
    print('     ' + ', '.join(f'{c} {sum(v.values())} ({v["train"]}/{v["valid"]}/{v["test"]})' for c, v in counts.items()))
    net = max(np.abs(f['forces'].sum(0)).max() for f in frames)
    check(net < 1e-5, f'net force per frame <= {net:.1e} eV/Å (translation invariance)')
    asym = max(np.abs(f['stress'] - f['stress'].T).max() for f in frames)
    check(asym < 1e-12, f'stress symmetric (max |s_ab - s_ba| = {asym:.1e})')

    # 2. relabel everything from the file's positions
    lab = refdata.label(s, frames, work)
    de = max(abs(l['energy'] - f['energy']) for f, l in zip(frames, lab))
    dF = max(np.abs(l['forces'] - f['forces']).max() for f, l in zip(frames, lab))
    dS = max(np.abs(l['stress'] - f['stress']).max() for f, l in zip(frames, lab))
    check(de < 1e-7 and dF < 1e-7 and dS < 1e-12, f'relabelled from the file: max |dE| {de:.1e} eV, '
          f'|dF| {dF:.1e} eV/Å, |dstress| {dS:.1e} eV/Å^3')

    # 3. finite differences
    picks = [next(f for f in frames if f['info']['config_type'] == 'shear' and len(f['pos']) <= 16),
             next(f for f in frames if f['info']['config_type'] == 'liquid'),
             next(f for f in frames if f['info']['config_type'] == 'surface_100' and 'temperature' in f['info'])]
    h, eps = 1e-4, 1e-5
    jobs, spans = [], []
    for k, f in enumerate(picks):
        atoms = range(len(f['pos'])) if k == 0 else range(4)
        fr, comps = fd_frames(f, atoms, h, eps)
        spans.append((f, atoms, comps, len(jobs), len(fr)))
        jobs += fr
    E = [l['energy'] for l in refdata.label(s, jobs, work)]
    for f, atoms, comps, start, n in spans:
        e = E[start:start + n]
        fd = np.array([-(e[2 * j] - e[2 * j + 1]) / (2 * h) for j in range(3 * len(atoms))]).reshape(-1, 3)
        ferr = np.abs(fd - f['forces'][list(atoms)]).max()
        V = abs(np.linalg.det(f['cell']))
        o = 6 * len(atoms)
        sfd = [(e[o + 2 * j] - e[o + 2 * j + 1]) / (2 * eps) / V for j in range(len(comps))]
        serr = max(abs(v - f['stress'][a, b]) for v, (a, b) in zip(sfd, comps))
        smax = np.abs(f['stress']).max()
        check(ferr < 2e-6 and serr < 1e-7,
              f'finite differences, {f["info"]["frame_id"]} ({len(f["pos"])} atoms): '
              f'forces of {len(atoms)} atoms max err {ferr:.1e} eV/Å (max |F| {np.abs(f["forces"]).max():.2f}); '
              f'6 stress comps max err {serr:.1e} eV/Å^3 (max |stress| {smax:.1e})')

    # 4. sign of the stress on a perfect crystal, compressed and stretched by 3 %
    sign = []
    for eps in (-0.03, 0.03):
        cell, pos = refdata.crystal(s, s['small'][0], s['a'] * (1 + eps))
        sign.append(refdata.label(s, [refdata.frame(cell, pos)], work)[0])
    (c, t) = sign
    check(c['pressure_bar'][0, 0] > 0 and (np.diag(c['stress']) < 0).all()
          and t['pressure_bar'][0, 0] < 0 and (np.diag(t['stress']) > 0).all(),
          f'sign: compressed 3 %: LAMMPS pxx = {c["pressure_bar"][0, 0]:+.0f} bar, ASE stress_xx = '
          f'{c["stress"][0, 0]:+.5f} eV/Å^3; stretched 3 %: pxx = {t["pressure_bar"][0, 0]:+.0f} bar, '
          f'stress_xx = {t["stress"][0, 0]:+.5f} eV/Å^3')

    # 5. physics, for the record
    by_id = {f['info']['frame_id']: f for f in frames}
    e0 = by_id[f'{name}/strain_hydrostatic/005']['energy'] / len(by_id[f'{name}/strain_hydrostatic/005']['pos'])
    ev = by_id[f'{name}/vacancy/001']
    ei = by_id[f'{name}/interstitial/001']
    sl = by_id[f'{name}/surface_100/001']
    area = abs(np.linalg.det(sl['cell'][:2, :2]))
    gamma = (sl['energy'] - len(sl['pos']) * e0) / (2 * area) * 16.021766   # eV/Å^2 -> J/m^2
    rc = 2.9 if s['symbol'] == 'Si' else 3.0
    cn = {c: np.mean([coordination(f, rc) for f in frames if f['info']['config_type'] == c])
          for c in ('md_crystal', 'md_near_melting', 'liquid')}
    print(f'     E/atom of the perfect crystal {e0:.4f} eV; relaxed vacancy formation '
          f'{ev["energy"] - len(ev["pos"]) * e0:.3f} eV; relaxed {ei["info"]["site"]} interstitial '
          f'{ei["energy"] - len(ei["pos"]) * e0:.3f} eV; relaxed (100) surface {gamma:.3f} J/m^2')
    print('     mean coordination (r < %.1f Å): ' % rc + ', '.join(f'{c} {v:.2f}' for c, v in cn.items()))


def main(argv):
    work = tempfile.mkdtemp(prefix='facet-refdata-check-')
    try:
        for name in argv or list(refdata.SYSTEMS):
            check_system(name, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f'self-test: {"all checks passed" if not failures else f"{len(failures)} FAILED"}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
