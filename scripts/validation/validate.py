#!/usr/bin/python3
"""Validation of a facet potential against the classical potential it learned, as physics.

    /usr/bin/python3 scripts/validation/validate.py <potential.facet> <si-sw|cu-eam> [--name NAME] [--quick]

(normally through scripts/validate, which sets up LAMMPS). Every property is computed twice with the same
LAMMPS input templates (scripts/validation/lammps/*.lmp): once with the reference potential (the pair files
of scripts/reference-data/lammps, i.e. the labels of data/<reference>) and once with the facet potential
through the plugin. Writes docs/validation/<NAME>.md (the table) and docs/validation/<NAME>/ (PNG plots,
results.json, the gnuplot scripts and their data). See docs/validation/README.md.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
TEMPLATES = os.path.join(HERE, 'lammps')
REF_PAIRS = os.path.join(ROOT, 'scripts', 'reference-data', 'lammps')
BAR_PER_GPA = 1.0e4
EV_A3_GPA = 160.21766208
KB = 8.617333262e-5

FCC = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
DIAMOND = np.vstack([FCC, FCC + 0.25])

# Per reference: structure, supercells, temperatures and run lengths. Run lengths keep one facet
# validation at about 10 minutes on 2 shared cores (facet: ~1 ms per atom-step on one core).
SYSTEMS = {
    'si-sw': dict(
        symbol='Si', mass=28.0855, basis=DIAMOND, a=5.431, lattice='diamond',
        pair='pair-si-sw.lmp', potential='Si.sw', style='pair_style sw (Si.sw, Stillinger-Weber 1985)',
        n=2,                  # 2x2x2 cubic cells = 64 atoms for everything
        n_vac=2,              # vacancy: 64 -> 63 atoms
        temp=300, md=dict(nequil=1000, nsample=1000, every=20, nnve=1000, vevery=2),
        liquid=dict(temp=1800, thot=3500, nhot=6000, ncool=2000, nequil=500, nsample=1000, every=20),
    ),
    'cu-eam': dict(
        symbol='Cu', mass=63.546, basis=FCC, a=3.615, lattice='fcc',
        pair='pair-cu-eam.lmp', potential='Cu_mishin1.eam.alloy',
        style='pair_style eam/alloy (Cu_mishin1.eam.alloy, Mishin et al. 2001)',
        n=3,                  # 3x3x3 cubic cells = 108 atoms (E-V, elastic constants, MD)
        n_vac=3,              # vacancy: 108 -> 107 atoms
        temp=300, md=dict(nequil=1000, nsample=1000, every=20, nnve=1000, vevery=2),
        liquid=None,
    ),
}
STRAIN = 0.005                                      # elastic constants: +-0.5 %
EV_POINTS, EV_STEP = 41, 0.0025                     # E-V curve: linear strain -5 % ... +5 % in 0.25 % steps
EOS_FIT = 0.015                                      # Birch-Murnaghan fit over |strain| <= 1.5 %

# Targets: the first two rows are the (lattice constant 0.1 %, elastic constants 5 %); the others
# are this script's, stated in docs/validation/README.md.
TARGETS = dict(a0=0.001, C=0.05, B=0.05, Evac=0.05, rdf_pos=0.01, rdf_height=0.10, nu=0.05)
REUSE = False                                        # --reuse: skip the LAMMPS runs that finished in the work folder
DRIFT_TARGET = 0.1                                   # |NVE drift| <= 0.1 meV/atom/ps at dt = 1 fs


def log(msg):
    print(msg, flush=True)


# ----------------------------------------------------------------------------------------------
# LAMMPS

class Runner:
    def __init__(self, work, sysdef, which, potential=None, plugin=None):
        self.work, self.s, self.which = work, sysdef, which
        self.lmp = os.environ.get('FACET_LMP')
        src = os.environ.get('LAMMPS_SOURCE_DIR')
        if not self.lmp or not src:
            sys.exit('validate.py: FACET_LMP and LAMMPS_SOURCE_DIR must be set (source ~/.cache/facet-lammps/env.sh)')
        self.potdir = os.path.normpath(os.path.join(src, '..', 'potentials'))
        self.dir = os.path.join(work, which)
        os.makedirs(self.dir, exist_ok=True)
        if not REUSE:
                shutil.copy(os.path.join(TEMPLATES, 'common.lmp'), self.dir)
        if which == 'reference':
            self.pair = os.path.join(REF_PAIRS, sysdef['pair'])
        else:
            self.pair = os.path.join(self.dir, 'pair-facet.lmp')
            with open(self.pair, 'w') as f:
                f.write(f'plugin load {plugin}\n'
                        f'mass 1 {sysdef["mass"]}\n'
                        'pair_style facet\n'
                        f'pair_coeff * * {potential} {sysdef["symbol"]}\n')
        self.seconds = 0.0

    def run(self, template, name, **var):
        logf = os.path.join(self.dir, name + '.log')
        timef = os.path.join(self.dir, name + '.seconds')
        if REUSE and os.path.exists(logf) and 'Total wall time' in open(logf).read():
            self.seconds += wall_time(logf, timef)      # --reuse: this run finished before
            return os.path.join(self.dir, name)
        t0 = time.time()
        cmd = [self.lmp, '-nocite', '-screen', 'none', '-log', logf, '-in', os.path.join(TEMPLATES, template),
               '-var', 'dir', self.dir, '-var', 'pair', self.pair, '-var', 'potdir', self.potdir]
        for k, v in var.items():
            cmd += ['-var', k] + (v if isinstance(v, list) else [str(v)])
        r = subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True)
        if r.returncode != 0:
            tail = open(logf).read()[-3000:] if os.path.exists(logf) else ''
            sys.exit(f'LAMMPS failed ({self.which}: {template}, {name}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}\n'
                     f'--- {logf}:\n{tail}')
        dt = time.time() - t0
        with open(timef, 'w') as f:
            f.write(f'{dt:.3f}\n')
        self.seconds += dt
        return os.path.join(self.dir, name)

    def data(self, name, a, n):
        """Writes the n x n x n cubic supercell at lattice constant a; returns its path."""
        shifts = np.array([(i, j, k) for i in range(n) for j in range(n) for k in range(n)])
        pos = ((shifts[:, None, :] + self.s['basis'][None, :, :]).reshape(-1, 3)) * a
        L = n * a
        path = os.path.join(self.dir, name + '.data')
        lines = ['validation crystal\n', f'{len(pos)} atoms', '1 atom types', f'0.0 {L!r} xlo xhi',
                 f'0.0 {L!r} ylo yhi', f'0.0 {L!r} zlo zhi', '', 'Masses', '', f'1 {self.s["mass"]}', '',
                 'Atoms # atomic', '']
        lines += [f'{i + 1} 1 {x!r} {y!r} {z!r}' for i, (x, y, z) in enumerate(pos.tolist())]
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        return path


def wall_time(logf, timef):
    """Seconds that a finished run took: as measured (timef), else LAMMPS's 'Total wall time: h:mm:ss'."""
    if os.path.exists(timef):
        return float(open(timef).read())
    for line in open(logf):
        if line.startswith('Total wall time:'):
            h, m, sec = line.split()[-1].split(':')
            return 3600 * int(h) + 60 * int(m) + int(sec)
    return 0.0


