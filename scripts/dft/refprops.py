"""Si reference properties: the cells each property is computed on and the analysis that turns energies,
stresses and forces into the property. Shared by the DFT side (scripts/dft/reference.py, GPAW) and the ML
side (scripts/validation/validate.py ... si-pbe, LAMMPS), so that both compute every property one way.

Structures travel as plain dicts (symbols, cell rows, Cartesian positions, Å), written into
data/si-pbe/reference/<property>.json, so the ML side evaluates the very cells the DFT side did.
Only numpy is imported here at module level: ASE builds the cells (DFT side), phonopy is imported where used.
"""
import numpy as np

EV_A3_GPA = 160.21766208          # eV/Å^3 -> GPa
EV_A2_J_M2 = 16.0217663           # eV/Å^2 -> J/m^2
PHASES = ('diamond', 'beta-tin', 'sh')

# Elastic constants: central differences of the stress at +-STRAIN (normal strain e_xx; engineering shear
# gamma = 2 e_xy). 1 % rather than 0.5 %: the stress change (~1 GPa) stays far above the SCF noise of the
# stress, and the O(strain^2) error of a central difference is ~1e-4 relative.
STRAIN = 0.01
PHONON_DISTANCE = 0.01            # Å, phonopy's default displacement
RELAX_FMAX = dict(small=1e-3, large=1e-2)   # eV/Å: 2-atom cells (cheap, C44 needs it) / defects, slabs


def closest_pair(positions, box):
    """The shortest distance between two atoms of an orthogonal periodic box (lengths `box`, one number or
    three), minimum image: fused atoms show here before they show in a g(r)."""
    d = positions[:, None, :] - positions[None, :, :]
    d -= np.round(d / box) * box
    r2 = (d ** 2).sum(axis=2)
    np.fill_diagonal(r2, np.inf)
    return float(np.sqrt(r2.min()))


# ---- structures as dicts -----------------------------------------------------------------------

def to_dict(atoms):
    d = dict(symbols=atoms.get_chemical_symbols(), cell=atoms.cell.array.tolist(),
             positions=atoms.positions.tolist())
    if 'vacuum_axis' in atoms.info:
        d['vacuum_axis'] = int(atoms.info['vacuum_axis'])
    return d


def to_atoms(d):
    from ase import Atoms
    at = Atoms(d['symbols'], cell=d['cell'], positions=d['positions'], pbc=True)
    if 'vacuum_axis' in d:
        at.info['vacuum_axis'] = d['vacuum_axis']
    return at


def volume(d):
    return abs(np.linalg.det(np.array(d['cell'])))


def strained(cell, eps):
    """Cell rows under the symmetric strain tensor eps (positions follow in fractional coordinates)."""
    return np.asarray(cell) @ (np.eye(3) + np.asarray(eps))


def strain_tensor(mode, e):
    """'xx': e_xx = e; 'xy': engineering shear gamma = e, i.e. e_xy = e_yx = e/2 (no rotation)."""
    eps = np.zeros((3, 3))
    if mode == 'xx':
        eps[0, 0] = e
    else:
        eps[0, 1] = eps[1, 0] = e / 2
    return eps


# ---- cell builders (ASE; DFT side) -------------------------------------------------------------

def phase_guess():
    """Per phase: (volume per atom guess, c/a) from the builders of the training data (tasks.py): diamond at
    the PBE a0 used there, beta-tin and simple hexagonal at their approximate PBE volume and fixed c/a."""
    from tasks import beta_tin, simple_hexagonal
    from dftcommon import A0_PBE
    bt, sh = beta_tin(), simple_hexagonal()
    return {'diamond': (A0_PBE ** 3 / 8, None),
            'beta-tin': (bt.get_volume() / len(bt), bt.cell[2, 2] / bt.cell[0, 0]),
            'sh': (sh.get_volume() / len(sh), sh.cell[2, 2] / sh.cell[0, 0])}


def phase_cell(phase, v_atom, c_over_a=None):
    """Primitive cell of a phase at volume v_atom per atom: diamond (2 atoms, fcc vectors), beta-tin (2 atoms,
    body-centred tetragonal vectors, I4_1/amd with no free internal coordinate), simple hexagonal (1 atom)."""
    from ase import Atoms
    from ase.build import bulk
    if phase == 'diamond':
        return bulk('Si', 'diamond', (8 * v_atom) ** (1 / 3))
    if phase == 'beta-tin':       # conventional a, c = r a with 4 atoms in a^2 c
        a = (4 * v_atom / c_over_a) ** (1 / 3)
        c = c_over_a * a
        return Atoms('Si2', cell=[[-a / 2, a / 2, c / 2], [a / 2, -a / 2, c / 2], [a / 2, a / 2, -c / 2]],
                     positions=[[0, 0, 0], [0, a / 2, c / 4]], pbc=True)
    if phase == 'sh':
        a = (v_atom / (c_over_a * np.sqrt(3) / 2)) ** (1 / 3)
        return Atoms('Si', cell=[[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c_over_a * a]], pbc=True)
    raise ValueError(phase)


