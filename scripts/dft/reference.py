"""DFT (GPAW PBE) reference properties of silicon for the validation of ML potentials (issue 8).

Run through scripts/dft/reference (mpirun -np 2, nice 19). At exactly the production settings of
data/si-pbe/settings.json (through dftcommon.py; the E(V) of the metallic phases, beta-tin and sh, with those of the
training frames of category `phase`, which settings.json may override) it computes, in this order:

  ev          E(V) of diamond, beta-tin, simple hexagonal (primitive cells, c/a fixed), BM3 fits, ordering
  elastic     C11, C12, C44 (relaxed and unrelaxed) of diamond at the DFT a0, from stresses at +-1 % strain
  phonons     frequencies at Gamma, X (and L) of diamond from a 2x2x2 supercell of the primitive cell (phonopy)
  vacancy     relaxed vacancy formation energy, 2x2x2 primitive supercell (16 sites -> 15 atoms), fixed cell
  surface100  (100) p(2x1) asymmetric-dimer surface energy, 16-atom slab, relaxed
  surface111  (111) unreconstructed surface energy, 16-atom slab, relaxed

Each property is written to <out>/<property>.json as soon as it is finished, with every structure evaluated
(the ML side evaluates the very same cells); <out> is data/si-pbe/reference, or data/si-pbe/reference-quick
with --quick (low cutoff and k-density, for testing only; never mixed with production results). Every single
point is cached in <out>/cache/<label>.<hash>.json before the next one starts, keyed by the structure and the
settings, so an interruption loses at most one SCF: a rerun replays the relaxations from the cache
(the optimiser is deterministic) and skips finished properties.
"""
import argparse
import glob
import hashlib
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import refprops as RP  # noqa: E402
from dftcommon import A0_PBE, kgrid, settings_for  # noqa: E402

DATA = os.environ.get('SI_PBE_DATA') or os.path.normpath(os.path.join(HERE, '..', '..', 'data', 'si-pbe'))
PROPERTIES = ('ev', 'elastic', 'phonons', 'vacancy', 'surface100', 'surface111')
SEED = 20261125                  # the data set's global seed (tasks.py); the vacancy rattle uses it
B_EST = 100.0                    # GPa: bulk modulus scale of the Si phases, only to centre the E(V) grids
SETTING_KEYS = ('xc', 'ecut', 'kdens', 'smearing', 'width')

# Protocol. Production: 9 volumes per phase (+-8 % in volume, 2 % steps), relaxations to RELAX_FMAX.
# Quick: a smoke test of the pipeline only (numbers meaningless): 5 volumes, loose and short relaxations.
PROTOCOL = dict(production=dict(n_volumes=9, volume_step=0.02, fmax=RP.RELAX_FMAX, max_steps=150),
                quick=dict(n_volumes=5, volume_step=0.04, fmax=dict(small=0.01, large=0.05), max_steps=4))
QUICK_SETTINGS = dict(ecut=200.0, kdens=1.0, smearing='fermi-dirac', width=0.1)

# Cost model (seconds per SCF on the shared 2-core VM, 2 ranks, nice 19): k-points (full mesh) x a cost per
# k-point that grows with volume (plane waves) x atoms^2 (bands x plane waves), plus a fixed part that dominates
# small cells. Calibrated on the generator's frames (8-atom low-symmetry cell, 5x5x5: ~100 s; 16-atom, 3x5x5:
# ~350 s; 16-atom slab, 4x7x1: ~400 s, more SCF iterations than the model's 230 s, hence the slab factor) and
# on 2-atom cells at 8x8x8 (50-90 s with the machine at load 8-9). Perfect crystals: half (symmetry).
# Expected SCFs per relaxation (BFGS from the given starts) are guesses, stated in the plan.
RELAX_STEPS_GUESS = {'elastic-xx': 1, 'elastic-xy': 5, 'vacancy': 15, 'surface100': 25, 'surface111': 12}


def t_scf(natoms, vol, nk, symmetric, ecut=350.0, slab=False):
    t = nk * (0.1 + 5.3e-5 * vol * natoms ** 2) * (0.5 if symmetric else 1.0) * (1.8 if slab else 1.0)
    return t * (ecut / 350.0) ** 1.5


