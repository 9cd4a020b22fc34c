"""Progress of the Si PBE data set: frames done / planned per category, failures, time per frame."""
import collections
import os
import sys

from ase.io import read

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tasks import task_list  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'si-pbe')
frames_dir = os.path.join(DATA, 'frames')
files = sorted(f for f in os.listdir(frames_dir) if f.endswith('.xyz')) if os.path.isdir(frames_dir) else []
frames = [read(os.path.join(frames_dir, f)) for f in files]
failed_path = os.path.join(DATA, 'failed.txt')
failed = [line.split()[0] for line in open(failed_path)] if os.path.exists(failed_path) else []

planned = collections.Counter(c for _, c, _ in task_list())
done = collections.Counter(a.info['config_type'] for a in frames)
print(f'{"category":14s} done/planned')
for c in planned:
    print(f'{c:14s} {done[c]:4d}/{planned[c]}')
print(f'{"total":14s} {sum(done.values()):4d}/{sum(planned.values())}   failed: {len(failed)}')
by_n = collections.defaultdict(list)
for a in frames:
    by_n[len(a)].append(a.info['wall_seconds'])
print('seconds per frame by atoms: ' + ', '.join(
    f'{n}: {sum(t) / len(t):.0f} s (x{len(t)})' for n, t in sorted(by_n.items())))