def vacancy_cells(a0, rng):
    """Perfect 2x2x2 supercell of the primitive cell (16 sites, fcc-shaped, vacancy images 2 a0/sqrt(2)
    = 7.7 Å apart) and the same minus atom 0, rattled by 0.02 Å (seeded) so that the relaxation can break
    the tetrahedral symmetry (Jahn-Teller distortion) instead of stalling on the symmetric saddle."""
    from ase.build import bulk
    perfect = bulk('Si', 'diamond', a0) * (2, 2, 2)
    vac = perfect.copy()
    del vac[0]
    vac.positions += rng.normal(0.0, 0.02, vac.positions.shape)
    return perfect, vac


def slab_cells(orient, a0, buckle=0.2):
    """(slab, bulk) with the same in-plane cell, 16 atoms each side of the comparison:
    '100': 8 layers, 1x2 surface cell (2 atoms per layer), p(2x1) reconstruction: the top and bottom atoms
           start paired into dimers along y (their dangling bonds point along y) and buckled by +-buckle Å
           (the reference: 0.2), and relax to asymmetric dimers.
    '111': 8 atomic layers = 4 bilayers, 2x1 surface cell, bulk-terminated with one dangling bond per
           surface atom (unreconstructed 1x1; the real surface is 7x7), relaxed from the ideal positions.
    Vacuum 10 Å (5 Å each side, as the training slabs). bulk: the same in-plane cell, periodic along z,
    for E_bulk per atom with the same in-plane k-mesh."""
    from ase.build import diamond100, diamond111
    if orient == '100':
        slab = diamond100('Si', (1, 2, 8), a=a0, vacuum=5.0)
        bulk = diamond100('Si', (1, 2, 4), a=a0)          # one period: 4 layers = a0 along z
        bulk.set_cell(np.vstack([slab.cell[:2], [0, 0, a0]]), scale_atoms=False)
        z = slab.positions[:, 2]
        d = a0 / np.sqrt(2)                               # 1x1 spacing; dimer bond ~2.35 Å
        for zsurf, up in ((z.max(), 1.0), (z.min(), -1.0)):
            i, j = sorted(np.where(np.abs(z - zsurf) < 0.1)[0], key=lambda k: slab.positions[k, 1])
            shift = (d - 2.35) / 2
            slab.positions[i] += [0, shift, buckle * up]
            slab.positions[j] += [0, -shift, -buckle * up]
    elif orient == '111':
        slab = diamond111('Si', (2, 1, 10), a=a0, vacuum=5.0)
        z = slab.positions[:, 2]
        # the outermost atomic layers of ASE's slab hang by one bond (three dangling bonds): drop them
        del slab[[k for k in range(len(slab)) if abs(z[k] - z.max()) < 0.1 or abs(z[k] - z.min()) < 0.1]]
        slab.center(vacuum=5.0, axis=2)
        bulk = diamond111('Si', (2, 1, 6), a=a0)          # one period: 3 bilayers = sqrt(3) a0 along z
        bulk.set_cell(np.vstack([slab.cell[:2], [0, 0, np.sqrt(3) * a0]]), scale_atoms=False)
    else:
        raise ValueError(orient)
    slab.pbc = bulk.pbc = True
    slab.info['vacuum_axis'] = 2
    return slab, bulk


def phonon_setup(a0):
    """phonopy object for diamond at a0: unit cell = the primitive cell, 2x2x2 supercell (16 atoms,
    commensurate with Gamma, X and L), displacements generated by symmetry (one for diamond)."""
    from ase.build import bulk
    prim = bulk('Si', 'diamond', a0)
    ph = make_phonopy(to_dict(prim), 2 * np.eye(3, dtype=int))
    ph.generate_displacements(distance=PHONON_DISTANCE)
    return ph


# ---- analysis (both sides) ---------------------------------------------------------------------

