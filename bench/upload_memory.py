"""Upload a large sparse file to the local test cloud with three clients, side by side.

Measures wall time and peak resident memory (RSS) of:
  - the image module (run as a module process, exactly as Ansible runs it on a host),
  - the openstack CLI (`openstack image create --file`),
  - openstacksdk's cloud layer (`Connection.create_image(filename=...)`),
and reports each against the module. Every client uploads the same file to a new image,
which is deleted afterwards.

Usage: .venv/bin/python bench/upload_memory.py [--size-mib 1024] [--cloud producer]
(needs `make cloud` and `tests/scripts/install-collection`; writes bench/results/upload_memory.json)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.ansible', 'collections')
MODULE = os.path.join(COLLECTIONS, 'ansible_collections', 'cloudimage', 'glance', 'plugins', 'modules', 'image.py')
BIN = os.path.dirname(sys.executable)

SDK_SCRIPT = '''
import sys, openstack
conn = openstack.connect(cloud=sys.argv[1])
image = conn.create_image(sys.argv[2], filename=sys.argv[3], disk_format='raw', container_format='bare',
                          wait=True, validate_checksum=False)
print(image.id)
'''


def measured(argv, env=None):
    """Run argv under GNU time; return (seconds, peak RSS in MiB, stdout)."""
    with tempfile.NamedTemporaryFile('r', suffix='.time') as report:
        start = time.monotonic()
        done = subprocess.run(['/usr/bin/time', '-f', '%M', '-o', report.name] + argv, env=env,
                              capture_output=True, text=True, check=False)
        seconds = time.monotonic() - start
        if done.returncode != 0:
            raise SystemExit('%s failed: %s %s' % (argv[0], done.stdout[-2000:], done.stderr[-2000:]))
        peak_kib = int(report.read().strip().splitlines()[-1])
    return seconds, peak_kib / 1024.0, done.stdout


def delete_image(cloud, name):
    subprocess.run([os.path.join(BIN, 'openstack'), '--os-cloud', cloud, 'image', 'delete', name],
                   capture_output=True, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--cloud', default='producer')
    args = parser.parse_args()
    if not os.path.exists(MODULE):
        raise SystemExit('install the collection first: tests/scripts/install-collection')

    env = dict(os.environ, PYTHONPATH=COLLECTIONS,
               OS_CLIENT_CONFIG_FILE=os.environ.get('OS_CLIENT_CONFIG_FILE', os.path.join(REPO, '.cloud', 'clouds.yaml')))
    work = tempfile.mkdtemp(prefix='bench-upload-')
    data = os.path.join(work, 'sparse.raw')
    with open(data, 'wb') as handle:
        handle.truncate(args.size_mib * 1024 * 1024)

    results = {}
    try:
        name = 'bench-upload-module'
        module_args = os.path.join(work, 'args.json')
        with open(module_args, 'w') as handle:
            json.dump({'ANSIBLE_MODULE_ARGS': {
                'cloud': args.cloud, 'name': name, 'filename': data, 'disk_format': 'raw',
                'container_format': 'bare'}}, handle)
        delete_image(args.cloud, name)
        results['cloudimage.glance.image'] = measured([sys.executable, MODULE, module_args], env)
        delete_image(args.cloud, name)

        name = 'bench-upload-cli'
        delete_image(args.cloud, name)
        results['openstack image create'] = measured(
            [os.path.join(BIN, 'openstack'), '--os-cloud', args.cloud, 'image', 'create', '--disk-format', 'raw',
             '--container-format', 'bare', '--file', data, name], env)
        delete_image(args.cloud, name)

        name = 'bench-upload-sdk'
        delete_image(args.cloud, name)
        results['openstacksdk create_image'] = measured([sys.executable, '-c', SDK_SCRIPT, args.cloud, name, data], env)
        delete_image(args.cloud, name)
    finally:
        os.remove(data)

    base_seconds, base_rss, _out = results['cloudimage.glance.image']
    rows = []
    for client, (seconds, rss, _out) in results.items():
        rows.append({'client': client, 'seconds': round(seconds, 2), 'peak_rss_mib': round(rss, 1),
                     'time_vs_module': round(seconds / base_seconds, 2), 'rss_vs_module': round(rss / base_rss, 2),
                     'throughput_mib_s': round(args.size_mib / seconds, 1)})
    print('upload of %d MiB (sparse file) to %s' % (args.size_mib, args.cloud))
    print('%-28s %9s %12s %9s %9s %10s' % ('client', 'seconds', 'peak RSS MiB', 'time x', 'RSS x', 'MiB/s'))
    for row in rows:
        print('%-28s %9.2f %12.1f %9.2f %9.2f %10.1f' % (
            row['client'], row['seconds'], row['peak_rss_mib'], row['time_vs_module'], row['rss_vs_module'],
            row['throughput_mib_s']))
    os.makedirs(os.path.join(REPO, 'bench', 'results'), exist_ok=True)
    with open(os.path.join(REPO, 'bench', 'results', 'upload_memory.json'), 'w') as handle:
        json.dump({'size_mib': args.size_mib, 'rows': rows}, handle, indent=2)


if __name__ == '__main__':
    main()