def numbers(path):
    return [float(x) for line in open(path) if not line.startswith('#') for x in line.split()]


# ----------------------------------------------------------------------------------------------
# Properties

def bm_fit(v, e):
    """Third-order Birch-Murnaghan fit as a cubic polynomial in x = V^(-2/3): returns V0, E0, B0 (eV/Å^3)."""
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


def crystal_properties(R, s):
    n = s['n']
    natom_cell = len(s['basis'])
    # Equilibrium lattice constant.
    out = R.run('relax.lmp', 'relax', data=R.data('start', s['a'] * 1.01, n), n=n, out='relax.txt')
    a0, e0, p_res = numbers(out + '.txt')
    res = dict(a0=a0, E_coh=e0, relax_residual_pressure_bar=p_res)
    # E-V curve around the potential's own a0.
    out = R.run('ev.lmp', 'ev', data=R.data('a0', a0, n), a0=a0, n=n,
                npts=EV_POINTS, step=EV_STEP, out='ev.txt')
    ev = np.array(numbers(out + '.txt')).reshape(-1, 4)
    res['ev'] = ev[:, :3].tolist()
    # B = -V dP/dV at a0: central difference of the pressures of the two E(V) points next to a0.
    i = int(np.argmin(np.abs(ev[:, 0])))
    res['B'] = -ev[i, 1] * (ev[i + 1, 3] - ev[i - 1, 3]) / (ev[i + 1, 1] - ev[i - 1, 1]) / BAR_PER_GPA
    # For comparison: a third-order Birch-Murnaghan fit of E(V) over |strain| <= EOS_FIT.
    sel = np.abs(ev[:, 0]) <= EOS_FIT + 1e-9
    v0, emin, b0 = bm_fit(ev[sel, 1], ev[sel, 2])
    res['B_bm3'] = b0 * EV_A3_GPA
    res['a0_eos'] = (v0 * natom_cell) ** (1.0 / 3.0)
    # Elastic constants: +-STRAIN, atoms relaxed at the fixed strained cell; C44 also unrelaxed.
    st = {}
    for mode in ('xx', 'xy'):
        for sign in (1, -1):
            for relax in ((1, 0) if mode == 'xy' else (1,)):
                tag = f'strain-{mode}-{"p" if sign > 0 else "m"}-{relax}'
                out = R.run('strain.lmp', tag, data=os.path.join(R.dir, 'a0.data'), mode=mode,
                            eps=f'({sign * STRAIN})', relax=relax, out=tag + '.txt')
                st[(mode, sign, relax)] = numbers(out + '.txt')
    d = lambda mode, comp, relax: -(st[(mode, 1, relax)][comp] - st[(mode, -1, relax)][comp]) / (2 * STRAIN) / BAR_PER_GPA
    res['C11'] = d('xx', 0, 1)
    res['C12'] = 0.5 * (d('xx', 1, 1) + d('xx', 2, 1))
    res['C44'] = d('xy', 3, 1)
    res['C44_unrelaxed'] = d('xy', 3, 0)
    res['B_from_C'] = (res['C11'] + 2 * res['C12']) / 3
    # Vacancy.
    out = R.run('vacancy.lmp', 'vacancy', data=R.data('vac', a0, s['n_vac']), out='vacancy.txt')
    N, ep, eu, er, fmax = numbers(out + '.txt')
    res['vacancy'] = dict(N=int(N), E_perfect=ep, Ef_unrelaxed=eu - (N - 1) / N * ep, Ef=er - (N - 1) / N * ep,
                          fmax=fmax)
    res['Evac'] = res['vacancy']['Ef']
    return res


