"""Progress of the Si PBE data set: frames done / planned per category, frames at the current settings per split,
failures, time per frame, and an estimate of the compute left."""
import collections
import json
import os
import sys

from ase.io import read

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dftcommon import is_stale, settings_for, settings_key, stored_settings_key  # noqa: E402
from make_splits import assign  # noqa: E402
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
# Per split: frames at today's settings (current) of the split's tasks; a potential is measured on these.
split = assign()
current_ids = {a.info['task_id'] for a in frames if not is_stale(a.info, settings)}
print('at the current settings, by split: ' + ', '.join(
    f'{name} {sum(t in current_ids for t in ids)}/{len(ids)}'
    for name, ids in ((name, [t for t in split if split[t] == name]) for name in ('train', 'val', 'test'))))
by_n = collections.defaultdict(list)
for a in frames:
    by_n[len(a)].append(a.info['wall_seconds'])
print('seconds per frame by atoms: ' + ', '.join(
    f'{n}: {sum(t) / len(t):.0f} s (x{len(t)})' for n, t in sorted(by_n.items())))

# Compute left: each frame to (re)label costs the mean time of the frames already computed with the settings it
# needs, of its atom count (a stale frame) or its category (a new task), else of any size or category; a stale
# frame with none is its own time scaled by how much longer its new settings take than its old ones (means over
# the cells of up to 17 atoms). Rough: SCF iterations and the load of the machine vary.
def mean(t):
    return sum(t) / len(t)


by_atoms, by_category, by_settings, current_small = (collections.defaultdict(list) for _ in range(4))
for a in frames:
    key, t = stored_settings_key(a.info), a.info['wall_seconds']
    if len(a) <= 17:
        by_settings[key].append(t)
    if not is_stale(a.info, settings):
        by_atoms[len(a), key].append(t)
        by_category[a.info['config_type'], key].append(t)
        if len(a) <= 17:
            current_small[key].append(t)
left, unknown = 0.0, 0
for a in frames:
    if not is_stale(a.info, settings):
        continue
    key, old = settings_key(settings_for(settings, a.info['config_type'])), stored_settings_key(a.info)
    if by_atoms[len(a), key]:
        left += mean(by_atoms[len(a), key])
    elif current_small[key] and by_settings[old]:
        left += a.info['wall_seconds'] * mean(current_small[key]) / mean(by_settings[old])
    else:
        unknown += 1
done_ids = {f[:-len('.xyz')] for f in files}
for task_id, c, _ in task_list():
    if task_id in done_ids or task_id in failed:
        continue
    key = settings_key(settings_for(settings, c))
    t = by_category[c, key] or current_small[key]
    if t:
        left += mean(t)
    else:
        unknown += 1
print(f'compute left: about {left / 3600:.1f} h at the recorded speed'
      + (f', and {unknown} frames without an estimate' if unknown else ''))