# ---- MPI helpers (GPAW's communicator; all ranks run the same script) --------------------------

def mpi():
    from gpaw.mpi import broadcast, world

    def bcast(x):
        """Rank 0's x on every rank (wrapped: gpaw's broadcast refuses None)."""
        return broadcast((x,) if world.rank == 0 else None)[0]
    return world, bcast


def log(msg):
    world, _ = mpi()
    if world.rank == 0:
        print(time.strftime('%Y-%m-%d %H:%M:%S'), msg, flush=True)


def plain(o):
    """numpy scalars and arrays -> JSON types."""
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f'not JSON serializable: {type(o).__name__}')


def write_json(path, obj):
    world, _ = mpi()
    if world.rank == 0:
        with open(path + '.tmp', 'w') as f:
            json.dump(obj, f, indent=1, default=plain)
        os.replace(path + '.tmp', path)       # atomic: a result file is always complete


def phase_settings(settings, overrides, phase):
    """The settings of a phase's E(V): the metallic phases take those of the training frames of category
    `phase` (settings.json's overrides: they need denser k-meshes), so that the potential, fitted to those
    frames, is compared with DFT of the same accuracy; diamond, and every other property, the base ones."""
    if phase == 'diamond':
        return settings
    return {k: settings_for(dict(settings, overrides=overrides), 'phase')[k] for k in SETTING_KEYS}


# ---- the cached DFT engine -------------------------------------------------------------------

class Engine:
    """Single points and fixed-cell relaxations through a cache of one JSON file per SCF."""

    def __init__(self, settings, out, proto, overrides=()):
        self.s, self.out, self.proto, self.overrides = settings, out, proto, list(overrides)
        self.cache = os.path.join(out, 'cache')
        world, _ = mpi()
        self.index = {}
        if world.rank == 0:
            os.makedirs(self.cache, exist_ok=True)
            for p in glob.glob(os.path.join(self.cache, '*.json')):
                self.index[p.rsplit('.', 2)[-2]] = p
        self.n_new = 0

    def settings_of(self, phase):
        return phase_settings(self.s, self.overrides, phase)

    def key(self, atoms, kpts, s):
        # Rounded to 1e-8 Å: replayed relaxations reproduce the positions exactly anyway (the cached forces are
        # the same floats), the rounding only guards against noise in the last bit.
        blob = json.dumps([s['xc'], s['ecut'], s['kdens'], s['smearing'], s['width'], list(kpts),
                           atoms.get_chemical_symbols(), np.round(atoms.cell.array, 8).tolist(),
                           np.round(atoms.positions, 8).tolist()])
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def point(self, atoms, label, kpts, stress=True, holder=None, settings=None):
        """Labels of `atoms` (energy = Mermin free energy, forces, stress in the ASE sign convention): from the
        cache, else one GPAW SCF (reusing holder['gpaw'], the calculator of a relaxation, when given), with the
        base settings unless `settings` are given."""
        from dftcommon import make_calc, results
        world, broadcast = mpi()
        s = settings or self.s
        k = self.key(atoms, kpts, s)
        r = None
        if world.rank == 0 and k in self.index:
            r = json.load(open(self.index[k]))
            if stress and 'stress' not in r:
                r = None
        r = broadcast(r)
        if r is not None:
            return r
        holder = holder if holder is not None else {}
        if holder.get('gpaw') is None:
            holder['gpaw'] = make_calc(atoms, s['ecut'], s['kdens'], s['width'], s['smearing'], kpts=kpts)
        at = atoms.copy()
        at.calc = holder['gpaw']
        t0 = time.time()
        lab = results(at, stress=stress)
        f = lab['forces']
        r = dict(label=label, key=k, structure=RP.to_dict(atoms), kgrid=list(kpts),
                 energy=float(lab['energy']), energy_sigma0=float(lab['energy_sigma0']),
                 forces=f.tolist(), fmax=float(np.linalg.norm(f, axis=1).max()), niter=int(lab['niter']),
                 seconds=round(time.time() - t0, 1), mpi_ranks=world.size)
        if stress:
            r['stress'] = np.asarray(lab['stress']).tolist()
        path = os.path.join(self.cache, f'{label}.{k}.json')
        write_json(path, r)
        self.index[k] = path
        self.n_new += 1
        p = f' P={-np.trace(lab["stress"]) / 3 * RP.EV_A3_GPA:7.2f}GPa' if stress else ''
        log(f'{label:28s} n={len(atoms):2d} k={"x".join(map(str, kpts))} E/N={r["energy"] / len(atoms):9.5f} '
            f'fmax={r["fmax"]:.4f}{p} iter={r["niter"]} {r["seconds"]:.0f}s')
        return r

    def relax(self, atoms, label, kpts, size, stress=False):
        """Positions relaxed at the fixed cell with ASE BFGS to fmax (max |F| per atom), from the cache where
        possible. Returns dict(initial=first point, final=last point, steps, converged)."""
        from ase.calculators.calculator import Calculator, all_changes
        from ase.constraints import full_3x3_to_voigt_6_stress
        from ase.optimize import BFGS
        eng, fmax = self, self.proto['fmax'][size]
        holder, points = {}, []

        class Cached(Calculator):
            implemented_properties = ['energy', 'free_energy', 'forces', 'stress']

            def calculate(self, atoms=None, properties=('energy',), system_changes=all_changes):
                Calculator.calculate(self, atoms, properties, system_changes)
                r = eng.point(self.atoms, f'{label}-{len(points):03d}', kpts, stress, holder)
                points.append(r)
                self.results = dict(energy=r['energy'], free_energy=r['energy'], forces=np.array(r['forces']))
                if 'stress' in r:
                    self.results['stress'] = full_3x3_to_voigt_6_stress(np.array(r['stress']))

        at = atoms.copy()
        at.calc = Cached()
        opt = BFGS(at, logfile=None)
        converged = bool(opt.run(fmax=fmax, steps=self.proto['max_steps']))
        converged = converged and points[-1]['fmax'] <= fmax      # the recorded final point decides
        log(f'{label}: {"converged" if converged else "NOT converged"} after {len(points)} SCFs, '
            f'fmax {points[-1]["fmax"]:.4f} eV/Å (target {fmax})')
        return dict(initial=points[0], final=points[-1], scfs=len(points), converged=converged, fmax_target=fmax)