def read_dump(path, ncol=3):
    """Frames of a sorted custom dump with id + 3 columns: (box lengths (3,), array N x 3)."""
    frames = []
    with open(path) as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        n = int(lines[i + 3])
        box = np.array([[float(x) for x in lines[i + 5 + k].split()[:2]] for k in range(3)])
        rows = np.array([[float(x) for x in l.split()] for l in lines[i + 9:i + 9 + n]])
        frames.append((box[:, 1] - box[:, 0], box[:, 0], rows[:, 1:4]))
        i += 9 + n
    return frames


def rdf(frames, rmax, nbins=200):
    """g(r) of an orthorhombic periodic cell, all images within rmax (Å)."""
    edges = np.linspace(0.0, rmax, nbins + 1)
    hist = np.zeros(nbins)
    for L, lo, pos in frames:
        nimg = [int(math.ceil(rmax / l)) for l in L]
        shifts = np.array([(i, j, k) for i in range(-nimg[0], nimg[0] + 1) for j in range(-nimg[1], nimg[1] + 1)
                           for k in range(-nimg[2], nimg[2] + 1)]) * L
        d = pos[:, None, :] - pos[None, :, :]
        d -= np.round(d / L) * L
        for sh in shifts:
            r = np.linalg.norm(d + sh, axis=-1).ravel()
            r = r[(r > 1e-6) & (r < rmax)]
            hist += np.histogram(r, bins=edges)[0]
    L, _, pos = frames[0]
    n = len(pos)
    rho = n / np.prod(L)
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    g = hist / (len(frames) * n * rho * shell)
    return 0.5 * (edges[1:] + edges[:-1]), g


def first_peak(r, g):
    k = int(np.argmax(g))
    lo, hi = max(k - 2, 0), min(k + 3, len(g))   # parabola through the top bins for the position
    c = np.polyfit(r[lo:hi], g[lo:hi], 2)
    pos = -c[1] / (2 * c[0]) if c[0] < 0 else r[k]
    return float(pos), float(g[k])


def coordination(r, g, rho, rcut):
    """Mean number of neighbours within rcut: the integral of 4 pi r^2 rho g(r)."""
    dr = r[1] - r[0]
    sel = r < rcut
    return float(np.sum(4 * np.pi * r[sel] ** 2 * rho * g[sel]) * dr)