def bm_fit(v, e):
    """Third-order Birch-Murnaghan fit as a cubic polynomial in x = V^(-2/3): returns V0, E0, B0 (eV/Å^3)."""
    v, e = np.asarray(v, float), np.asarray(e, float)
    x = v ** (-2.0 / 3.0)
    p = np.polyfit(x, e, 3)
    dp = np.polyder(p)
    roots = [r.real for r in np.roots(dp) if abs(r.imag) < 1e-12 and r.real > 0]
    x0 = min(roots, key=lambda r: abs(r - x.mean()))
    v0 = x0 ** (-1.5)
    # E(V) = P(x(V)); dE/dV = P' x', d2E/dV2 = P'' x'^2 + P' x'' ; at V0, P'(x0) = 0.
    xp = -2.0 / 3.0 * v0 ** (-5.0 / 3.0)
    b0 = v0 * np.polyval(np.polyder(dp), x0) * xp ** 2
    return v0, float(np.polyval(p, x0)), b0


def eos(v_atom, e_atom):
    """BM3 fit of E/atom(V/atom): V0, E0, B0 (GPa), B0' (numerical from the fitted curve), rms residual,
    whether V0 lies inside the sampled range, and the polynomial (for plots)."""
    v, e = np.asarray(v_atom, float), np.asarray(e_atom, float)
    p = np.polyfit(v ** (-2.0 / 3.0), e, 3)
    v0, e0, b0 = bm_fit(v, e)

    def bulk_mod(vv, h=1e-3):
        f = lambda w: np.polyval(p, w ** (-2.0 / 3.0))
        hh = h * vv
        return vv * (f(vv + hh) - 2 * f(vv) + f(vv - hh)) / hh ** 2
    h = 1e-3 * v0
    bp = -v0 / b0 * (bulk_mod(v0 + h) - bulk_mod(v0 - h)) / (2 * h)
    rms = float(np.sqrt(np.mean((np.polyval(p, v ** (-2.0 / 3.0)) - e) ** 2)))
    return dict(V0=float(v0), E0=e0, B0=float(b0 * EV_A3_GPA), Bp=float(bp), rms_meV=1e3 * rms,
                V0_in_range=bool(v.min() < v0 < v.max()), poly_x=p.tolist())


def eos_energy(fit, v):
    return np.polyval(fit['poly_x'], np.asarray(v, float) ** (-2.0 / 3.0))


def transition_pressure(fit_a, fit_b):
    """Pressure (GPa) where the enthalpies H = E + PV of two BM3 fits cross (a -> b under compression), and
    the two volumes there; None if they do not cross below 50 GPa within the fits' reach."""
    def state(fit, P):           # volume where -dE/dV = P (P in eV/Å^3), searched on a dense grid
        vv = np.linspace(0.6 * fit['V0'], 1.1 * fit['V0'], 4001)
        pp = -np.gradient(eos_energy(fit, vv), vv)
        k = int(np.argmin(np.abs(pp - P)))
        return vv[k], eos_energy(fit, vv[k]) + P * vv[k]
    prev = None
    for P in np.linspace(0, 50 / EV_A3_GPA, 2001):
        (va, ha), (vb, hb) = state(fit_a, P), state(fit_b, P)
        if prev is not None and prev < 0 <= ha - hb:     # a (diamond) is lower at low pressure
            return dict(P=float(P * EV_A3_GPA), V_a=float(va), V_b=float(vb))
        prev = ha - hb
    return None


def ev_summary(phases):
    """phases: {name: dict(points=[dict(v_atom, e_atom)])} -> fits, energies relative to diamond, ordering
    by E0, and the diamond -> beta-tin transition pressure (common tangent of the fits)."""
    fits = {k: eos([p['v_atom'] for p in ph['points']], [p['e_atom'] for p in ph['points']])
            for k, ph in phases.items()}
    out = dict(fits=fits)
    if 'diamond' in fits:
        d = fits['diamond']
        out['a0'] = (8 * d['V0']) ** (1 / 3)
        out['dE0_meV'] = {k: 1e3 * (f['E0'] - d['E0']) for k, f in fits.items()}
        if 'beta-tin' in fits:
            out['P_diamond_beta_tin'] = transition_pressure(d, fits['beta-tin'])
    out['ordering'] = sorted(fits, key=lambda k: fits[k]['E0'])
    return out