def slim(p, keep_forces=False):
    """A cached point as stored in a property file: the structure and its labels (forces only on request)."""
    out = {k: p[k] for k in ('label', 'structure', 'kgrid', 'energy', 'energy_sigma0', 'fmax', 'niter', 'seconds')}
    if 'stress' in p:
        out['stress'] = p['stress']
    if keep_forces:
        out['forces'] = p['forces']
    return out


# ---- the properties --------------------------------------------------------------------------

def ev_phase(eng, phase):
    """E(V) points of one phase on a fixed k-mesh (that of the guess volume of phase_guess). One probe SCF
    at the guess volume gives the pressure P; the grid is centred on V_guess (1 + P/B_EST), a one-step
    estimate of the zero-pressure volume (the training-data volumes of beta-tin and sh are not at P = 0).
    Up to 3 points are added where the lowest energy still sits at an end of the grid."""
    world, broadcast = mpi()
    v_guess, ca = RP.phase_guess()[phase]
    cell = lambda sc: broadcast(RP.phase_cell(phase, v_guess * sc, ca) if world.rank == 0 else None)
    s = eng.settings_of(phase)
    kpts = ev_mesh(phase, s['kdens'])
    probe = eng.point(cell(1.0), f'ev-{phase}-probe', kpts, settings=s)
    p_probe = -np.trace(probe['stress']) / 3 * RP.EV_A3_GPA
    centre = round(1 + p_probe / B_EST, 2)          # rounded: clean labels, and the grid is only a grid
    n, step = eng.proto['n_volumes'], eng.proto['volume_step']
    scales = [round(centre * (1 + step * (k - (n - 1) / 2)), 4) for k in range(n)]

    def pt(sc):
        at = cell(sc)
        r = eng.point(at, f'ev-{phase}-v{sc:.4f}', kpts, settings=s)
        return dict(scale=sc, v_atom=RP.volume(r['structure']) / len(at), e_atom=r['energy'] / len(at), **slim(r))
    points = [pt(sc) for sc in scales]
    for _ in range(3):
        k = int(np.argmin([p['e_atom'] for p in points]))
        if 0 < k < len(points) - 1:
            break
        sc = round(points[0]['scale'] - centre * step, 4) if k == 0 else round(points[-1]['scale'] + centre * step, 4)
        log(f'ev-{phase}: minimum at the end of the range, adding volume scale {sc}')
        points.insert(0, pt(sc)) if k == 0 else points.append(pt(sc))
    return dict(c_over_a=ca, c_over_a_source='fixed: the builders of tasks.py (literature-like PBE values)',
                v_guess=v_guess, probe_pressure_GPa=float(p_probe), centre_scale=centre, settings=s,
                kgrid=list(kpts), points=points)


