#!/usr/bin/python3
"""Classical-reference training data for facet: configurations labelled by LAMMPS reference potentials.

    /usr/bin/python3 scripts/reference-data/refdata.py [si-sw] [cu-eam]

(normally through scripts/reference-data/generate, which sets up LAMMPS and runs the self-test).

Pipeline, per system: build the static configurations here (strained, sheared, rattled, defects, slab),
relax the defects and the slab with LAMMPS, run the MD trajectories with LAMMPS (positions only), then
label *every* frame in one LAMMPS pass (label.lmp) from exactly the rounded positions and cell that are
written to the extended-XYZ files -- so labels and coordinates can never disagree, whatever produced
the coordinates. Finally the frames are dealt into train/valid/test by a seeded hash of their id.

Everything random comes from numpy generators seeded by a hash of (SEED, name of the category), and
LAMMPS runs serially with fixed velocity seeds: re-running gives byte-identical files (on the same
LAMMPS binary).
"""
import collections
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
LMP_INPUTS = os.path.join(HERE, 'lammps')

SEED = 'facet-reference-data-v1'   # change it (and say so in the docs) to draw a different data set
SPLIT_PATTERN = ['train'] * 8 + ['valid', 'test']   # dealt in hash order within each stratum: 80/10/10
NKTV2P = 1.6021765e6   # LAMMPS metal units: pressure in bar = (eV/Å^3) * NKTV2P (force->nktv2p)
DECIMALS = 8           # positions, cell, forces and energy are written with 8 decimals (Å, eV/Å, eV)

# Conventional cubic cells, fractional coordinates.
FCC = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
DIAMOND = np.vstack([FCC, FCC + 0.25])

# Everything that differs between the two systems. Cells are repetitions of the conventional cube
# (Si: 8 atoms, Cu: 4 atoms), chosen so that every frame has 8-64 atoms.
SYSTEMS = {
    'si-sw': dict(
        symbol='Si', mass=28.0855, basis=DIAMOND, a=5.431,
        pair='pair-si-sw.lmp', potential='Si.sw', pair_style='sw',
        bulk=(2, 2, 2),                               # 64 atoms: MD
        defect_host='primitive 3 3 3',                 # 54 atoms: 53 with the vacancy, 55 with the interstitial
        small=[(1, 1, 1), (2, 1, 1), (2, 2, 2)],       # 8, 16, 64 atoms: shear and rattle
        md_T=[300, 600, 1000, 1400],
        near_melt_T=1650,                              # SW Si melts at ~1690 K
        melt_T=3500, liquid_T=[1800, 2500],            # melt hot, then sample above T_m
        defect_T=1000, slab_T=800,
        interstitial=('tetrahedral', [0.5, 0.5, 0.5]),  # T site: 4 neighbours at the bond length
        slab=(2, 2, 2),                                # 2x2 (100) faces, 8 atomic layers, 64 atoms
    ),
    'cu-eam': dict(
        symbol='Cu', mass=63.546, basis=FCC, a=3.615,
        pair='pair-cu-eam.lmp', potential='Cu_mishin1.eam.alloy', pair_style='eam/alloy',
        bulk=(2, 2, 2),                               # 32 atoms
        defect_host='cubic 2 2 2',                     # 32 atoms: 31 and 33
        small=[(2, 1, 1), (2, 2, 1), (2, 2, 2)],       # 8, 16, 32 atoms
        md_T=[300, 600, 1000, 1400],                   # 1400 K: superheated crystal in a 32-atom cell
        near_melt_T=1250,                              # Mishin Cu melts at ~1330 K
        melt_T=2500, liquid_T=[1500, 2000],
        defect_T=800, slab_T=600,
        interstitial=('octahedral', [0.5, 0.5, 0.5]),  # relaxes towards the <100> dumbbell
        slab=(2, 2, 3),                                # 2x2 (100) faces, 6 atomic layers, 48 atoms
        strain_normal=True,                            # + uniaxial/tetragonal strains (C11, C12, C')
    ),
}
VACUUM = 12.0            # Å of vacuum above the (100) slabs (pbc stays T T T)
MD = dict(nequil=2000, every=200, nsample=16)        # bulk MD: 2 ps equilibration, 16 frames 0.2 ps apart
LIQUID = dict(nhot=6000, nequil=2000, every=200, nsample=12)
DEFECT_MD = dict(nequil=1000, every=200, nsample=10)


