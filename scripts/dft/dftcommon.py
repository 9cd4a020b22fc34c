"""Shared pieces of the Si PBE data generator: DFT settings -> GPAW calculator, and labelling."""
import fnmatch
import math
import time

import numpy as np
from ase.calculators.calculator import kptdensity2monkhorstpack
from ase.units import GPa

A0_PBE = 5.469  # PBE lattice constant of diamond Si (Å); strains are taken relative to it

# SCF stopping criteria: tighter than GPAW's default density criterion (1e-4) so that forces are
# converged well below the 10 meV/Å target; a frame that misses them within MAXITER is rejected.
SCF_CONVERGENCE = {'energy': 1e-5, 'density': 2e-5, 'eigenstates': 4e-8}
MAXITER = 200


def settings_for(settings, category):
    """The DFT settings of a frame of `category`: settings.json's, changed by the first of its 'overrides' whose
    category patterns (shell-style) match: the disordered, metallic frames need denser k-meshes."""
    out = {k: v for k, v in settings.items() if k != 'overrides'}
    out.setdefault('kgrid_type', 'gamma-centred')
    for o in settings.get('overrides', []):
        if any(fnmatch.fnmatchcase(category, p) for p in o['categories']):
            out.update({k: v for k, v in o.items() if k not in ('categories', 'why')})
            break
    return out


def settings_key(s):
    """What makes two labellings the same (a settings_for() dict)."""
    return s['xc'], s['ecut'], s['kdens'], s['smearing'], s['width'], s['kgrid_type']


def stored_settings_key(info):
    """settings_key() of a stored frame, from its provenance (frames before 2026-11-28 were all Γ-centred)."""
    return (info['xc'], info['ecut_eV'], info['kpt_density_per_A'], info['smearing'], info['smearing_width_eV'],
            info.get('kgrid_type', 'gamma-centred'))


def is_stale(info, settings):
    """Was a stored frame (its info) computed with other settings than its category's now? Then it is relabelled."""
    return stored_settings_key(info) != settings_key(settings_for(settings, info['config_type']))


GRIDS = ('gamma-centred', 'monkhorst-pack')


def kgrid(atoms, kdens, grid='gamma-centred'):
    """Mesh size with at least `kdens` points per Å^-1 along each reciprocal vector
    (n_i = ceil(2π·kdens·|b_i|), |b_i| = 1/d_i), so that cells of any size sample alike; a Monkhorst-Pack mesh
    rounds the sizes up to even ones, so that it is shifted off Γ along every periodic axis (an odd one contains
    Γ). A slab has one point along its vacuum axis (atoms.info['vacuum_axis']): there is no dispersion."""
    n = [int(k) for k in kptdensity2monkhorstpack(atoms, kdens, even=grid == 'monkhorst-pack')]
    if 'vacuum_axis' in atoms.info:
        n[atoms.info['vacuum_axis']] = 1
    return tuple(n)


# Valence electrons of GPAW's default PAW setups, for the band count.
VALENCE = {'Si': 4}


def band_count(atoms):
    """Bands of the SCF: the occupied ones and max(4, 10 %) empty ones. With 0.02 eV of smearing nothing above
    them is occupied; GPAW's default (1.2 x occupied + 4: 43 instead of 36 for 16 Si atoms) costs ~19 % more time
    per frame, spent in the Davidson solver, for labels that agree with these within the SCF tolerance
    (docs/dft-data.md, "Bands")."""
    occupied = math.ceil(sum(VALENCE[s] for s in atoms.get_chemical_symbols()) / 2)
    return occupied + max(4, math.ceil(occupied / 10))


def make_calc(atoms, ecut, kdens, width, smearing='fermi-dirac', txt=None, kpts=None, grid='gamma-centred'):
    """GPAW plane-wave PBE calculator. The k-mesh is kgrid(atoms, kdens, grid) unless `kpts` (a mesh size)
    is given: strained copies of a cell keep the mesh of the unstrained one, so that finite differences
    between them carry no k-mesh jump."""
    from gpaw import GPAW, PW
    assert grid in GRIDS, grid
    return GPAW(mode=PW(ecut), xc='PBE',
                kpts={'size': tuple(kpts) if kpts else kgrid(atoms, kdens, grid), 'gamma': grid == 'gamma-centred'},
                nbands=band_count(atoms), occupations={'name': smearing, 'width': width},
                convergence=SCF_CONVERGENCE, maxiter=MAXITER, txt=txt)


def results(atoms, stress=True):
    """Labels of `atoms` from its (GPAW) calculator; stress only on request (it costs extra)."""
    # Free energy: the energy that forces and stress are derivatives of (force-consistent).
    e_free = atoms.get_potential_energy(force_consistent=True)
    out = dict(energy=e_free,
               energy_sigma0=atoms.get_potential_energy(),  # extrapolated to zero smearing, for reference
               forces=atoms.get_forces(), niter=atoms.calc.scf.niter, nbands=atoms.calc.wfs.bd.nbands)
    if stress:
        out['stress'] = atoms.get_stress(voigt=False)
    return out


def label(atoms, ecut, kdens, width, smearing='fermi-dirac', txt=None, kpts=None, grid='gamma-centred'):
    """Runs PBE on `atoms` (in place) and returns a dict of labels. Raises
    gpaw.KohnShamConvergenceError when the SCF does not converge."""
    atoms.calc = make_calc(atoms, ecut, kdens, width, smearing, txt, kpts, grid)
    t0 = time.time()
    out = results(atoms)
    out.update(seconds=time.time() - t0, kgrid=tuple(kpts) if kpts else kgrid(atoms, kdens, grid))
    return out


def stress_gpa(stress):
    return np.asarray(stress) / GPa
