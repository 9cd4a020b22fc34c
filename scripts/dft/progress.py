"""Progress of the Si PBE data set: frames done / planned per category, failures, time per frame."""
import collections
import json
import os
import sys

from ase.io import read

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dftcommon import is_stale  # noqa: E402
from tasks import task_list  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'si-pbe')
frames_dir = os.path.join(DATA, 'frames')
files = sorted(f for f in os.listdir(frames_dir) if f.endswith('.xyz')) if os.path.isdir(frames_dir) else []
frames = [read(os.path.join(frames_dir, f)) for f in files]
failed_path = os.path.join(DATA, 'failed.txt')
failed = [line.split()[0] for line in open(failed_path)] if os.path.exists(failed_path) else []

settings = json.load(open(os.path.join(DATA, 'settings.json')))
planned = collections.Counter(c for _, c, _ in task_list())
done = collections.Counter(a.info['config_type'] for a in frames)
stale = collections.Counter(a.info['config_type'] for a in frames if is_stale(a.info, settings))
print(f'{"category":14s} done/planned (of them with other settings than now: to be relabelled)')
for c in planned:
    print(f'{c:14s} {done[c]:4d}/{planned[c]}' + (f' ({stale[c]})' if stale[c] else ''))
print(f'{"total":14s} {sum(done.values()):4d}/{sum(planned.values())} ({sum(stale.values())} to be relabelled)   '
      f'failed: {len(failed)}')
by_n = collections.defaultdict(list)
for a in frames:
    by_n[len(a)].append(a.info['wall_seconds'])
print('seconds per frame by atoms: ' + ', '.join(
    f'{n}: {sum(t) / len(t):.0f} s (x{len(t)})' for n, t in sorted(by_n.items())))