def ev_mesh(phase, kdens):
    """The one k-mesh of a phase's E(V): that of its guess cell, so that the curve has no k-mesh jumps."""
    v_guess, ca = RP.phase_guess()[phase]
    return kgrid(RP.phase_cell(phase, v_guess, ca), kdens)


def a0_dft(eng):
    """DFT lattice constant (Å, rounded to 1e-4) from the BM3 fit of the diamond E(V); reads ev.json if it
    exists, else computes (or replays from the cache) the diamond E(V)."""
    world, broadcast = mpi()
    path = os.path.join(eng.out, 'ev.json')
    a0 = None
    if world.rank == 0 and os.path.exists(path):
        a0 = json.load(open(path))['a0']
    a0 = broadcast(a0)
    if a0 is None:
        ph = ev_phase(eng, 'diamond')
        a0 = round(RP.ev_summary({'diamond': ph})['a0'], 4)
    return a0


def prop_ev(eng):
    phases = {p: ev_phase(eng, p) for p in RP.PHASES}
    summ = RP.ev_summary(phases)
    for name, ph in phases.items():     # how far the fixed c/a is from relaxed: stress anisotropy near V0
        near = min(ph['points'], key=lambda p: abs(p['v_atom'] - summ['fits'][name]['V0']))
        s = np.array(near['stress']) * RP.EV_A3_GPA
        ph['stress_anisotropy_near_V0_GPa'] = float(s[2, 2] - 0.5 * (s[0, 0] + s[1, 1]))
    return dict(a0=round(summ['a0'], 4), a0_unrounded=summ['a0'], summary=summ, phases=phases,
                note='energies are Mermin free energies per atom; a0 (rounded to 1e-4 Å) is the cell of the '
                     'other properties')


def prop_elastic(eng):
    from ase.build import bulk
    _, broadcast = mpi()
    a0 = a0_dft(eng)
    ref = bulk('Si', 'diamond', a0)
    kpts = kgrid(ref, eng.s['kdens'])
    points = []
    for mode in ('xx', 'xy'):
        for sign in (1, -1):
            e = sign * RP.STRAIN
            at = ref.copy()
            at.set_cell(RP.strained(ref.cell.array, RP.strain_tensor(mode, e)), scale_atoms=True)
            at = broadcast(at if mpi()[0].rank == 0 else None)
            lab = f'elastic-{mode}{"+" if sign > 0 else "-"}'
            rel = eng.relax(at, lab, kpts, 'small', stress=True)
            points.append(dict(mode=mode, strain=e, structure=RP.to_dict(at), kgrid=list(kpts),
                               stress=rel['initial']['stress'], energy=rel['initial']['energy'],
                               stress_relaxed=rel['final']['stress'], energy_relaxed=rel['final']['energy'],
                               relaxed_structure=rel['final']['structure'], fmax_relaxed=rel['final']['fmax'],
                               scfs=rel['scfs'], converged=rel['converged'], fmax_target=rel['fmax_target']))
    return dict(a0=a0, strain=RP.STRAIN, cell='2-atom primitive cell at a0',
                strain_definition="'xx': e_xx = strain; 'xy': symmetric e_xy = e_yx = strain/2 (engineering "
                                  'shear gamma = strain); cell rows r -> r (1 + e), atoms follow',
                relaxation=f"ASE BFGS at the fixed strained cell to fmax {eng.proto['fmax']['small']} eV/Å",
                points=points, result=RP.elastic_constants(points))