def vdos(vel_frames, dt_ps, mass):
    """Vibrational density of states from the velocities (|FFT|^2, Hann window), normalised to area 1."""
    v = np.array([f[2] for f in vel_frames])            # T x N x 3
    v = v - v.mean(axis=1, keepdims=True)
    w = np.hanning(len(v))[:, None, None]
    spec = (np.abs(np.fft.rfft(v * w, axis=0)) ** 2).sum(axis=(1, 2)) * mass
    nu = np.fft.rfftfreq(len(v), dt_ps)                 # THz
    spec /= np.trapz(spec, nu)
    return nu, spec


def md_properties(R, s, a0, liquid_data):
    res = {}
    m = s['md']
    T = s['temp']
    tag = R.run('md.lmp', 'md', data=os.path.join(R.dir, 'a0.data'), temp=T, tinit=2 * T, seed=4928459,
                nequil=m['nequil'], nsample=m['nsample'], every=m['every'], nnve=m['nnve'], vevery=m['vevery'],
                tag='md')
    frames = read_dump(tag + '.pos')
    L = frames[0][0]
    r, g = rdf(frames, rmax=min(6.0, 0.5 * L.min()))
    pos, h = first_peak(r, g)
    res['rdf'] = dict(r=r.tolist(), g=g.tolist(), peak=pos, height=h, frames=len(frames))
    e = np.array(numbers(tag + '.nve')).reshape(-1, 3)
    t = e[:, 0] * 1e-3                                   # ps
    slope = np.polyfit(t, e[:, 1], 1)[0] * 1e3           # meV/atom/ps
    res['nve'] = dict(t=t.tolist(), e=(1e3 * (e[:, 1] - e[0, 1])).tolist(), drift=float(slope),
                      fluct=float(1e3 * np.std(e[:, 1])), Tmean=float(e[:, 2].mean()))
    nu, spec = vdos(read_dump(tag + '.vel'), m['vevery'] * 1e-3, s['mass'])
    keep = nu <= 25.0
    res['vdos'] = dict(nu=nu[keep].tolist(), g=spec[keep].tolist(), mean=float(np.trapz(nu * spec, nu)))
    if liquid_data:
        q = s['liquid']
        tag = R.run('md.lmp', 'liquid', data=liquid_data, temp=q['temp'], tinit=q['temp'], seed=771931,
                    nequil=q['nequil'], nsample=q['nsample'], every=q['every'], nnve=0, vevery=1, tag='liquid')
        frames = read_dump(tag + '.pos')
        L = frames[0][0]
        rl, gl = rdf(frames, rmax=min(6.0, 0.5 * L.min()))
        pos, h = first_peak(rl, gl)
        rho = len(frames[0][2]) / np.prod(L)
        # Mean-square displacement of the sampling stage (unwrapped by the minimum image between frames).
        p = np.array([f[2] for f in frames])
        dp = np.diff(p, axis=0)
        dp -= np.round(dp / L) * L
        disp = np.cumsum(dp, axis=0)
        msd = float((disp[-1] ** 2).sum(axis=1).mean())
        res['liquid'] = dict(r=rl.tolist(), g=gl.tolist(), peak=pos, height=h, rho=float(rho),
                             coordination=coordination(rl, gl, rho, 2.97), msd=msd,
                             time_ps=q['nsample'] * 1e-3, frames=len(frames))
    return res


# ----------------------------------------------------------------------------------------------
# Report

def gnuplot(outdir, name, script):
    gp = os.path.join(outdir, name + '.gp')
    with open(gp, 'w') as f:
        f.write(script)
    if not shutil.which('gnuplot'):
        log(f'  warning: no gnuplot; {gp} kept')
        return
    r = subprocess.run(['gnuplot', name + '.gp'], cwd=outdir, capture_output=True, text=True)
    if r.returncode != 0:
        log(f'  warning: gnuplot {name}.gp failed: {r.stderr[-500:]}')


def write_dat(path, cols, header):
    with open(path, 'w') as f:
        f.write('# ' + header + '\n')
        for row in zip(*cols):
            f.write(' '.join(f'{x:.10g}' for x in row) + '\n')


TERM = 'set terminal pngcairo size 800,560 enhanced font "DejaVu Sans,11"\n'