def rng(*name):
    """A numpy generator seeded by (SEED, name): categories draw independently of each other."""
    h = hashlib.sha256(':'.join((SEED,) + tuple(str(n) for n in name)).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], 'little'))


def lammps_seed(*name):
    h = hashlib.sha256(':'.join((SEED, 'lammps') + tuple(str(n) for n in name)).encode()).digest()
    return 1 + int.from_bytes(h[:4], 'little') % 900000000


# ----------------------------------------------------------------------------------------------
# Structures. A frame is a dict: cell (3x3, lattice vectors as rows, lower triangular as LAMMPS
# needs: a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz)), pos (N x 3, Å), info (provenance, in order).

def frame(cell, pos, **info):
    """Wraps the atoms into the cell and rounds cell and positions to the written precision, so that
    what LAMMPS labels is exactly what the extended-XYZ file says."""
    cell = np.round(np.asarray(cell, float), DECIMALS) + 0.0
    assert abs(cell[0, 1]) + abs(cell[0, 2]) + abs(cell[1, 2]) == 0.0, 'cell must be lower triangular'
    # LAMMPS (29Sep2021, without 'box tilt large') refuses tilts beyond half the box length.
    assert max(abs(cell[1, 0]), abs(cell[2, 0])) <= cell[0, 0] / 2 and abs(cell[2, 1]) <= cell[1, 1] / 2, 'tilt too large'
    frac = np.asarray(pos, float) @ np.linalg.inv(cell)
    frac -= np.floor(frac)
    return dict(cell=cell, pos=np.round(frac @ cell, DECIMALS) + 0.0, info=info)


def crystal(s, reps, a=None):
    """Perfect crystal: reps = (nx, ny, nz) conventional cubes of lattice constant a."""
    a = s['a'] if a is None else a
    shifts = np.array([(i, j, k) for i in range(reps[0]) for j in range(reps[1]) for k in range(reps[2])])
    frac = (shifts[:, None, :] + s['basis'][None, :, :]).reshape(-1, 3) / np.array(reps)
    cell = np.diag(np.array(reps, float) * a)
    return cell, frac @ cell


def primitive_crystal(s, n):
    """n x n x n supercell of the fcc primitive cell (vectors a/2 (0,1,1), (1,0,1), (1,1,0)), turned
    into LAMMPS's lower-triangular form: the most compact cell for a given number of atoms, so defects
    are farthest from their images (Si: 3x3x3 = 54 atoms, images 11.5 Å apart)."""
    a = s['a']
    prim = 0.5 * a * np.array([[0., 1, 1], [1, 0, 1], [1, 1, 0]])
    basis = s['basis'][::4]                     # diamond: (0,0,0), (1/4,1/4,1/4); fcc: (0,0,0)
    shifts = np.array([(i, j, k) for i in range(n) for j in range(n) for k in range(n)], float)
    pos = ((shifts @ prim)[:, None, :] + (basis * a)[None, :, :]).reshape(-1, 3)
    return prim * n, pos


def to_lower_triangular(cell, pos):
    """Rotates a cell (rows) to a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz); the same rotation is applied
    to the positions. QR of cell^T: cell = R^T Q^T, with R upper triangular."""
    q, r = np.linalg.qr(cell.T)
    sgn = np.sign(np.diag(r))                   # positive lx, ly, lz
    q, r = q * sgn, (r.T * sgn).T
    return r.T, pos @ q


def deform(cell, pos, d):
    """Applies the deformation r -> r @ d (rows are vectors). A lower-triangular d keeps the cell
    lower triangular; it is a symmetric strain plus a rotation, which the energy does not see."""
    return cell @ d, pos @ d


def rattle(pos, sigma, g):
    return pos + g.normal(0.0, sigma, pos.shape)