def prop_phonons(eng):
    world, broadcast = mpi()
    a0 = a0_dft(eng)
    ph = RP.phonon_setup(a0) if world.rank == 0 else None
    data = None
    if world.rank == 0:
        unit = dict(symbols=list(ph.unitcell.symbols), cell=np.asarray(ph.unitcell.cell).tolist(),
                    positions=np.asarray(ph.unitcell.positions).tolist())
        ds = {'natom': int(ph.dataset['natom']),
              'first_atoms': [{'number': int(d['number']), 'displacement': [float(x) for x in d['displacement']]}
                              for d in ph.dataset['first_atoms']]}
        cells = [dict(symbols=list(sc.symbols), cell=np.asarray(sc.cell).tolist(),
                      positions=np.asarray(sc.positions).tolist()) for sc in ph.supercells_with_displacements]
        perfect = dict(symbols=list(ph.supercell.symbols), cell=np.asarray(ph.supercell.cell).tolist(),
                       positions=np.asarray(ph.supercell.positions).tolist())
        data = (unit, ds, cells, perfect)
    unit, ds, cells, perfect = broadcast(data)
    kpts = kgrid(RP.to_atoms(perfect), eng.s['kdens'])
    pts = [eng.point(RP.to_atoms(c), f'phonon-disp{i}', kpts, stress=False) for i, c in enumerate(cells)]
    res = RP.phonon_frequencies(unit, 2 * np.eye(3, dtype=int), ds, [p['forces'] for p in pts], a0)
    return dict(a0=a0, supercell_matrix=(2 * np.eye(3, dtype=int)).tolist(), unitcell=unit, dataset=ds,
                distance=RP.PHONON_DISTANCE, kgrid=list(kpts),
                displaced=[slim(p, keep_forces=True) for p in pts], result=res,
                method='phonopy finite displacements (one by symmetry), 2x2x2 supercell of the primitive cell '
                       '(16 atoms): exact at the commensurate Gamma, X, L')


def prop_vacancy(eng):
    world, broadcast = mpi()
    a0 = a0_dft(eng)
    cells = RP.vacancy_cells(a0, np.random.default_rng(SEED)) if world.rank == 0 else None
    perfect, vac = broadcast(cells)
    kpts = kgrid(perfect, eng.s['kdens'])
    p = eng.point(perfect, 'vacancy-perfect', kpts, stress=True)
    rel = eng.relax(vac, 'vacancy-relax', kpts, 'large')
    n = len(perfect)
    return dict(a0=a0, cell='2x2x2 supercell of the primitive cell: 16 sites -> 15 atoms, fixed cell at a0',
                start='atom 0 removed, all atoms rattled by 0.02 Å (seeded)', kgrid=list(kpts),
                perfect=slim(p), initial=slim(rel['initial']), final=slim(rel['final']), scfs=rel['scfs'],
                converged=rel['converged'], fmax_target=rel['fmax_target'],
                result=dict(Ef=RP.vacancy_energy(p['energy'], n, rel['final']['energy']),
                            Ef_unrelaxed_start=RP.vacancy_energy(p['energy'], n, rel['initial']['energy'])))


def prop_surface(eng, orient):
    world, broadcast = mpi()
    a0 = a0_dft(eng)
    slab, bulk = broadcast(RP.slab_cells(orient, a0) if world.rank == 0 else None)
    kb, ks = kgrid(bulk, eng.s['kdens']), kgrid(slab, eng.s['kdens'])
    b = eng.point(bulk, f'surface{orient}-bulk', kb, stress=True)
    rel = eng.relax(slab, f'surface{orient}-relax', ks, 'large')
    g, gj = RP.surface_energy(rel['final']['energy'], len(slab), b['energy'], len(bulk), slab.cell.array)
    g0, g0j = RP.surface_energy(rel['initial']['energy'], len(slab), b['energy'], len(bulk), slab.cell.array)
    res = dict(gamma_eV_A2=g, gamma_J_m2=gj, gamma_start_J_m2=g0j)
    desc = {'100': 'p(2x1) asymmetric dimers: 8 layers, 1x2 surface cell, started dimerised and buckled by '
                   '+-0.2 Å on both faces',
            '111': 'unreconstructed, bulk-terminated (one dangling bond per surface atom): 8 atomic layers '
                   '(4 bilayers), 2x1 surface cell, relaxed from the ideal positions'}[orient]
    if orient == '100':
        res['dimers'] = RP.dimer_buckling(rel['final']['structure'])
    return dict(a0=a0, orient=orient, surface=desc, vacuum_A=10.0, kgrid_slab=list(ks), kgrid_bulk=list(kb),
                bulk=slim(b), initial=slim(rel['initial']), final=slim(rel['final']), scfs=rel['scfs'],
                converged=rel['converged'], fmax_target=rel['fmax_target'], result=res,
                formula='gamma = (E_slab - N_slab E_bulk/N_bulk) / (2 A); bulk: same in-plane cell, periodic')