def plots(outdir, label, ref, fac, sysdef):
    for k, res in (('reference', ref), ('facet', fac)):
        ev = np.array(res['ev'])
        write_dat(os.path.join(outdir, f'ev_{k}.dat'), [ev[:, 1], ev[:, 2], ev[:, 0]], 'V/atom (A^3)  E/atom (eV)  strain')
        write_dat(os.path.join(outdir, f'rdf_{k}.dat'), [res['rdf']['r'], res['rdf']['g']], 'r (A)  g(r)')
        write_dat(os.path.join(outdir, f'nve_{k}.dat'), [res['nve']['t'], res['nve']['e']],
                  't (ps)  E_tot/atom - E_tot/atom(0) (meV)')
        write_dat(os.path.join(outdir, f'vdos_{k}.dat'), [res['vdos']['nu'], res['vdos']['g']], 'nu (THz)  VDOS (1/THz)')
        if 'liquid' in res:
            write_dat(os.path.join(outdir, f'rdf_liquid_{k}.dat'), [res['liquid']['r'], res['liquid']['g']], 'r (A)  g(r)')
    refname = sysdef['style'].split('(')[0].replace('pair_style ', '').strip()
    lines = (f'plot "{{0}}_reference.dat" {{1}} w l lw 2 lc rgb "#1f77b4" t "reference ({refname})", '
             f'"{{0}}_facet.dat" {{1}} w {{2}} lw 2 lc rgb "#d62728" t "facet ({label})"\n')
    gnuplot(outdir, 'ev', TERM + 'set output "ev.png"\nset xlabel "volume per atom (Å^3)"\n'
            'set ylabel "energy per atom (eV)"\nset key top center\nset grid\n'
            f'set title "{sysdef["symbol"]} {sysdef["lattice"]}: E(V), perfect crystal, isotropic strain ±5 %"\n'
            + lines.format('ev', 'u 1:2', 'lp pt 7 ps 0.6'))
    T = sysdef['temp']
    gnuplot(outdir, 'rdf', TERM + 'set output "rdf.png"\nset xlabel "r (Å)"\nset ylabel "g(r)"\nset grid\n'
            f'set title "{sysdef["symbol"]} crystal, NVT {T} K: radial distribution function"\n'
            + lines.format('rdf', 'u 1:2', 'l dt 2'))
    gnuplot(outdir, 'nve', TERM + 'set output "nve.png"\nset xlabel "t (ps)"\n'
            'set ylabel "E_{tot}/atom − E_{tot}/atom(0) (meV)"\nset grid\n'
            f'set title "{sysdef["symbol"]} crystal, NVE from {T} K, dt = 1 fs: total energy"\n'
            + lines.format('nve', 'u 1:2', 'l'))
    gnuplot(outdir, 'vdos', TERM + 'set output "vdos.png"\nset xlabel "frequency (THz)"\n'
            'set ylabel "VDOS (1/THz, area 1)"\nset grid\n'
            f'set title "{sysdef["symbol"]} crystal, NVE near {T} K: vibrational DOS from the velocities"\n'
            + lines.format('vdos', 'u 1:2', 'l dt 2'))
    if 'liquid' in ref:
        q = sysdef['liquid']
        gnuplot(outdir, 'rdf_liquid', TERM + 'set output "rdf_liquid.png"\nset xlabel "r (Å)"\nset ylabel "g(r)"\n'
                f'set grid\nset title "{sysdef["symbol"]} liquid, NVT {q["temp"]} K: radial distribution function"\n'
                + lines.format('rdf_liquid', 'u 1:2', 'l dt 2'))


def rel(f, r):
    return (f - r) / abs(r)


def row(name, unit, r, f, target=None, fmt='.4f', note=''):
    err = rel(f, r)
    if target is None:
        t, ok = '—', ''
    else:
        t = f'≤ {100 * target:g} %'
        ok = 'yes' if abs(err) <= target else '**no**'
    return f'| {name} | {unit} | {r:{fmt}} | {f:{fmt}} | {100 * err:+.2f} % | {t} | {ok} |{note}'