def reps_str(reps):
    return ' '.join(str(r) for r in reps)


def static_frames(s, name):
    """Strained, sheared and rattled crystals and the unrelaxed defects and slab."""
    out = []
    # Hydrostatic strain: the E(V) curve on perfect 8-atom cells, then rattled larger cells at random
    # strains (forces and stress away from the symmetric minimum).
    for k, eps in enumerate(np.linspace(-0.05, 0.05, 11)):
        cell, pos = crystal(s, s['small'][0], s['a'] * (1 + eps))
        out.append(frame(cell, pos, config_type='strain_hydrostatic', strain=f'{eps:+.3f}', rattle='0',
                         supercell=reps_str(s['small'][0]), frame_id=f'{name}/strain_hydrostatic/{k:03d}'))
    g = rng(name, 'strain_hydrostatic')
    for k in range(12):
        eps = g.uniform(-0.05, 0.05)
        cell, pos = crystal(s, s['bulk'], s['a'] * (1 + eps))
        out.append(frame(cell, rattle(pos, 0.05, g), config_type='strain_hydrostatic', strain=f'{eps:+.4f}',
                         rattle='0.05', supercell=reps_str(s['bulk']),
                         frame_id=f'{name}/strain_hydrostatic/{11 + k:03d}'))
    # Sheared (triclinic) cells: a random lower-triangular deformation, normal strains within ±2 %
    # and tilts within ±6 %, plus a small rattle.
    g = rng(name, 'shear')
    for k in range(20):
        reps = s['small'][k % 3]
        d = np.eye(3) + np.tril(g.uniform(-0.06, 0.06, (3, 3)), -1) + np.diag(g.uniform(-0.02, 0.02, 3))
        cell, pos = deform(*crystal(s, reps), d)
        out.append(frame(cell, rattle(pos, 0.03, g), config_type='shear',
                         deformation=' '.join(f'{x:.5f}' for x in d.ravel()), rattle='0.03',
                         supercell=reps_str(reps), frame_id=f'{name}/shear/{k:03d}'))
    # Normal (diagonal) strains, for C11, C12 and the tetragonal shear C' = (C11 - C12)/2, which the
    # hydrostatic frames do not see and the sheared ones only weakly (cu-eam only, added later: a new
    # category draws from its own generator and moves no frame of the others, see split_of). Perfect
    # 8-atom crystals under uniaxial strain along x and under volume-conserving tetragonal strain
    # (1+e, 1+e, 1/(1+e)^2), then rattled cells at random diagonal strains within ±3 %.
    if s.get('strain_normal'):
        k = 0
        for e in (-0.03, -0.02, -0.01, -0.005, 0.005, 0.01, 0.02, 0.03):
            d = np.diag([1 + e, 1.0, 1.0])
            cell, pos = deform(*crystal(s, s['small'][0]), d)
            out.append(frame(cell, pos, config_type='strain_normal', deformation=' '.join(f'{x:.5f}' for x in d.ravel()),
                             rattle='0', supercell=reps_str(s['small'][0]), frame_id=f'{name}/strain_normal/{k:03d}'))
            k += 1
        for e in (-0.02, -0.01, -0.005, 0.005, 0.01, 0.02):
            d = np.diag([1 + e, 1 + e, 1 / (1 + e) ** 2])
            cell, pos = deform(*crystal(s, s['small'][0]), d)
            out.append(frame(cell, pos, config_type='strain_normal', deformation=' '.join(f'{x:.5f}' for x in d.ravel()),
                             rattle='0', supercell=reps_str(s['small'][0]), frame_id=f'{name}/strain_normal/{k:03d}'))
            k += 1
        g = rng(name, 'strain_normal')
        for j in range(10):
            reps = s['small'][j % 3]
            d = np.diag(g.uniform(-0.03, 0.03, 3))
            d += np.eye(3)
            cell, pos = deform(*crystal(s, reps), d)
            out.append(frame(cell, rattle(pos, 0.03, g), config_type='strain_normal',
                             deformation=' '.join(f'{x:.5f}' for x in d.ravel()), rattle='0.03',
                             supercell=reps_str(reps), frame_id=f'{name}/strain_normal/{k:03d}'))
            k += 1
    # Rattled crystals: Gaussian displacements (standard deviation per component) from 0.02 to 0.15 Å.
    g = rng(name, 'rattle')
    for k, sigma in enumerate(np.linspace(0.02, 0.15, 30)):
        reps = s['small'][k % 3]
        cell, pos = crystal(s, reps)
        out.append(frame(cell, rattle(pos, sigma, g), config_type='rattle', rattle=f'{sigma:.4f}',
                         supercell=reps_str(reps), frame_id=f'{name}/rattle/{k:03d}'))
    return out