# ---- plan and cost ---------------------------------------------------------------------------

def plan(settings, proto, overrides):
    """[(property, what, natoms, kgrid, n_scf, seconds per SCF)] at the guess a0 (A0_PBE)."""
    from ase.build import bulk
    kd, ec = settings['kdens'], settings['ecut']
    rows = []

    def add(prop, what, at, n, symmetric, relax=False, times=1, k_density=kd):
        k = kgrid(at, k_density)
        n = times * (min(n, proto['max_steps'] + 1) if relax else n)
        rows.append((prop, what, len(at), k, n, t_scf(len(at), at.get_volume(), np.prod(k), symmetric, ec,
                                                      'vacuum_axis' in at.info)))
    guess = RP.phase_guess()
    for p in RP.PHASES:
        add('ev', f'{p} E(V), probe + {proto["n_volumes"]} volumes', RP.phase_cell(p, *guess[p]),
            proto['n_volumes'] + 1, True, k_density=phase_settings(settings, overrides, p)['kdens'])
    prim = bulk('Si', 'diamond', A0_PBE)
    add('elastic', 'e_xx +-1 % (no relaxation by symmetry)', prim, 2 * RELAX_STEPS_GUESS['elastic-xx'], True)
    add('elastic', 'shear +-1 %, BFGS (guess: SCFs per side)', prim, RELAX_STEPS_GUESS['elastic-xy'], False, True, 2)
    add('phonons', '1 displaced 16-atom supercell', prim * (2, 2, 2), 1, False)
    perfect, vac = RP.vacancy_cells(A0_PBE, np.random.default_rng(SEED))
    add('vacancy', 'perfect 16-atom cell', perfect, 1, True)
    add('vacancy', '15-atom relaxation (guess: SCFs)', vac, RELAX_STEPS_GUESS['vacancy'], False, True)
    for o in ('100', '111'):
        slab, blk = RP.slab_cells(o, A0_PBE)
        add(f'surface{o}', f'bulk cell ({len(blk)} atoms)', blk, 1, True)
        add(f'surface{o}', 'slab relaxation (guess: SCFs)', slab, RELAX_STEPS_GUESS[f'surface{o}'], False, True)
    return rows


def print_plan(settings, proto, overrides, only, out):
    rows = [r for r in plan(settings, proto, overrides) if r[0] in only]
    ncache = len(glob.glob(os.path.join(out, 'cache', '*.json')))
    print(f'Plan (settings: {settings["xc"]} {settings["ecut"]:g} eV, k-density {settings["kdens"]:g}/Å, '
          f'{settings["smearing"]} {settings["width"]:g} eV; output {os.path.relpath(out)}; '
          f'{ncache} single points already cached):')
    print(f'  {"property":11s} {"what":46s} {"atoms":>5s} {"k-mesh":>8s} {"SCFs":>5s} {"s/SCF":>6s} {"hours":>6s}')
    tot_n = tot_t = 0
    for prop, what, nat, k, n, t in rows:
        done = os.path.exists(os.path.join(out, prop + '.json'))
        print(f'  {prop:11s} {what:46s} {nat:5d} {"x".join(map(str, k)):>8s} {n:5d} {t:6.0f} {n * t / 3600:6.2f}'
              + ('  (done)' if done else ''))
        if not done:
            tot_n, tot_t = tot_n + n, tot_t + n * t
    print(f'  to do: about {tot_n} SCFs, {tot_t / 3600:.1f} h on 2 busy ranks (rough: the relaxation lengths are '
          'guesses, and the machine load changes the rate)', flush=True)


