"""Assembles data/si-pbe/frames/*.xyz into train/val/test .xyz.xz (≈80/10/10).

Split rule: within each stratum (a category; for 'phase', each phase separately) the *planned*
tasks are ordered by a seeded hash of their id and dealt out 8:1:1 in that order. A task's split
therefore depends only on the task list, not on which frames exist yet: splits are stable as
frames are added, and every stratum of ten tasks or more is spread over all three splits. The 64-atom frames all go
to test (transfer to larger cells than any trained on); frames more than 1.5 eV/atom above perfect
diamond all go to train (see main). Output is byte-identical on
re-runs (frames in task-list order, file text copied verbatim, xz has no timestamps).
"""
import collections
import hashlib
import lzma
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tasks import task_list  # noqa: E402

SPLIT_SEED = 'si-pbe-splits-v1'
GROUND_STATE_TASK = 'strain-h+0.000'  # perfect diamond at the PBE lattice constant
TRAIN_ONLY_ABOVE_EV = 1.5  # eV/atom above it: training only (see main)
PATTERN = ['train'] * 8 + ['val', 'test']
DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'si-pbe'))


def assign():
    tasks = task_list()
    strata = collections.defaultdict(list)
    for tid, cat, p in tasks:
        strata[(cat, p.get('phase', ''))].append(tid)
    split = {}
    for ids in strata.values():
        ids.sort(key=lambda t: hashlib.sha256(f'{SPLIT_SEED}:{t}'.encode()).hexdigest())
        for k, tid in enumerate(ids):
            split[tid] = PATTERN[k % len(PATTERN)]
    # The 64-atom frames test transfer to larger cells than any trained on. They stay in the deal above so
    # that no other task changes split.
    for tid, cat, p in tasks:
        if p.get('n') == 64:
            split[tid] = 'test'
    return split


def energy_per_atom(text):
    n = int(text.split('\n', 1)[0])
    return float(re.search(r'(?:^|\s)energy=(\S+)', text.split('\n', 2)[1]).group(1)) / n


def main():
    split = assign()
    frames_dir = os.path.join(DATA, 'frames')
    # Frames far above the crystal (the collapsed snapshots of the 'sampled' category, 1.9-3.6 eV/atom above
    # diamond) are training only: they teach the potential that such states are costly, but in validation
    # one of them would dominate the errors that pick the best epoch, and in test the errors reported for
    # the states the potential is meant for.
    ground = os.path.join(frames_dir, GROUND_STATE_TASK + '.xyz')
    e_ground = energy_per_atom(open(ground).read()) if os.path.exists(ground) else None
    texts = {s: [] for s in ('train', 'val', 'test')}
    counts = collections.defaultdict(collections.Counter)
    for tid, cat, _ in task_list():
        path = os.path.join(frames_dir, tid + '.xyz')
        if os.path.exists(path):
            text = open(path).read()
            where = split[tid]
            if e_ground is not None and energy_per_atom(text) > e_ground + TRAIN_ONLY_ABOVE_EV:
                where = 'train'
            texts[where].append(text)
            counts[cat][where] += 1
    for s, parts in texts.items():
        with open(os.path.join(DATA, f'{s}.xyz.xz'), 'wb') as f:
            f.write(lzma.compress(''.join(parts).encode(), preset=9))
    print(f'{"category":14s} {"train":>6s} {"val":>6s} {"test":>6s}')
    for cat, c in counts.items():
        print(f'{cat:14s} {c["train"]:6d} {c["val"]:6d} {c["test"]:6d}')
    tot = {s: len(p) for s, p in texts.items()}
    print(f'{"total":14s} {tot["train"]:6d} {tot["val"]:6d} {tot["test"]:6d}')


if __name__ == '__main__':
    main()
