"""Deterministic task list of the Si PBE data set: one task = one structure with a stable id.

Each task carries its own seed (CRC32 of the id, XOR the global seed), so a structure never depends
on which other tasks ran before it. The list is interleaved across categories so that any prefix
of it is a diverse subset; cells above 16 atoms come last because they are the costly ones.
"""
import os
import zlib

import numpy as np
from ase import Atoms, units
from ase.build import bulk, diamond100, diamond111
from ase.io import read
from ase.md.langevin import Langevin

from dftcommon import A0_PBE
from refprops import slab_cells
from sw import StillingerWeber

SEED = 20261125
SAMPLED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'si-pbe', 'sampled')


def task_seed(task_id):
    return zlib.crc32(task_id.encode()) ^ SEED


def diamond(reps=(1, 1, 1), a=A0_PBE):
    return bulk('Si', 'diamond', a, cubic=True) * reps


def interstitial(site, a=A0_PBE):
    """The 16-atom diamond cell plus one atom: at the tetrahedral site or as a <110> split dumbbell."""
    at = diamond((2, 1, 1), a)
    if site == 'tetra':
        at += Atoms('Si', positions=[[a / 2, a / 2, a / 2]])
    else:  # the dumbbell replaces the atom at the origin
        at.positions[0] = [a * 0.15, a * 0.15, 0]
        at += Atoms('Si', positions=[[-a * 0.15, -a * 0.15, 0]])
    at.wrap()
    return at


def rattle(atoms, amp, rng):
    atoms.positions += rng.normal(0.0, amp, atoms.positions.shape)
    return atoms


def strain(atoms, eps):
    atoms.set_cell(atoms.cell.array @ (np.eye(3) + np.asarray(eps)), scale_atoms=True)
    return atoms


def sw_md(atoms, temp, rng, steps):
    """Langevin MD with Stillinger-Weber at `temp` K (1 fs steps); returns the final snapshot."""
    atoms = atoms.copy()
    atoms.calc = StillingerWeber()
    m = atoms.get_masses()[:, None]
    atoms.set_momenta(rng.normal(0.0, 1.0, atoms.positions.shape) * np.sqrt(m * units.kB * temp))
    # communicator=None: only rank 0 builds structures, so the MD must not talk to other ranks.
    dyn = Langevin(atoms, 1.0 * units.fs, temperature_K=temp, friction=0.02, rng=rng,
                   communicator=None)
    dyn.run(steps)
    atoms.calc = None
    atoms.wrap()
    return atoms


def random_packing(n, cell, rng, dmin=2.1):
    """n atoms placed at random in `cell` no closer than dmin (starting point of the liquid)."""
    atoms = Atoms(cell=cell, pbc=True)
    while len(atoms) < n:
        trial = atoms + Atoms('Si', cell=cell, pbc=True,
                              scaled_positions=[rng.uniform(0, 1, 3)])
        if len(atoms) == 0 or trial.get_distances(len(atoms), range(len(atoms)), mic=True).min() > dmin:
            atoms = trial
    return atoms


def beta_tin(a=4.82, c=2.66):
    return Atoms('Si4', cell=[a, a, c], pbc=True,
                 scaled_positions=[[0, 0, 0], [0, .5, .25], [.5, .5, .5], [.5, 0, .75]])


def simple_hexagonal(a=2.58, c=2.43):
    return Atoms('Si', cell=[[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]], pbc=True)


# Other phases: builder at its approximate PBE volume, and the supercell giving 8 atoms.
PHASES = {
    'beta-tin': (beta_tin, (1, 1, 2)),
    'sh': (simple_hexagonal, (2, 2, 2)),
    'bcc': (lambda: bulk('Si', 'bcc', 3.08, cubic=True), (2, 2, 1)),
    'fcc': (lambda: bulk('Si', 'fcc', 3.87, cubic=True), (1, 1, 2)),
}


def slab(kind, a=A0_PBE):
    build = diamond100 if kind == '100' else diamond111
    s = build('Si', (2, 1, 8), a=a, vacuum=5.0)
    s.pbc = True  # plane waves need a periodic cell; 10 Å of vacuum separates the images
    s.info['vacuum_axis'] = 2
    return s


# ---- the task list ------------------------------------------------------------------------
# Each category: list of (task_id, params); build(category, params, rng) makes the structure.