def defect_cells(s, name):
    """The unrelaxed vacancy, interstitial and (100) slab, as (category, frame) pairs."""
    kind, *reps = s['defect_host'].split()
    if kind == 'primitive':
        cell, pos = primitive_crystal(s, int(reps[0]))
    else:
        cell, pos = crystal(s, tuple(int(r) for r in reps))
    site, where = s['interstitial']
    # Add the interstitial before any rotation: its site is given in the cubic axes.
    ipos = np.vstack([pos, np.array(where) * s['a']])
    cell, (pos, ipos) = to_lower_triangular(cell, pos)[0], [to_lower_triangular(cell, p)[1] for p in (pos, ipos)]
    slab_cell, slab_pos = crystal(s, s['slab'])
    # Slab: the same atoms in a cell that is VACUUM longer along z, shifted off the boundary.
    slab_cell[2, 2] += VACUUM
    slab_pos = slab_pos + [0.0, 0.0, VACUUM / 2]
    return [
        ('vacancy', frame(cell, pos[1:], config_type='vacancy', supercell=s['defect_host'])),
        ('interstitial', frame(cell, ipos, config_type='interstitial', site=site, supercell=s['defect_host'])),
        ('surface_100', frame(slab_cell, slab_pos, config_type='surface_100', vacuum=f'{VACUUM:.1f}',
                              supercell=reps_str(s['slab']))),
    ]


# ----------------------------------------------------------------------------------------------
# LAMMPS

def lammps_env():
    lmp = os.environ.get('FACET_LMP')
    src = os.environ.get('LAMMPS_SOURCE_DIR')
    if not lmp or not src:
        sys.exit('refdata.py: FACET_LMP and LAMMPS_SOURCE_DIR must be set (source ~/.cache/facet-lammps/env.sh)')
    return lmp, os.path.normpath(os.path.join(src, '..', 'potentials'))


