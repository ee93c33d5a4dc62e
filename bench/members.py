"""Share one image with many projects, side by side: the module against the usual alternatives.

Measured in the same run, on the local test cloud (current Glance):
  - image_members_replace (run as a module process, as Ansible runs it): converge N members,
    then a no-op re-run; the server's access log gives the requests each sent;
  - an openstacksdk script adding the N members one after the other;
  - the shell loop of `openstack image add project`, for the first --cli-count members
    (each call is a new process); its time for N members is projected from its rate.

With --baseline, another build of the collection (an earlier commit, see bench/baseline)
converges and re-runs too, in the same run.

Usage: .venv/bin/python bench/members.py [--members 100] [--cli-count 10] [--baseline DIR]
(needs `make cloud` and `tests/scripts/install-collection`; writes bench/results/members.json)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import openstack

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.ansible', 'collections')
MODULE = os.path.join(COLLECTIONS, 'ansible_collections', 'cloudimage', 'glance', 'plugins', 'modules',
                      'image_members_replace.py')
ACCESS_LOG = os.path.join(REPO, '.cloud', 'log', 'glance-access.log')
BIN = os.path.dirname(sys.executable)
PREFIX = 'bench-member-'

SDK_SCRIPT = '''
import sys, openstack
conn = openstack.connect(cloud='producer')
for project_id in sys.argv[2:]:
    conn.image.add_member(sys.argv[1], member_id=project_id)
'''


def timed(argv, env):
    start = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit('%s failed: %s %s' % (argv[:3], done.stdout[-1500:], done.stderr[-1500:]))
    return time.monotonic() - start, done.stdout


def log_size():
    return os.path.getsize(ACCESS_LOG)


def requests_since(offset, image_id):
    """Requests about ``image_id`` in the access log after byte ``offset``: (all, writes)."""
    with open(ACCESS_LOG, 'rb') as handle:
        handle.seek(offset)
        lines = [line.decode('utf-8', 'replace') for line in handle if image_id.encode() in line]
    writes = [line for line in lines if any('"%s ' % verb in line for verb in ('POST', 'PUT', 'PATCH', 'DELETE'))]
    return len(lines), len(writes)


def module_run(work, env, image_id, members, module=MODULE):
    path = os.path.join(work, 'args.json')
    with open(path, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': {'cloud': 'producer', 'image': image_id, 'members': members}}, handle)
    offset = log_size()
    seconds, out = timed([sys.executable, module, path], env)
    total, writes = requests_since(offset, image_id)
    return seconds, total, writes, json.loads(out)


def clear_members(conn, image_id):
    for member in conn.image.members(image_id):
        conn.image.remove_member(member, image_id)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--members', type=int, default=100)
    parser.add_argument('--cli-count', type=int, default=10)
    parser.add_argument('--baseline', help='collections path of another build of the collection to compare with')
    args = parser.parse_args()
    if not os.path.exists(MODULE):
        raise SystemExit('install the collection first: tests/scripts/install-collection')
    env = dict(os.environ, PYTHONPATH=COLLECTIONS,
               OS_CLIENT_CONFIG_FILE=os.environ.get('OS_CLIENT_CONFIG_FILE', os.path.join(REPO, '.cloud', 'clouds.yaml')))
    os.environ['OS_CLIENT_CONFIG_FILE'] = env['OS_CLIENT_CONFIG_FILE']

    admin = openstack.connect(cloud='admin')
    producer = openstack.connect(cloud='producer')
    existing = {p.name: p.id for p in admin.identity.projects(domain_id='default') if p.name.startswith(PREFIX)}
    projects = []
    for number in range(args.members):
        name = '%s%03d' % (PREFIX, number)
        projects.append(existing.get(name) or admin.identity.create_project(name=name, domain_id='default').id)
    image = producer.image.create_image(name='bench-members', disk_format='raw', container_format='bare',
                                        visibility='shared')
    work = tempfile.mkdtemp(prefix='bench-members-')
    rows = []
    try:
        seconds, total, writes, _result = module_run(work, env, image.id, projects)
        rows.append(('image_members_replace, converge', seconds, total, writes, False))
        seconds, total, writes, result = module_run(work, env, image.id, projects)
        if result.get('changed'):
            raise SystemExit('the no-op re-run reported a change')
        rows.append(('image_members_replace, no-op re-run', seconds, total, writes, False))
        if args.baseline:
            baseline = os.path.join(args.baseline, 'ansible_collections', 'cloudimage', 'glance', 'plugins', 'modules',
                                    'image_members_replace.py')
            baseline_env = dict(env, PYTHONPATH=args.baseline)
            clear_members(producer, image.id)
            seconds, total, writes, _result = module_run(work, baseline_env, image.id, projects, baseline)
            rows.append(('baseline image_members_replace, converge', seconds, total, writes, False))
            seconds, total, writes, _result = module_run(work, baseline_env, image.id, projects, baseline)
            rows.append(('baseline image_members_replace, no-op re-run', seconds, total, writes, False))

        clear_members(producer, image.id)
        offset = log_size()
        seconds, _out = timed([sys.executable, '-c', SDK_SCRIPT, image.id] + projects, env)
        total, writes = requests_since(offset, image.id)
        rows.append(('openstacksdk loop, converge', seconds, total, writes, False))

        clear_members(producer, image.id)
        offset = log_size()
        start = time.monotonic()
        for project_id in projects[:args.cli_count]:
            timed([os.path.join(BIN, 'openstack'), '--os-cloud', 'producer', 'image', 'add', 'project',
                   image.id, project_id], env)
        per_call = (time.monotonic() - start) / args.cli_count
        total, writes = requests_since(offset, image.id)
        rows.append(('openstack CLI loop, converge (projected)', per_call * args.members,
                     total * args.members // args.cli_count, writes * args.members // args.cli_count, True))
    finally:
        producer.image.delete_image(image.id)

    base = rows[0][1]
    print('sharing one image with %d projects (CLI loop measured on %d, projected)' % (args.members, args.cli_count))
    print('%-44s %9s %9s %9s %9s' % ('client', 'seconds', 'x module', 'requests', 'writes'))
    report = []
    for client, seconds, total, writes, projected in rows:
        print('%-44s %9.2f %9.2f %9d %9d' % (client, seconds, seconds / base, total, writes))
        report.append({'client': client, 'seconds': round(seconds, 2), 'vs_module_converge': round(seconds / base, 2),
                       'requests': total, 'writes': writes, 'projected': projected})
    os.makedirs(os.path.join(REPO, 'bench', 'results'), exist_ok=True)
    with open(os.path.join(REPO, 'bench', 'results', 'members.json'), 'w') as handle:
        json.dump({'members': args.members, 'cli_count': args.cli_count, 'baseline': args.baseline, 'rows': report},
                  handle, indent=2)


if __name__ == '__main__':
    main()
