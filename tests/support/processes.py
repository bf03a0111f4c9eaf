"""Code that the image's own Python runs inside a running container or pod, shared by the container and e2e
tiers."""

import json

# Run by the image's own Python: PID 1 is the gunicorn arbiter (exec-form entrypoint), its children are
# the workers. Prints {pid: {ppid, rss_kb, pss_kb}}; the probe itself (ppid 0, from exec) is left out.
GUNICORN_PROCESSES = """
import json, os
out = {}
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        ppid = int(open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[1])
        rollup = dict(l.split(':', 1) for l in open(f'/proc/{pid}/smaps_rollup') if ':' in l and 'kB' in l)
    except (OSError, ValueError):
        continue  # gone meanwhile
    if int(pid) == 1 or ppid == 1:
        out[pid] = {'ppid': ppid, 'rss_kb': int(rollup['Rss'].split()[0]), 'pss_kb': int(rollup['Pss'].split()[0])}
print(json.dumps(out))
"""


def parse_processes(out: str) -> dict[int, dict[str, int]]:
    """GUNICORN_PROCESSES' output, keyed by integer pid."""
    return {int(pid): info for pid, info in json.loads(out).items()}


def workers(processes: dict[int, dict[str, int]]) -> set[int]:
    """gunicorn's workers among `processes`: the children of the arbiter, PID 1."""
    return {pid for pid, info in processes.items() if info["ppid"] == 1}