def lammps_version(lmp):
    """'29 Sep 2021 - Update 2', from the banner of `lmp -h`."""
    out = subprocess.run([lmp, '-h'], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if 'Large-scale Atomic/Molecular' in line:
            return line.split(' - ', 1)[1].strip()
    return 'unknown'


def run_lammps(script, work, tag, **var):
    lmp, potdir = lammps_env()
    log = os.path.join(work, tag + '.log')
    cmd = [lmp, '-nocite', '-screen', 'none', '-log', log, '-in', os.path.join(LMP_INPUTS, script),
           '-var', 'potdir', potdir]
    for k, v in var.items():
        cmd += ['-var', k, str(v)]
    env = dict(os.environ, OMP_NUM_THREADS='1')   # the machine is shared: one thread, always
    r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        tail = open(log).read()[-3000:] if os.path.exists(log) else ''
        sys.exit(f'LAMMPS failed ({script}, {tag}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}\n--- {log}:\n{tail}')


def write_data(path, f, mass):
    # repr() is the shortest text that reads back to the same double: LAMMPS sees exactly our numbers
    # (the rounded ones of the data set, or the unrounded displaced frames of check.py).
    c, pos = f['cell'], f['pos']
    r = lambda x: repr(float(x))
    lines = ['facet reference data frame\n', f'{len(pos)} atoms', '1 atom types',
             f'0.0 {r(c[0, 0])} xlo xhi', f'0.0 {r(c[1, 1])} ylo yhi', f'0.0 {r(c[2, 2])} zlo zhi']
    if c[1, 0] or c[2, 0] or c[2, 1]:
        lines.append(f'{r(c[1, 0])} {r(c[2, 0])} {r(c[2, 1])} xy xz yz')
    lines += ['', 'Masses', '', f'1 {mass}', '', 'Atoms # atomic', '']
    lines += [f'{i + 1} 1 {r(x)} {r(y)} {r(z)}' for i, (x, y, z) in enumerate(pos)]
    with open(path, 'w') as out:
        out.write('\n'.join(lines) + '\n')


def read_dump(path):
    """All snapshots of a LAMMPS custom dump (id x y z, sorted by id) as (step, cell, pos)."""
    snaps = []
    with open(path) as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        step = int(lines[i + 1])
        n = int(lines[i + 3])
        tri = 'xy' in lines[i + 4]
        b = np.array([[float(x) for x in lines[i + 5 + k].split()] for k in range(3)])
        xy, xz, yz = (b[0, 2], b[1, 2], b[2, 2]) if tri else (0.0, 0.0, 0.0)
        # The dump gives the bounding box of a tilted cell; undo that to get lo/hi.
        xlo = b[0, 0] - min(0.0, xy, xz, xy + xz)
        xhi = b[0, 1] - max(0.0, xy, xz, xy + xz)
        ylo, yhi = b[1, 0] - min(0.0, yz), b[1, 1] - max(0.0, yz)
        zlo, zhi = b[2, 0], b[2, 1]
        cell = np.array([[xhi - xlo, 0, 0], [xy, yhi - ylo, 0], [xz, yz, zhi - zlo]])
        rows = np.array([[float(x) for x in lines[i + 9 + k].split()] for k in range(n)])
        assert (rows[:, 0] == np.arange(1, n + 1)).all()
        snaps.append((step, cell, rows[:, 1:4] - [xlo, ylo, zlo]))
        i += 9 + n
    return snaps


def relax(s, f, work, tag):
    write_data(os.path.join(work, tag + '.data'), f, s['mass'])
    run_lammps('relax.lmp', work, tag, data=tag + '.data', pair=os.path.join(LMP_INPUTS, s['pair']),
               dump=tag + '.dump')
    _, cell, pos = read_dump(os.path.join(work, tag + '.dump'))[-1]
    return frame(cell, pos, **f['info'])


def md(s, start, work, tag, temp, npt, nequil, every, nsample, thot=None, nhot=0):
    """One trajectory; returns its last nsample snapshots as (time in ps, cell, pos)."""
    write_data(os.path.join(work, tag + '.data'), start, s['mass'])
    run_lammps('md.lmp', work, tag, data=tag + '.data', pair=os.path.join(LMP_INPUTS, s['pair']),
               npt=int(npt), thot=thot or temp, nhot=nhot, temp=temp, nequil=nequil, every=every,
               nsample=nsample, seed=lammps_seed(tag), dump=tag + '.dump')
    snaps = read_dump(os.path.join(work, tag + '.dump'))[-nsample:]
    return [(step * 0.001, cell, pos) for step, cell, pos in snaps]   # 1 fs steps, counted from the start


def label(s, frames, work):
    """Energy (eV), forces (eV/Å), ASE stress (eV/Å^3) and LAMMPS virial pressure (bar) of each frame,
    in one LAMMPS run."""
    d = tempfile.mkdtemp(prefix='label-', dir=work)
    for i, f in enumerate(frames, 1):
        write_data(os.path.join(d, f'f{i}.data'), f, s['mass'])
    run_lammps('label.lmp', d, 'label', dir='.', n=len(frames), pair=os.path.join(LMP_INPUTS, s['pair']))
    rows = {}
    for line in open(os.path.join(d, 'labels.txt')):
        w = line.split()
        rows[int(w[0])] = [float(x) for x in w[1:]]
    out = []
    for i, f in enumerate(frames, 1):
        e, pxx, pyy, pzz, pxy, pxz, pyz = rows[i]
        p = np.array([[pxx, pxy, pxz], [pxy, pyy, pyz], [pxz, pyz, pzz]])
        # LAMMPS: P = W/V (virial W = sum r (x) F, positive when pushed apart), in bar.
        # ASE:    stress = (1/V) dE/d(strain) = -W/V, in eV/Å^3; positive = tensile.
        stress = -p / NKTV2P
        forces = read_dump_forces(os.path.join(d, f'f{i}.forces'), len(f['pos']))
        out.append(dict(energy=e, forces=forces, stress=stress, pressure_bar=p))
    shutil.rmtree(d)
    return out


def read_dump_forces(path, n):
    with open(path) as fh:
        rows = np.array([[float(x) for x in line.split()] for line in fh.read().splitlines()[9:9 + n]])
    assert (rows[:, 0] == np.arange(1, n + 1)).all()
    return rows[:, 1:4]


# ----------------------------------------------------------------------------------------------
# Extended XYZ

def quote(v):
    v = str(v)
    return f'"{v}"' if (' ' in v or v == '') else v


def xyz_text(s, f, lab):
    c, pos = f['cell'], f['pos']
    fmt = f'.{DECIMALS}f'
    head = [f'Lattice="{" ".join(format(x, fmt) for x in c.ravel())}"',
            'Properties=species:S:1:pos:R:3:forces:R:3',
            f'energy={lab["energy"]:{fmt}}',
            f'stress="{" ".join(format(x + 0.0, ".12e") for x in lab["stress"].ravel())}"',
            'pbc="T T T"']
    head += [f'{k}={quote(v)}' for k, v in f['info'].items()]
    lines = [str(len(pos)), ' '.join(head)]
    for r, F in zip(pos, np.round(lab['forces'], DECIMALS) + 0.0):   # + 0.0: no '-0.00000000'
        lines.append(f'{s["symbol"]:2s} ' + ' '.join(f'{x:13{fmt}}' for x in r) + ' '
                     + ' '.join(f'{x:13{fmt}}' for x in F))
    return '\n'.join(lines) + '\n'


def split_of(frames):
    """Split by a seeded hash of the frame id: within each stratum (category and temperature) the
    frames are ordered by sha256(SEED:frame_id) and dealt train x8, valid, test. Every category so
    reaches every split, and a frame's split depends only on the ids of its stratum."""
    strata = collections.defaultdict(list)
    for f in frames:
        strata[(f['info']['config_type'], f['info'].get('temperature', ''))].append(f['info']['frame_id'])
    split = {}
    for ids in strata.values():
        ids.sort(key=lambda t: hashlib.sha256(f'{SEED}:split:{t}'.encode()).hexdigest())
        for k, fid in enumerate(ids):
            split[fid] = SPLIT_PATTERN[k % len(SPLIT_PATTERN)]
    return split


# ----------------------------------------------------------------------------------------------

def generate(name, work):
    s = SYSTEMS[name]
    t0 = time.time()
    lmp, potdir = lammps_env()
    pot_sha = hashlib.sha256(open(os.path.join(potdir, s['potential']), 'rb').read()).hexdigest()[:16]
    reference = f'LAMMPS {lammps_version(lmp)} pair_style {s["pair_style"]} {s["potential"]}'
    frames = static_frames(s, name)

    # Defects and slab: unrelaxed, relaxed (CG at fixed cell), then NVT snapshots from the relaxed one.
    for cat, f in defect_cells(s, name):
        f['info'].update(relaxed='F', frame_id=f'{name}/{cat}/000')
        # A 0.02 Å rattle first: from the symmetric start CG would keep the symmetry and stay on a
        # saddle (Cu octahedral interstitial instead of the <100> dumbbell; unpaired Si vacancy bonds).
        start = frame(f['cell'], rattle(f['pos'], 0.02, rng(name, cat, 'relax')), **f['info'])
        r = relax(s, start, work, f'{cat}-relax')
        r['info'].update(relaxed='T', frame_id=f'{name}/{cat}/001')
        frames += [f, r]
        T = s['slab_T'] if cat == 'surface_100' else s['defect_T']
        base = {k: v for k, v in f['info'].items() if k not in ('relaxed', 'frame_id')}
        for k, (t, cell, pos) in enumerate(md(s, r, work, f'{cat}-md', T, False, **DEFECT_MD)):
            frames.append(frame(cell, pos, **dict(base, temperature=T, ensemble='NVT', md_time_ps=f'{t:.1f}',
                                                  frame_id=f'{name}/{cat}/{2 + k:03d}')))

    # Bulk MD (NPT at P = 0) from the perfect crystal, and liquids (melted hot, sampled above T_m).
    cell0, pos0 = crystal(s, s['bulk'])
    start = frame(cell0, pos0)
    runs = [('md_crystal', T, MD, None) for T in s['md_T']] + [('md_near_melting', s['near_melt_T'], MD, None)]
    runs += [('liquid', T, LIQUID, s['melt_T']) for T in s['liquid_T']]
    for cat, T, p, thot in runs:
        p = dict(p)
        nhot = p.pop('nhot', 0)
        for k, (t, cell, pos) in enumerate(md(s, start, work, f'{cat}-{T}K', T, True, thot=thot, nhot=nhot, **p)):
            info = dict(config_type=cat, temperature=T, ensemble='NPT P=0', md_time_ps=f'{t:.1f}',
                        supercell=reps_str(s['bulk']), frame_id=f'{name}/{cat}-{T}K/{k:03d}')
            if thot:
                info['melted_at'] = thot
            frames.append(frame(cell, pos, **info))

    for f in frames:   # provenance common to all frames, after the category-specific keys
        f['info'].update(reference=reference, potential_sha256=pot_sha,
                         generator='scripts/reference-data/generate', seed=SEED)
    t_gen = time.time() - t0
    labels = label(s, frames, work)
    t_label = time.time() - t0 - t_gen

    split = split_of(frames)
    outdir = os.path.join(ROOT, 'data', name)
    os.makedirs(outdir, exist_ok=True)
    texts = {k: [] for k in ('train', 'valid', 'test')}
    counts = collections.defaultdict(collections.Counter)
    natoms = collections.defaultdict(list)
    epa = collections.defaultdict(list)
    for f, lab in zip(frames, labels):
        sp = split[f['info']['frame_id']]
        texts[sp].append(xyz_text(s, f, lab))
        cat = f['info']['config_type']
        counts[cat][sp] += 1
        natoms[cat].append(len(f['pos']))
        epa[cat].append(lab['energy'] / len(f['pos']))
    for sp, parts in texts.items():
        with open(os.path.join(outdir, f'{sp}.xyz'), 'w') as out:
            out.write(''.join(parts))

    print(f'== {name}: {reference} (sha256 {pot_sha}); {len(frames)} frames; '
          f'configurations+MD {t_gen:.1f} s, labelling {t_label:.1f} s')
    print(f'  {"config_type":18s} {"train":>5s} {"valid":>5s} {"test":>5s} {"atoms":>7s} {"E/atom (eV) min..max":>22s}')
    for cat, c in counts.items():
        print(f'  {cat:18s} {c["train"]:5d} {c["valid"]:5d} {c["test"]:5d} {min(natoms[cat]):3d}-{max(natoms[cat]):<3d}'
              f' {min(epa[cat]):10.4f} ..{max(epa[cat]):9.4f}')
    print(f'  {"total":18s} {len(texts["train"]):5d} {len(texts["valid"]):5d} {len(texts["test"]):5d}')
    for sp in texts:
        p = os.path.join(outdir, f'{sp}.xyz')
        print(f'  {os.path.relpath(p, ROOT)}: {os.path.getsize(p) / 1024:.0f} KiB')


def main(argv):
    names = argv or list(SYSTEMS)
    for n in names:
        if n not in SYSTEMS:
            sys.exit(f'unknown system {n!r}; known: {", ".join(SYSTEMS)}')
    work = tempfile.mkdtemp(prefix='facet-refdata-')
    try:
        for n in names:
            d = os.path.join(work, n)
            os.makedirs(d)
            generate(n, d)
    finally:
        if os.environ.get('REFDATA_KEEP_WORK'):
            print(f'work files kept in {work}')
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main(sys.argv[1:])