def report(args, sysdef, ref, fac, outdir, md_path, timings, potential_sha):
    s = sysdef
    n = s['n']
    nat = n ** 3 * len(s['basis'])
    vac = ref['vacancy']['N']
    T = s['temp']
    m = s['md']
    rel_pot = os.path.relpath(os.path.abspath(args.potential), ROOT)
    L = []
    L.append(f'# Validation: `{rel_pot}` against {s["style"]}\n')
    L.append(f'Generated by `scripts/validate {rel_pot} {args.reference}` '
             f'({time.strftime("%Y-%m-%d", time.gmtime())}; potential sha256 `{potential_sha}`; '
             f'LAMMPS {lammps_version()}). Every number comes from the same LAMMPS input templates run with '
             'both potentials; methods, tolerances and caveats: [README.md](README.md). Plots and raw numbers: '
             f'[`{args.name}/`]({args.name}/).\n')
    L.append('| property | unit | reference | facet | error | target | met |')
    L.append('|---|---|---|---|---|---|---|')
    L.append(row(f'lattice constant a₀ (box/relax, {nat} atoms)', 'Å', ref['a0'], fac['a0'], TARGETS['a0'], '.5f'))
    L.append(row('energy per atom at a₀', 'eV', ref['E_coh'], fac['E_coh'], None, '.4f'))
    L.append(row(f'bulk modulus B = −V dP/dV (±{100 * EV_STEP:g} %)', 'GPa', ref['B'], fac['B'], TARGETS['B'], '.1f'))
    L.append(row(f'C11 (±{100 * STRAIN:g} %, relaxed)', 'GPa', ref['C11'], fac['C11'], TARGETS['C'], '.1f'))
    L.append(row(f'C12 (±{100 * STRAIN:g} %, relaxed)', 'GPa', ref['C12'], fac['C12'], TARGETS['C'], '.1f'))
    L.append(row(f'C44 (±{100 * STRAIN:g} %, internal relaxation)', 'GPa', ref['C44'], fac['C44'], TARGETS['C'], '.1f'))
    L.append(row("C' = (C11 − C12)/2 (tetragonal shear, informative)", 'GPa', (ref['C11'] - ref['C12']) / 2,
                 (fac['C11'] - fac['C12']) / 2, None, '.1f'))
    L.append(row('C44⁰ (unrelaxed, informative)', 'GPa', ref['C44_unrelaxed'], fac['C44_unrelaxed'], None, '.1f'))
    L.append(row(f'vacancy formation energy (relaxed, {vac} → {vac - 1} atoms, fixed a₀)', 'eV',
                 ref['Evac'], fac['Evac'], TARGETS['Evac'], '.3f'))
    L.append(row('vacancy formation energy, unrelaxed (informative)', 'eV', ref['vacancy']['Ef_unrelaxed'],
                 fac['vacancy']['Ef_unrelaxed'], None, '.3f'))
    L.append(row(f'RDF first peak position ({T} K)', 'Å', ref['rdf']['peak'], fac['rdf']['peak'], TARGETS['rdf_pos'], '.3f'))
    L.append(row(f'RDF first peak height ({T} K)', '', ref['rdf']['height'], fac['rdf']['height'], TARGETS['rdf_height'], '.2f'))
    L.append(row('mean VDOS frequency (NVE)', 'THz', ref['vdos']['mean'], fac['vdos']['mean'], TARGETS['nu'], '.2f'))
    if 'liquid' in ref:
        q = s['liquid']
        L.append(row(f'liquid {q["temp"]} K: RDF first peak position', 'Å', ref['liquid']['peak'],
                     fac['liquid']['peak'], TARGETS['rdf_pos'], '.3f'))
        L.append(row(f'liquid {q["temp"]} K: RDF first peak height', '', ref['liquid']['height'],
                     fac['liquid']['height'], TARGETS['rdf_height'], '.2f'))
        L.append(row(f'liquid {q["temp"]} K: coordination (r < 2.97 Å)', '', ref['liquid']['coordination'],
                     fac['liquid']['coordination'], None, '.2f'))
        L.append(row(f'liquid {q["temp"]} K: MSD after {q["nsample"] / 1000:g} ps (informative)', 'Å²',
                     ref['liquid']['msd'], fac['liquid']['msd'], None, '.2f'))
    dr, df = ref['nve']['drift'], fac['nve']['drift']
    ok = 'yes' if abs(df) <= DRIFT_TARGET else '**no**'
    L.append(f'| NVE drift ({m["nnve"] / 1000:g} ps, dt 1 fs, ⟨T⟩ {ref["nve"]["Tmean"]:.0f} / {fac["nve"]["Tmean"]:.0f} K) '
             f'| meV/atom/ps | {dr:+.2e} | {df:+.2e} | — | \\|drift\\| ≤ {DRIFT_TARGET:g} | {ok} |')
    L.append(f'| NVE total-energy fluctuation (std) | meV/atom | {ref["nve"]["fluct"]:.2e} | {fac["nve"]["fluct"]:.2e} '
             '| — | — | |')
    L.append('')
    missed = []
    checks = [('a₀', 'a0', 'a0'), ('B', 'B', 'B'), ('C11', 'C11', 'C'), ('C12', 'C12', 'C'), ('C44', 'C44', 'C'),
              ('E_vac', 'Evac', 'Evac')]
    for lab, k, t in checks:
        if abs(rel(fac[k], ref[k])) > TARGETS[t]:
            missed.append(f'{lab} ({100 * rel(fac[k], ref[k]):+.2f} %)')
    for lab, k, key, t in [('RDF peak position', 'rdf', 'peak', 'rdf_pos'), ('RDF peak height', 'rdf', 'height', 'rdf_height')] + \
            ([('liquid RDF peak position', 'liquid', 'peak', 'rdf_pos'),
              ('liquid RDF peak height', 'liquid', 'height', 'rdf_height')] if 'liquid' in ref else []):
        if abs(rel(fac[k][key], ref[k][key])) > TARGETS[t]:
            missed.append(f'{lab} ({100 * rel(fac[k][key], ref[k][key]):+.2f} %)')
    if abs(rel(fac['vdos']['mean'], ref['vdos']['mean'])) > TARGETS['nu']:
        missed.append('mean VDOS frequency')
    if abs(df) > DRIFT_TARGET:
        missed.append('NVE drift')
    L.append('**Targets missed:** ' + (', '.join(missed) if missed else 'none') + '.\n')
    L.append('Set-up: cubic supercells of the conventional cell, '
             f'{n}×{n}×{n} ({nat} atoms) for a₀, E(V), elastic constants and MD; vacancy in the '
             f'{s["n_vac"]}×{s["n_vac"]}×{s["n_vac"]} cell ({vac} sites). Each potential is evaluated at its own a₀. '
             f'E(V): ±5 % linear strain in {100 * EV_STEP:g} % steps; B from the pressures of its two points '
             f'next to a₀. For comparison, B from (C11+2C12)/3: reference {ref["B_from_C"]:.1f}, facet '
             f'{fac["B_from_C"]:.1f} GPa; from a third-order Birch-Murnaghan fit of E(V) over ±{100 * EOS_FIT:g} %: '
             f'reference {ref["B_bm3"]:.1f}, facet {fac["B_bm3"]:.1f} GPa (a₀ {ref["a0_eos"]:.5f} and '
             f'{fac["a0_eos"]:.5f} Å). '
             f'MD: {T} K, NVT {m["nequil"] / 1000:g} ps + {m["nsample"] / 1000:g} ps sampling '
             f'({ref["rdf"]["frames"]} frames for g(r)), then NVE {m["nnve"] / 1000:g} ps '
             f'(velocities every {m["vevery"]} fs for the VDOS; resolution {1000 / m["nnve"]:g} THz).')
    if 'liquid' in ref:
        q = s['liquid']
        L.append(f'Liquid: one start configuration melted with the reference potential (NPT at {q["thot"]} K for '
                 f'{q["nhot"] / 1000:g} ps, then {q["temp"]} K for {q["ncool"] / 1000:g} ps, P = 0; density '
                 f'{ref["liquid"]["rho"]:.4f} Å⁻³); then, with each potential, NVT at {q["temp"]} K at that fixed '
                 f'cell: {q["nequil"] / 1000:g} ps equilibration and {q["nsample"] / 1000:g} ps sampling.')
    L.append('')
    L.append('| plot | |')
    L.append('|---|---|')
    L.append(f'| E(V) | ![E(V)]({args.name}/ev.png) |')
    L.append(f'| g(r), crystal {T} K | ![g(r)]({args.name}/rdf.png) |')
    if 'liquid' in ref:
        L.append(f'| g(r), liquid {s["liquid"]["temp"]} K | ![g(r) liquid]({args.name}/rdf_liquid.png) |')
    L.append(f'| NVE total energy | ![NVE]({args.name}/nve.png) |')
    L.append(f'| vibrational DOS | ![VDOS]({args.name}/vdos.png) |')
    L.append('')
    L.append(f'Wall time of the LAMMPS runs: reference {timings["reference"]:.0f} s, facet {timings["facet"]:.0f} s '
             f'(OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS", "1")}, serial, on a shared 2-core machine).\n')
    with open(md_path, 'w') as f:
        f.write('\n'.join(L))
    return missed