def elastic_constants(points):
    """points: [dict(mode 'xx'|'xy', strain e, stress (3x3 eV/Å^3, ASE sign: positive = tensile),
    stress_relaxed)] at +-e. C11 = dσxx/dε_xx, C12 = dσyy/dε_xx (mean of yy, zz), C44 = dσxy/dγ, from central
    differences; C44 with the internal relaxation of the atoms (Kleinman) and C44⁰ without. GPa."""
    def diff(mode, comp, key):
        sel = {np.sign(p['strain']): p for p in points if p['mode'] == mode}
        e = sel[1]['strain']
        s = lambda q: np.asarray(q[key])
        return (s(sel[1]) - s(sel[-1]))[comp] / (2 * e) * EV_A3_GPA
    out = dict(C11=diff('xx', (0, 0), 'stress_relaxed'),
               C12=0.5 * (diff('xx', (1, 1), 'stress_relaxed') + diff('xx', (2, 2), 'stress_relaxed')),
               C44=diff('xy', (0, 1), 'stress_relaxed'),
               C44_unrelaxed=diff('xy', (0, 1), 'stress'))
    out = {k: float(v) for k, v in out.items()}
    out['B_from_C'] = (out['C11'] + 2 * out['C12']) / 3
    out['C_prime'] = (out['C11'] - out['C12']) / 2
    return out


def vacancy_energy(e_perfect, n_perfect, e_vacancy):
    """E_f = E(N-1) - (N-1)/N E(N) at fixed cell (eV)."""
    return float(e_vacancy - (n_perfect - 1) / n_perfect * e_perfect)


def surface_energy(e_slab, n_slab, e_bulk, n_bulk, cell):
    """gamma = (E_slab - N_slab E_bulk/N_bulk) / (2 A), A = |a1 x a2|; returns (eV/Å^2, J/m^2)."""
    c = np.asarray(cell)
    area = np.linalg.norm(np.cross(c[0], c[1]))
    g = (e_slab - n_slab * e_bulk / n_bulk) / (2 * area)
    return float(g), float(g * EV_A2_J_M2)


def dimer_buckling(d, cutoff=2.7):
    """(100) slab: for the topmost and bottommost atoms, |Δz| and length of the dimer (minimum image)."""
    cell = np.asarray(d['cell'])
    pos = np.asarray(d['positions'])
    z = pos[:, 2]
    out = []
    for zsurf in (z.max(), z.min()):
        # the two outermost atoms of this surface (buckled, so take the 2 nearest the edge)
        order = np.argsort(-z if zsurf == z.max() else z)[:2]
        i, j = order
        dv = pos[j] - pos[i]
        f = np.linalg.solve(cell.T, dv)
        f[:2] -= np.round(f[:2])
        dv = cell.T @ f
        out.append(dict(dz=float(abs(dv[2])), length=float(np.linalg.norm(dv))))
    return out


def make_phonopy(unit, supercell_matrix):
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms
    u = PhonopyAtoms(symbols=unit['symbols'], cell=unit['cell'], positions=unit['positions'])
    return Phonopy(u, supercell_matrix=np.asarray(supercell_matrix, dtype=int), primitive_matrix=None)


def qpoint(unit_cell, q_cart_2pi_over_a, a):
    """Reduced coordinates (of the unit cell's reciprocal vectors) of q = (2π/a)·q_cart."""
    return np.asarray(unit_cell) @ np.asarray(q_cart_2pi_over_a, float) / a


def phonon_frequencies(unit, supercell_matrix, dataset, forces, a0):
    """Frequencies (THz, ascending) at Γ, X = (2π/a)(1,0,0) and L = (2π/a)(½,½,½) from the force sets of the
    displaced supercells (finite displacements; phonopy). Labels for diamond: Γ optical = mean of modes 4-6;
    X: TA = modes 1-2, LA(=LO) = 3-4, TO = 5-6 (the ordering TA < LA < TO holds for Si)."""
    ph = make_phonopy(unit, supercell_matrix)
    ph.dataset = dataset
    ph.forces = np.asarray(forces)
    ph.produce_force_constants()
    # translational invariance (acoustic sum rule) and index symmetry, which finite forces only nearly obey
    ph.symmetrize_force_constants()
    cell = unit['cell']
    q = {'G': [0, 0, 0], 'X': [1, 0, 0], 'L': [0.5, 0.5, 0.5]}
    freqs = {k: sorted(float(f) for f in ph.get_frequencies(qpoint(cell, v, a0))) for k, v in q.items()}
    g, x = freqs['G'], freqs['X']
    return dict(freqs=freqs, G_optical=float(np.mean(g[3:6])), G_acoustic_max=float(max(abs(f) for f in g[:3])),
                X_TA=float(np.mean(x[0:2])), X_LA=float(np.mean(x[2:4])), X_TO=float(np.mean(x[4:6])))