def status(out):
    for p in PROPERTIES:
        path = os.path.join(out, p + '.json')
        print(f'  {p:11s} {"done" if os.path.exists(path) else "-"}')
    files = glob.glob(os.path.join(out, 'cache', '*.json'))
    secs = [json.load(open(f)).get('seconds', 0) for f in files]
    print(f'  cache: {len(files)} single points, {sum(secs) / 3600:.2f} h of SCF time')


# ---- main ------------------------------------------------------------------------------------

def computed_with(result):
    """(settings, protocol, settings of each E(V) phase) of a property file; files of before the per-phase
    settings computed every phase with the base settings."""
    phases = {p: ph.get('settings', result.get('settings')) for p, ph in result.get('phases', {}).items()}
    return result.get('settings'), result.get('protocol'), phases


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--settings', default=os.path.join(DATA, 'settings.json'))
    ap.add_argument('--quick', action='store_true',
                    help=f'test run: {QUICK_SETTINGS}, fewer volumes, short loose relaxations; writes '
                         'data/si-pbe/reference-quick/')
    ap.add_argument('--only', nargs='+', choices=PROPERTIES, metavar='PROPERTY',
                    help=f'compute only these ({", ".join(PROPERTIES)})')
    ap.add_argument('--plan', action='store_true', help='print the SCF count and time estimate and exit')
    ap.add_argument('--status', action='store_true', help='which properties are done, cache size')
    args = ap.parse_args()
    out = os.path.join(DATA, 'reference-quick' if args.quick else 'reference')
    if args.status:
        return status(out)
    s = json.load(open(args.settings))
    settings = {k: s[k] for k in SETTING_KEYS}
    overrides = [] if args.quick else s.get('overrides', [])
    if args.quick:
        settings.update(QUICK_SETTINGS)
    proto = PROTOCOL['quick' if args.quick else 'production']
    only = args.only or PROPERTIES
    if args.plan:
        return print_plan(settings, proto, overrides, only, out)

    import ase
    import gpaw
    world, broadcast = mpi()
    if world.rank == 0:
        os.makedirs(out, exist_ok=True)
        print_plan(settings, proto, overrides, only, out)
    eng = Engine(settings, out, proto, overrides)
    header = dict(settings=settings, quick=args.quick, protocol=proto, code='gpaw', code_version=gpaw.__version__,
                  ase_version=ase.__version__, mpi_ranks=world.size,
                  energy='Mermin free energy (eV)', stress='eV/Å^3, ASE sign convention (tension positive)')
    funcs = dict(ev=prop_ev, elastic=prop_elastic, phonons=prop_phonons, vacancy=prop_vacancy,
                 surface100=lambda e: prop_surface(e, '100'), surface111=lambda e: prop_surface(e, '111'))
    failed = []
    for prop in only:
        path = os.path.join(out, prop + '.json')
        skip = None
        if world.rank == 0 and os.path.exists(path):
            have, want = computed_with(json.load(open(path))), (settings, proto, {})
            if prop == 'ev':
                want = (settings, proto, {p: eng.settings_of(p) for p in RP.PHASES})
            skip = 'done' if have == want else \
                f'{path} was computed with other settings/protocol {have}; move it away first'
        skip = broadcast(skip)
        if skip == 'done':
            log(f'{prop}: done ({os.path.relpath(path)}), skipped')
            continue
        if skip:
            log(f'{prop}: {skip}')
            failed.append(prop)
            continue
        log(f'== {prop}')
        t0 = time.time()
        try:
            res = funcs[prop](eng)
        except Exception as err:  # noqa: BLE001 - an SCF failure ends this property, not the run
            log(f'FAILED {prop}: {type(err).__name__}: {err}'.replace('\n', ' '))
            failed.append(prop)
            continue
        res = dict(property=prop, created=time.strftime('%Y-%m-%dT%H:%M:%S'),
                   wall_seconds=round(time.time() - t0, 1), **header, **res)
        write_json(path, res)
        log(f'{prop}: wrote {os.path.relpath(path)}: ' + json.dumps(res.get('result') or
                                                                   {'a0': res.get('a0'), 'ordering': res.get('summary', {}).get('ordering')}))
    log(f'finished: {eng.n_new} new SCFs' + (f'; FAILED: {" ".join(failed)}' if failed else ''))
    if failed:
        sys.exit(1)


if __name__ == '__main__':
    main()