def lammps_version():
    out = subprocess.run([os.environ['FACET_LMP'], '-h'], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if 'Large-scale Atomic/Molecular' in line:
            return line.split(' - ', 1)[1].strip()
    return 'unknown'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('potential', help='the .facet file')
    ap.add_argument('reference', choices=sorted(SYSTEMS), help='the reference potential (= training data set)')
    ap.add_argument('--name', help='report name (default: the potential file name without .facet)')
    ap.add_argument('--plugin', default=os.path.join(ROOT, 'build', 'facetplugin.so'))
    ap.add_argument('--outdir', default=os.path.join(ROOT, 'docs', 'validation'))
    ap.add_argument('--keep-work', action='store_true', help='keep the LAMMPS work folder')
    ap.add_argument('--reuse', metavar='DIR', help='work folder kept by --keep-work: redo only the analysis and '
                    'the LAMMPS runs that did not finish there (the folder is kept)')
    args = ap.parse_args()
    global REUSE
    REUSE = bool(args.reuse)
    args.name = args.name or os.path.splitext(os.path.basename(args.potential))[0]
    pot = os.path.abspath(args.potential)
    plugin = os.path.abspath(args.plugin)
    for p in (pot, plugin):
        if not os.path.exists(p):
            sys.exit(f'validate.py: {p} not found' + (' (run scripts/build)' if p == plugin else ''))
    s = SYSTEMS[args.reference]
    sha = hashlib.sha256(open(pot, 'rb').read()).hexdigest()[:16]
    t0 = time.time()
    work = os.path.abspath(args.reuse) if args.reuse else tempfile.mkdtemp(prefix='facet-validate-')
    try:
        ref_run = Runner(work, s, 'reference')
        fac_run = Runner(work, s, 'facet', potential=pot, plugin=plugin)
        results = {}
        for R in (ref_run, fac_run):
            log(f'== {R.which}: lattice constant, E(V), elastic constants, vacancy')
            results[R.which] = crystal_properties(R, s)
            log(f'   a0 {results[R.which]["a0"]:.5f} A, C11 {results[R.which]["C11"]:.1f} GPa ({R.seconds:.0f} s)')
        liquid = None
        if s['liquid']:
            q = s['liquid']
            log('== liquid start configuration (reference potential)')
            ref_run.run('melt.lmp', 'melt', data=os.path.join(ref_run.dir, 'a0.data'), thot=q['thot'],
                        nhot=q['nhot'], temp=q['temp'], ncool=q['ncool'], seed=93105, out='liquid-start.data')
            liquid = os.path.join(ref_run.dir, 'liquid-start.data')
        for R in (ref_run, fac_run):
            log(f'== {R.which}: MD')
            results[R.which].update(md_properties(R, s, results[R.which]['a0'], liquid))
            log(f'   done ({R.seconds:.0f} s)')
        timings = dict(reference=ref_run.seconds, facet=fac_run.seconds, total=time.time() - t0)
        outdir = os.path.join(args.outdir, args.name)
        os.makedirs(outdir, exist_ok=True)
        plots(outdir, args.name, results['reference'], results['facet'], s)
        md_path = os.path.join(args.outdir, args.name + '.md')
        missed = report(args, s, results['reference'], results['facet'], outdir, md_path, timings, sha)
        slim = json.loads(json.dumps(results))
        for k in slim.values():            # the curves are in the .dat files
            for key in ('ev',):
                k.pop(key, None)
            for key in ('rdf', 'vdos', 'liquid', 'nve'):
                if key in k:
                    for c in ('r', 'g', 'nu', 't', 'e'):
                        k[key].pop(c, None)
        with open(os.path.join(outdir, 'results.json'), 'w') as f:
            json.dump(dict(potential=os.path.relpath(pot, ROOT), sha256=sha, reference=s['style'],
                           results=slim, timings_s=timings), f, indent=1, sort_keys=True)
        log(f'wrote {os.path.relpath(md_path, ROOT)} and {os.path.relpath(outdir, ROOT)}/ '
            f'({timings["total"]:.0f} s); targets missed: {", ".join(missed) if missed else "none"}')
    finally:
        if args.keep_work or args.reuse:
            log(f'work files kept in {work}')
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
