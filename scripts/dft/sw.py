"""Stillinger-Weber silicon (Stillinger & Weber, PRB 31, 5262 (1985)) as a small numpy ASE
calculator: energy and forces only, used to drive the MD whose snapshots DFT relabels."""
import numpy as np
from ase.calculators.calculator import Calculator, all_changes


def neighbor_list(atoms, rc):
    """Brute-force full neighbour list over periodic images (i, j, |D|, D with D = r_j - r_i),
    sorted by i; for the small cells used here it is much faster than ase.neighborlist."""
    cell = atoms.cell.array
    pos = atoms.cell.cartesian_positions(atoms.cell.scaled_positions(atoms.positions) % 1.0)
    nrep = np.ceil(rc * np.linalg.norm(np.linalg.inv(cell), axis=0)).astype(int)
    nrep[~atoms.pbc] = 0
    shifts = np.array(np.meshgrid(*[np.arange(-m, m + 1) for m in nrep], indexing='ij')).reshape(3, -1).T
    # D[i, j, s] = r_j + S_s - r_i
    D = pos[None, :, None, :] + (shifts @ cell)[None, None, :, :] - pos[:, None, None, :]
    d = np.linalg.norm(D, axis=-1)
    i, j, k = np.nonzero((d < rc) & (d > 1e-8))
    return i, j, d[i, j, k], D[i, j, k]

# Parameters as in LAMMPS' Si.sw
EPS, SIGMA, A_CUT, LAM, GAMMA, COS0 = 2.1683, 2.0951, 1.80, 21.0, 1.20, -1.0 / 3.0
A, B, P, Q = 7.049556277, 0.6022245584, 4.0, 0.0
RC = A_CUT * SIGMA


class StillingerWeber(Calculator):
    implemented_properties = ['energy', 'forces']

    def calculate(self, atoms=None, properties=('energy',), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        n = len(self.atoms)
        i, j, d, D = neighbor_list(self.atoms, RC)  # full list, D = r_j - r_i
        forces = np.zeros((n, 3))

        # Two-body, every pair appears twice in the full list -> factor 1/2.
        s = SIGMA / d
        ex = np.exp(SIGMA / (d - RC))
        phi = A * EPS * (B * s**P - s**Q) * ex
        dphi = A * EPS * ((-P * B * s**P + Q * s**Q) / d * ex) - phi * SIGMA / (d - RC)**2
        energy = 0.5 * phi.sum()
        g = (0.5 * dphi / d)[:, None] * D  # dE/dD for each list entry
        np.add.at(forces, i, g)
        np.add.at(forces, j, -g)

        # Three-body: all ordered pairs (a, b), a != b, of bonds sharing the centre atom.
        first = np.searchsorted(i, np.arange(n))  # neighbor_list output is sorted by i
        cnt = np.bincount(i, minlength=n)
        reps = cnt[i]
        a_idx = np.repeat(np.arange(len(i)), reps)
        offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        b_idx = first[i[a_idx]] + offset
        keep = a_idx != b_idx
        a_idx, b_idx = a_idx[keep], b_idx[keep]
        ra, rb, Da, Db = d[a_idx], d[b_idx], D[a_idx], D[b_idx]
        cos = np.einsum('ij,ij->i', Da, Db) / (ra * rb)
        ea = np.exp(GAMMA * SIGMA / (ra - RC))
        eb = np.exp(GAMMA * SIGMA / (rb - RC))
        h = 0.5 * LAM * EPS * (cos - COS0)**2 * ea * eb  # 1/2: each angle counted twice
        energy += h.sum()
        dh_dra = -h * GAMMA * SIGMA / (ra - RC)**2
        dh_drb = -h * GAMMA * SIGMA / (rb - RC)**2
        dh_dcos = LAM * EPS * (cos - COS0) * ea * eb
        ga = (dh_dra / ra)[:, None] * Da + dh_dcos[:, None] * (
            Db / (ra * rb)[:, None] - (cos / ra**2)[:, None] * Da)
        gb = (dh_drb / rb)[:, None] * Db + dh_dcos[:, None] * (
            Da / (ra * rb)[:, None] - (cos / rb**2)[:, None] * Db)
        np.add.at(forces, i[a_idx], ga + gb)
        np.add.at(forces, j[a_idx], -ga)
        np.add.at(forces, j[b_idx], -gb)
        self.results = {'energy': energy, 'free_energy': energy, 'forces': forces}