def md_snapshots(task_id, file, temperatures, per_temperature=6):
    """Tasks of an active-learning category: snapshot k of the sample-md file of each temperature (task_id and
    file are format strings of T and k)."""
    return [(task_id.format(T=T, k=k), dict(file=file.format(T=T), index=k))
            for k in range(per_temperature) for T in temperatures]


def category_tasks():
    cats = {}
    # Equilibrium first, then alternating large and small strains, so any prefix spans the range.
    cats['strain'] = [(f'strain-h{e:+.3f}', dict(hydro=e))
                      for m in (0, 6, 3, 5, 1, 4, 2) for e in sorted({-m / 100, m / 100})]
    cats['shear'] = [(f'shear-{k:04d}', dict(k=k)) for k in range(24)]
    # Bulk categories are mostly 8-atom cells (a 16-atom frame costs ~4x an 8-atom one);
    # every 3rd repeat is a 16-atom cell. The id keeps a per-(amplitude|T, size) counter.
    sizes = [(8, k // 3 * 2 + k % 3) if k % 3 < 2 else (16, k // 3) for k in range(15)]
    cats['rattle'] = [(f'rattle-a{amp:.2f}-n{n}-{k:04d}', dict(amp=amp, n=n))
                      for n, k in sizes[:14] for amp in (0.02, 0.05, 0.10, 0.15)]
    cats['md'] = [(f'md-T{T}-n{n}-{k:04d}', dict(T=T, n=n))
                  for n, k in sizes[:10] for T in (300, 600, 900, 1200, 1500)]
    cats['md'] += [(f'md-T{T}-n64-0000', dict(T=T, n=64)) for T in (300, 1200)]
    cats['vacancy'] = [(f'vacancy-T{T}-{k:04d}', dict(T=T)) for k in range(4) for T in (0, 300, 600, 900)]
    cats['interstitial'] = [(f'interstitial-{site}-T{T}-{k:04d}', dict(site=site, T=T))
                            for k in range(2) for T in (0, 300, 600, 900)
                            for site in ('tetra', 'dumbbell')]
    cats['surface'] = [(f'surface{o}-T{T}-{k:04d}', dict(orient=o, T=T))
                       for k in range(4) for T in (0, 300, 700, 1100) for o in ('100', '111')]
    cats['liquid'] = [(f'liquid-n{n}-{k:04d}', dict(n=n)) for k in range(10) for n in (8, 16)]
    cats['liquid'] += [(f'liquid-n64-{k:04d}', dict(n=64)) for k in range(2)]
    cats['phase'] = [(f'phase-{p}-v{v:.2f}-{"r" if r else "0"}', dict(phase=p, vol=v, rattle=r))
                     for r in (False, True) for v in (0.85, 0.92, 1.00, 1.08, 1.16) for p in PHASES]
    # Added 2026-11-26: the rest of the set has no pair closer than ~1.77 Å, and a model trained on it
    # let liquid atoms fuse at 1800 K. One bonded pair pushed together, so that the repulsion is learned.
    cats['close'] = [(f'close-d{d:.2f}-{k:04d}', dict(d=d)) for k in range(2) for d in (1.6, 1.7, 1.8, 1.9, 2.0)]
    # Added 2026-11-26: one round of active learning. A trial model (with the ZBL repulsion) formed bonds of
    # 1.8-1.9 Å in the 1800 K liquid that DFT does not have; the structures it visited, sampled by
    # scripts/dft/sample-md with that model (sampled/sampler-v6.facet.xz), are labelled here.
    cats['sampled'] = [(f'sampled-liquid-1800K-v6-{k:04d}', dict(file='liquid-1800K-v6.xyz', index=k))
                       for k in range(15)]
    # Added 2026-11-26: small strains. Trial models missed C12 and C44 by ~20 % while fitting the stress of the
    # strain and shear frames (1-6 %) to ~0.3 GPa: at 1 % strain that is the whole signal. Perfect 8-atom
    # cells with a random symmetric strain of at most 1 % per component (cheap: symmetric cells, ~30 s); their
    # forces are the internal-strain forces behind the relaxed C44.
    cats['elastic'] = [(f'elastic-{k:04d}', dict(k=k)) for k in range(24)]
    # Added 2026-11-26: the (100) p(2x1) reconstruction. The surface frames above are bulk-terminated slabs
    # (rattled or SW MD); a trial model then relaxed the reference's buckled dimers to flat ones (buckling
    # 0.05 Å, DFT 0.79) and missed the (100) surface energy by +26 %. The reference's starting slab with
    # its dimers buckled by +-b Å (height difference 2b, 0 to 1 Å), rattled.
    cats['surface2x1'] = [(f'surface2x1-b{b:.2f}-{k:04d}', dict(buckle=b, amp=amp))
                          for k, (b, amp) in enumerate([(0.0, 0.03), (0.1, 0.03), (0.2, 0.03), (0.3, 0.03),
                                                        (0.4, 0.03), (0.5, 0.03), (0.35, 0.08), (0.45, 0.08)])]
    # Added 2026-11-26: hot (111) surfaces. SW MD rearranges the outer layers of the (111) slab into many
    # different structures (the surface frames at 300-1100 K span 180 meV/atom), and with four such frames
    # in training Si-PBE put the three test ones 35-54 meV/atom too low: that was the whole of its test-set
    # energy error. The same slab, SW MD at 500-1100 K for 400-800 steps.
    cats['surface111md'] = [(f'surface111md-T{T}-{k:04d}', dict(T=T))
                            for k in range(4) for T in (500, 700, 900, 1100)]
    # Added 2026-11-26: a second round of active learning, with the shipped potential as the sampler
    # (potentials/Si-PBE.facet of commit 8b89048; each structure records its SHA-256): its 1800 K liquid, where
    # it had 10 meV/atom and 190 meV/Å test errors. 3 runs x 4 snapshots, scripts/dft/sample-md --seed 11.
    cats['sampled2'] = [(f'sampled2-liquid-1800K-sipbe-{k:04d}', dict(file='liquid-1800K-sipbe.xyz', index=k))
                        for k in range(12)]
    # Added 2026-11-26: a third round, sampled with Si-PBE v2 (potentials/Si-PBE.facet of commit 9a7d4be),
    # whose liquid test frames still had force errors of 180-190 meV/Å. 3 runs x 4 snapshots at 1800 K,
    # scripts/dft/sample-md --seed 13.
    cats['sampled3'] = [(f'sampled3-liquid-1800K-sipbe-v2-{k:04d}', dict(file='liquid-1800K-sipbe-v2.xyz', index=k))
                        for k in range(12)]
    # Added 2026-11-26: more hot (111) slabs, at the temperatures between those of surface111md. With its 12
    # training frames of them, Si-PBE v2 still put the hot (111) test frames of `surface` 18 meV/atom off,
    # the largest energy error of its test set.
    cats['surface111md2'] = [(f'surface111md2-T{T}-{k:04d}', dict(T=T))
                             for k in range(4) for T in (600, 800, 1000)]
    # Added 2026-11-27: a fourth round, sampled with Si-PBE v4 (potentials/Si-PBE.facet of commit 44ac484):
    # its liquid below and above 1800 K (2 runs x 3 snapshots each, scripts/dft/sample-md --temp 1400
    # --seed 17 and --temp 2200 --seed 19), and its own MD of the (111) slab (--structure slab111 --temp 800
    # --seed 23 and --temp 1100 --seed 29): the hot (111) slabs had v4's largest test energy errors (9-20
    # meV/atom), and so far all slab frames came from Stillinger-Weber MD.
    cats['sampled4'] = md_snapshots('sampled4-liquid-{T}K-sipbe-v4-{k:04d}', 'liquid-{T}K-sipbe-v4.xyz', (1400, 2200))
    cats['sampled4slab'] = md_snapshots('sampled4slab-111-{T}K-sipbe-v4-{k:04d}',
                                        'slab111-{T}K-sipbe-v4.xyz', (800, 1100))
    # Added 2026-11-27: a fifth round, sampled with Si-PBE v5 (potentials/Si-PBE.facet of commit 56106b2), whose
    # largest test errors are still the hot (111) slabs: its liquid at 1600 and 2000 K (--seed 31 and 37) and its
    # (111) slab MD at 900 and 1200 K (--structure slab111, --seed 41 and 43), 2 runs x 3 snapshots each.
    cats['sampled5'] = md_snapshots('sampled5-liquid-{T}K-sipbe-v5-{k:04d}', 'liquid-{T}K-sipbe-v5.xyz', (1600, 2000))
    cats['sampled5slab'] = md_snapshots('sampled5slab-111-{T}K-sipbe-v5-{k:04d}',
                                        'slab111-{T}K-sipbe-v5.xyz', (900, 1200))
    # Added 2026-11-27: a sixth round, sampled with Si-PBE v6 (stage 7 of train-si-pbe), whose largest test errors
    # are the hot (111) slabs and the liquids: its liquid at 1800 and 2400 K (--seed 47 and 53) and its (111) slab
    # MD at 700 and 1000 K (--structure slab111, --seed 59 and 61), 2 runs x 3 snapshots each.
    cats['sampled6'] = md_snapshots('sampled6-liquid-{T}K-sipbe-v6-{k:04d}', 'liquid-{T}K-sipbe-v6.xyz', (1800, 2400))
    cats['sampled6slab'] = md_snapshots('sampled6slab-111-{T}K-sipbe-v6-{k:04d}',
                                        'slab111-{T}K-sipbe-v6.xyz', (700, 1000))
    # Added 2026-11-27: a seventh round, also sampled with v6, on structures no facet MD had visited: its MD of the
    # <110> dumbbell interstitial at 900 and 1200 K (--structure interstitial, --seed 67 and 71; v6's interstitial
    # test frame has 193 meV/Å) and of the (100) slab at 800 and 1100 K (--structure slab100, --seed 73 and 79;
    # v6 buckles the (100) dimers 0.47 Å where DFT has 0.79).
    cats['sampled7inter'] = md_snapshots('sampled7inter-{T}K-sipbe-v6-{k:04d}',
                                         'interstitial-{T}K-sipbe-v6.xyz', (900, 1200))
    cats['sampled7slab100'] = md_snapshots('sampled7slab100-{T}K-sipbe-v6-{k:04d}',
                                           'slab100-{T}K-sipbe-v6.xyz', (800, 1100))
    # Added 2026-11-27: an eighth round, sampled with Si-PBE v7 (stage 9 of train-si-pbe), whose largest property
    # miss is the vacancy (+16 %) and largest test errors the hot (111) slabs: its MD of the 15-atom vacancy cell at
    # 900 and 1200 K (--structure vacancy, --seed 83 and 89) and of the (111) slab at 1300 and 1500 K (--structure
    # slab111, --seed 97 and 101), hotter than any slab MD before.
    cats['sampled8vac'] = md_snapshots('sampled8vac-{T}K-sipbe-v7-{k:04d}', 'vacancy-{T}K-sipbe-v7.xyz', (900, 1200))
    cats['sampled8slab'] = md_snapshots('sampled8slab-111-{T}K-sipbe-v7-{k:04d}',
                                        'slab111-{T}K-sipbe-v7.xyz', (1300, 1500))
    # Added 2026-11-27: a ninth round. The hot (111) slabs of Stillinger-Weber MD (surface111md2, `surface`) are
    # still the largest test energy errors (15 and 8 meV/atom with stage 10 of train-si-pbe), while the slabs of
    # facet's own MD are at 3-7: SW rebuilds the outer layers into structures facet MD does not visit. The same
    # slab, SW MD at the temperatures between and above those of surface111md and surface111md2.
    cats['surface111md3'] = [(f'surface111md3-T{T}-{k:04d}', dict(T=T))
                             for k in range(3) for T in (650, 850, 1050, 1250)]
    # The same round, sampled with Si-PBE v8 (stage 10 of train-si-pbe): its liquid at 1700 and 1900 K (--seed 103
    # and 107; the 1800 K liquid test frames of sampled2 and sampled3 are still at 10 meV/atom) and its MD of the (100)
    # slab at 1300 and 1500 K (--structure slab100, --seed 109 and 113; v8 has 8.0 meV/atom and 196 meV/Å on the
    # (100) slab MD test frame of sampled7slab100, at 800-1100 K).
    cats['sampled9'] = md_snapshots('sampled9-liquid-{T}K-sipbe-v8-{k:04d}', 'liquid-{T}K-sipbe-v8.xyz', (1700, 1900))
    cats['sampled9slab100'] = md_snapshots('sampled9slab100-{T}K-sipbe-v8-{k:04d}',
                                           'slab100-{T}K-sipbe-v8.xyz', (1300, 1500))
    # Added 2026-11-27: a tenth round, sampled with Si-PBE v9 (stage 11 of train-si-pbe), where its test errors are
    # largest: its dumbbell-interstitial MD at 1000 and 1400 K (--structure interstitial, --seed 127 and 131; v9 has
    # 9.2 meV/atom on the test frame of sampled7inter) and its (111) slab MD at 800 and 1100 K (--structure slab111,
    # --seed 137 and 139; 8.5 meV/atom and 221 meV/Å on the test frame of sampled4slab, v4's MD at those temperatures).
    cats['sampled10inter'] = md_snapshots('sampled10inter-{T}K-sipbe-v9-{k:04d}',
                                          'interstitial-{T}K-sipbe-v9.xyz', (1000, 1400))
    cats['sampled10slab'] = md_snapshots('sampled10slab-111-{T}K-sipbe-v9-{k:04d}',
                                         'slab111-{T}K-sipbe-v9.xyz', (800, 1100))
    # Added 2026-11-27: an eleventh round, sampled with Si-PBE v10 (stage 12 of train-si-pbe), where its test errors
    # are largest: its interstitial MD at 800 and 1200 K (--structure interstitial, --seed 149 and 151; v10 has 16.1
    # and 11.0 meV/atom on the test frames of sampled10inter and sampled7inter, 9.2 on the training frames of the
    # first), its (100) slab MD at 1000 and 1200 K (--structure slab100, --seed 157 and 163; 9.7 meV/atom on the
    # test frame of sampled7slab100) and its liquid at 1800 and 2100 K (--seed 167 and 173; 9.0 on sampled2's).
    cats['sampled11inter'] = md_snapshots('sampled11inter-{T}K-sipbe-v10-{k:04d}',
                                          'interstitial-{T}K-sipbe-v10.xyz', (800, 1200))
    cats['sampled11slab100'] = md_snapshots('sampled11slab100-{T}K-sipbe-v10-{k:04d}',
                                            'slab100-{T}K-sipbe-v10.xyz', (1000, 1200))
    cats['sampled11'] = md_snapshots('sampled11-liquid-{T}K-sipbe-v10-{k:04d}', 'liquid-{T}K-sipbe-v10.xyz',
                                     (1800, 2100))
    # Added 2026-11-27: a twelfth round, sampled with Si-PBE v11 (stage 13 of train-si-pbe), where its test energy
    # errors are largest: its interstitial MD at 1000 and 1200 K (--structure interstitial, --seed 179 and 181; v11
    # has 15.0 and 13.0 meV/atom on the test frames of sampled10inter and sampled7inter), its (100) slab MD at 900 and
    # 1100 K (--structure slab100, --seed 191 and 193; 10.6 on sampled7slab100's) and its vacancy MD at 1000 and
    # 1300 K (--structure vacancy, --seed 197 and 199; 10.4 on sampled8vac's).
    cats['sampled12inter'] = md_snapshots('sampled12inter-{T}K-sipbe-v11-{k:04d}',
                                          'interstitial-{T}K-sipbe-v11.xyz', (1000, 1200))
    cats['sampled12slab100'] = md_snapshots('sampled12slab100-{T}K-sipbe-v11-{k:04d}',
                                            'slab100-{T}K-sipbe-v11.xyz', (900, 1100))
    cats['sampled12vac'] = md_snapshots('sampled12vac-{T}K-sipbe-v11-{k:04d}', 'vacancy-{T}K-sipbe-v11.xyz',
                                        (1000, 1300))
    # Added 2026-11-27: a thirteenth round, sampled with Si-PBE v11 as well (one release with the twelfth): its liquid
    # at 1800 and 2000 K (--seed 211 and 223; v11 has 10.2 meV/atom and 169 meV/Å on the 1800 K test frame of
    # sampled2) and its (111) slab MD at 1000 and 1200 K (--structure slab111, --seed 227 and 229; 9.2 meV/atom on the
    # test frame of sampled10slab, 219 meV/Å on sampled4slab's).
    cats['sampled13'] = md_snapshots('sampled13-liquid-{T}K-sipbe-v11-{k:04d}', 'liquid-{T}K-sipbe-v11.xyz',
                                     (1800, 2000))
    cats['sampled13slab'] = md_snapshots('sampled13slab-111-{T}K-sipbe-v11-{k:04d}', 'slab111-{T}K-sipbe-v11.xyz',
                                         (1000, 1200))
    # Added 2026-11-27: a fourteenth round, sampled with Si-PBE v12 (stage 14 of train-si-pbe), where its test energy
    # errors are largest: its interstitial MD at 900 and 1100 K (--structure interstitial, --seed 233 and 239; v12 has
    # 16.6 and 11.3 meV/atom on the test frames of sampled10inter and sampled7inter), its (100) slab MD at 1000 and
    # 1300 K (--structure slab100, --seed 241 and 251; 13.9 on sampled7slab100's) and its vacancy MD at 1100 and
    # 1400 K (--structure vacancy, --seed 257 and 263; 11.9 on sampled12vac's).
    cats['sampled14inter'] = md_snapshots('sampled14inter-{T}K-sipbe-v12-{k:04d}',
                                          'interstitial-{T}K-sipbe-v12.xyz', (900, 1100))
    cats['sampled14slab100'] = md_snapshots('sampled14slab100-{T}K-sipbe-v12-{k:04d}',
                                            'slab100-{T}K-sipbe-v12.xyz', (1000, 1300))
    cats['sampled14vac'] = md_snapshots('sampled14vac-{T}K-sipbe-v12-{k:04d}', 'vacancy-{T}K-sipbe-v12.xyz',
                                        (1100, 1400))
    # Added 2026-11-27: a fifteenth round, sampled with Si-PBE v12 as well: its liquid at 1900 and 2200 K (--seed 269
    # and 271; v12 has 10.4 and 7.8 meV/atom on the test frames of sampled2 and sampled13) and its (111) slab MD at
    # 1100 and 1300 K (--structure slab111, --seed 277 and 281; 12.5 on sampled13slab's, 10.0 on surface111md2's).
    cats['sampled15'] = md_snapshots('sampled15-liquid-{T}K-sipbe-v12-{k:04d}', 'liquid-{T}K-sipbe-v12.xyz',
                                     (1900, 2200))
    cats['sampled15slab'] = md_snapshots('sampled15slab-111-{T}K-sipbe-v12-{k:04d}', 'slab111-{T}K-sipbe-v12.xyz',
                                         (1100, 1300))
    # Added 2026-11-27: a sixteenth round, sampled with Si-PBE v13 (stage 15 of train-si-pbe), where its test energy
    # errors are largest: its interstitial MD at 1000 and 1200 K (--structure interstitial, --seed 283 and 293; v13
    # has 14.4 and 11.5 meV/atom on the test frames of sampled10inter and sampled7inter), its (100) slab MD at 900 and
    # 1200 K (--structure slab100, --seed 307 and 311; 14.1 on sampled7slab100's) and its vacancy MD at 1000 and
    # 1300 K (--structure vacancy, --seed 313 and 317; 9.6 on sampled12vac's).
    cats['sampled16inter'] = md_snapshots('sampled16inter-{T}K-sipbe-v13-{k:04d}',
                                          'interstitial-{T}K-sipbe-v13.xyz', (1000, 1200))
    cats['sampled16slab100'] = md_snapshots('sampled16slab100-{T}K-sipbe-v13-{k:04d}',
                                            'slab100-{T}K-sipbe-v13.xyz', (900, 1200))
    cats['sampled16vac'] = md_snapshots('sampled16vac-{T}K-sipbe-v13-{k:04d}', 'vacancy-{T}K-sipbe-v13.xyz',
                                        (1000, 1300))
    # Added 2026-11-27: a seventeenth round, sampled with Si-PBE v14 (stage 16): its interstitial MD at 1100 and
    # 1300 K (--structure interstitial, --seed 331 and 337; v14 has 14.8, 13.1 and 10.6 meV/atom on the test frames of
    # sampled10inter, sampled7inter and sampled16inter), its (100) slab MD at 1000 and 1300 K (--structure slab100,
    # --seed 347 and 349; 13.4 meV/atom and 179 meV/Å on sampled7slab100's, 198 meV/Å on sampled16slab100's) and its
    # liquid at 1800 and 2100 K (--seed 353 and 359; 211 and 192 meV/Å on the test frames of sampled5 and sampled15).
    cats['sampled17inter'] = md_snapshots('sampled17inter-{T}K-sipbe-v14-{k:04d}',
                                          'interstitial-{T}K-sipbe-v14.xyz', (1100, 1300))
    cats['sampled17slab100'] = md_snapshots('sampled17slab100-{T}K-sipbe-v14-{k:04d}',
                                            'slab100-{T}K-sipbe-v14.xyz', (1000, 1300))
    cats['sampled17'] = md_snapshots('sampled17-liquid-{T}K-sipbe-v14-{k:04d}', 'liquid-{T}K-sipbe-v14.xyz',
                                     (1800, 2100))
    # Added 2026-11-27: an eighteenth round, sampled with Si-PBE v15 (stage 17): its (111) slab MD at 900 and 1200 K
    # (--structure slab111, --seed 367 and 373; v15 has 10.2 meV/atom and 211 meV/Å on the test frame of sampled4slab,
    # 9.5 on sampled13slab's), its interstitial MD at 1000 and 1400 K (--structure interstitial, --seed 379 and 383;
    # 14.4 and 12.5 on the test frames of sampled10inter and sampled7inter) and its vacancy MD at 1200 and 1500 K
    # (--structure vacancy, --seed 389 and 397; 9.1 and 7.3 on those of sampled8vac and sampled12vac).
    cats['sampled18slab'] = md_snapshots('sampled18slab-111-{T}K-sipbe-v15-{k:04d}', 'slab111-{T}K-sipbe-v15.xyz',
                                         (900, 1200))
    cats['sampled18inter'] = md_snapshots('sampled18inter-{T}K-sipbe-v15-{k:04d}',
                                          'interstitial-{T}K-sipbe-v15.xyz', (1000, 1400))
    cats['sampled18vac'] = md_snapshots('sampled18vac-{T}K-sipbe-v15-{k:04d}', 'vacancy-{T}K-sipbe-v15.xyz',
                                        (1200, 1500))
    # Added 2026-11-28: a nineteenth round, sampled with Si-PBE v15 as well (stage 18 was training): its interstitial
    # MD at 1200 and 1500 K (--structure interstitial, --seed 401 and 409; v15 has 14.4, 12.5 and 10.8 meV/atom on the
    # test frames of sampled10inter, sampled7inter and sampled16inter), its (100) slab MD at 1100 and 1400 K
    # (--structure slab100, --seed 419 and 421; 13.9 meV/atom on sampled7slab100's, 189 and 188 meV/Å on those of
    # sampled16slab100 and sampled14slab100) and its liquid at 1900 and 2300 K (--seed 431 and 433; 11.7 meV/atom on
    # sampled17's, 208 and 189 meV/Å on those of sampled5 and sampled15).
    cats['sampled19inter'] = md_snapshots('sampled19inter-{T}K-sipbe-v15-{k:04d}',
                                          'interstitial-{T}K-sipbe-v15.xyz', (1200, 1500))
    cats['sampled19slab100'] = md_snapshots('sampled19slab100-{T}K-sipbe-v15-{k:04d}',
                                            'slab100-{T}K-sipbe-v15.xyz', (1100, 1400))
    cats['sampled19'] = md_snapshots('sampled19-liquid-{T}K-sipbe-v15-{k:04d}', 'liquid-{T}K-sipbe-v15.xyz',
                                     (1900, 2300))
    # Added 2026-11-28: a twentieth round, sampled with Si-PBE v16 (stage 18): its (111) slab MD at 1000 and 1300 K
    # (--structure slab111, --seed 439 and 443; v16 has 204 meV/Å on the test frame of sampled4slab), its vacancy MD at
    # 1100 and 1400 K (--structure vacancy, --seed 449 and 457; 180 meV/Å on sampled12vac's) and its (100) slab MD at
    # 900 and 1300 K (--structure slab100, --seed 461 and 463; 14.6 meV/atom on sampled7slab100's, 186 and 183 meV/Å
    # on those of sampled16slab100 and sampled14slab100).
    cats['sampled20slab'] = md_snapshots('sampled20slab-111-{T}K-sipbe-v16-{k:04d}', 'slab111-{T}K-sipbe-v16.xyz',
                                         (1000, 1300))
    cats['sampled20vac'] = md_snapshots('sampled20vac-{T}K-sipbe-v16-{k:04d}', 'vacancy-{T}K-sipbe-v16.xyz',
                                        (1100, 1400))
    cats['sampled20slab100'] = md_snapshots('sampled20slab100-{T}K-sipbe-v16-{k:04d}',
                                            'slab100-{T}K-sipbe-v16.xyz', (900, 1300))
    return cats


def build(cat, p, rng):
    if cat == 'strain':  # hydrostatic linear strain, perfect crystal
        return diamond(a=A0_PBE * (1 + p['hydro']))
    if cat == 'shear':  # random symmetric strain: shear up to ±6 %, normal up to ±3 %
        eps = rng.uniform(-0.06, 0.06, (3, 3))
        eps = 0.5 * (eps + eps.T)
        eps[np.diag_indices(3)] = rng.uniform(-0.03, 0.03, 3)
        return rattle(strain(diamond(), eps), 0.02, rng)
    if cat == 'rattle':  # thermal-like displacements plus a small random volume change
        at = diamond((2, 1, 1) if p['n'] == 16 else (1, 1, 1))
        return rattle(strain(at, np.eye(3) * rng.uniform(-0.02, 0.02)), p['amp'], rng)
    if cat == 'md':
        reps = {8: (1, 1, 1), 16: (2, 1, 1), 64: (2, 2, 2)}[p['n']]
        return sw_md(rattle(diamond(reps), 0.05, rng), p['T'], rng, 400 + int(rng.integers(200)))
    if cat == 'vacancy':  # 16-atom cell minus one atom
        at = diamond((2, 1, 1))
        del at[int(rng.integers(len(at)))]
        return sw_md(at, p['T'], rng, 400) if p['T'] else rattle(at, 0.05, rng)
    if cat == 'interstitial':
        at = interstitial(p['site'])
        return sw_md(at, p['T'], rng, 400) if p['T'] else rattle(at, 0.05, rng)
    if cat == 'surface':
        at = slab(p['orient'])
        return sw_md(rattle(at, 0.05, rng), p['T'], rng, 400) if p['T'] else rattle(at, 0.05, rng)
    if cat in ('surface111md', 'surface111md2', 'surface111md3'):
        return sw_md(rattle(slab('111'), 0.05, rng), p['T'], rng, 400 + int(rng.integers(400)))
    if cat == 'liquid':  # liquid Si is ~10 % denser than the crystal
        cell = np.diag([A0_PBE] * 3) * (0.965 * (p['n'] / 8) ** (1 / 3))
        return sw_md(random_packing(p['n'], cell, rng), 2500, rng, 600)
    if cat == 'phase':
        make, reps = PHASES[p['phase']]
        at = make() * reps
        at.set_cell(at.cell * p['vol'] ** (1 / 3), scale_atoms=True)
        return rattle(at, 0.05, rng) if p['rattle'] else at
    if cat == 'close':  # rattled 8-atom cell; an atom and its nearest neighbour moved towards each other
        at = rattle(diamond(), 0.05, rng)  # along their bond, symmetrically, to p['d'] Å apart
        i = int(rng.integers(len(at)))
        vec = at.get_distances(i, range(len(at)), mic=True, vector=True)
        r = np.linalg.norm(vec, axis=1)
        r[i] = np.inf
        j = int(np.argmin(r))
        u = vec[j] / r[j]
        shift = 0.5 * (r[j] - p['d']) * u
        at.positions[i] += shift
        at.positions[j] -= shift
        at.wrap()
        return at
    if cat == 'elastic':  # random symmetric strain, every component within +-1 %, atoms at their strained sites
        eps = rng.uniform(-0.01, 0.01, (3, 3))
        return strain(diamond(), 0.5 * (eps + eps.T))
    if cat == 'surface2x1':  # the reference's (100) p(2x1) slab (refprops.slab_cells), buckled by +-p['buckle']
        return rattle(slab_cells('100', A0_PBE, buckle=p['buckle'])[0], p['amp'], rng)
    if cat.startswith('sampled'):  # a structure of data/si-pbe/sampled/ (scripts/dft/sample-md)
        # parallel=False: only rank 0 builds structures; ASE's default would broadcast to ranks that are not
        # reading, and the generator's ranks then received each other's messages (a deadlock, 2026-11-26).
        return read(os.path.join(SAMPLED_DIR, p['file']), index=p['index'], parallel=False)
    raise ValueError(cat)


def task_list():
    """[(task_id, category, params)], interleaved: sorted by relative position in the category,
    small cells before the 64-atom ones."""
    out = []
    for cat, tasks in category_tasks().items():
        small = [t for t in tasks if t[1].get('n', 16) <= 16]
        big = [t for t in tasks if t[1].get('n', 16) > 16]
        for rank, (tid, p) in enumerate(small):
            out.append(((0, (rank + 0.5) / len(small)), tid, cat, p))
        for rank, (tid, p) in enumerate(big):
            out.append(((1, rank), tid, cat, p))
    out.sort(key=lambda t: t[0])
    ids = [t[1] for t in out]
    assert len(ids) == len(set(ids)), 'task ids must be unique'
    return [t[1:] for t in out]


def make_structure(task_id, cat, p):
    rng = np.random.default_rng(task_seed(task_id))
    atoms = build(cat, p, rng)
    atoms.pbc = True
    # sw_md returns a copy; keep the slab's vacuum axis for the k-mesh
    if cat in ('surface', 'surface111md', 'surface111md2', 'surface111md3'):
        atoms.info['vacuum_axis'] = 2
    return atoms
