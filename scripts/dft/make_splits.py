"""Assembles data/si-pbe/frames/*.xyz into train/val/test .xyz.xz (≈80/10/10).

Split rule: within each stratum (a category; for 'phase', each phase separately) the *planned*
tasks are ordered by a seeded hash of their id and dealt out 8:1:1 in that order. A task's split
therefore depends only on the task list, not on which frames exist yet: splits are stable as
frames are added, and every stratum is spread over all three splits. The 64-atom frames all go
to test (transfer to larger cells than any trained on). Output is byte-identical on
re-runs (frames in task-list order, file text copied verbatim, xz has no timestamps).
"""
import collections
import hashlib
import lzma
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tasks import task_list  # noqa: E402

SPLIT_SEED = 'si-pbe-splits-v1'
PATTERN = ['train'] * 8 + ['val', 'test']
DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'si-pbe'))


def assign():
    strata = collections.defaultdict(list)
    for tid, cat, p in task_list():
        strata[(cat, p.get('phase', ''))].append(tid)
    split = {}
    for ids in strata.values():
        ids.sort(key=lambda t: hashlib.sha256(f'{SPLIT_SEED}:{t}'.encode()).hexdigest())
        for k, tid in enumerate(ids):
            split[tid] = PATTERN[k % len(PATTERN)]
    # The 64-atom frames test transfer to larger cells than any trained on. They stay in the deal above so
    # that no other task changes split.
    for tid, cat, p in task_list():
        if p.get('n') == 64:
            split[tid] = 'test'
    return split


def main():
    split = assign()
    frames_dir = os.path.join(DATA, 'frames')
    texts = {s: [] for s in ('train', 'val', 'test')}
    counts = collections.defaultdict(collections.Counter)
    for tid, cat, _ in task_list():
        path = os.path.join(frames_dir, tid + '.xyz')
        if os.path.exists(path):
            texts[split[tid]].append(open(path).read())
            counts[cat][split[tid]] += 1
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
