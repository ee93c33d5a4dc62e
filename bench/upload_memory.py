"""Upload a large sparse file to the local test cloud with three clients, side by side.

Measures wall time and peak resident memory (RSS) of:
  - the image module (run as a module process, exactly as Ansible runs it on a host),
  - the openstack CLI (`openstack image create --file`),
  - openstacksdk's cloud layer (`Connection.create_image(filename=...)`),
and reports each against the module. Every client uploads the same file to a new image,
which is deleted afterwards. With --baseline, another build of the collection (an earlier
commit, see bench/baseline) runs as one more client in the same rounds.

Usage: .venv/bin/python bench/upload_memory.py [--size-mib 1024] [--cloud producer] [--baseline DIR]
(needs `make cloud` and `tests/scripts/install-collection`; writes bench/results/upload_memory.json)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def module_in(collections):
    """The image module of the collection installed under ``collections``."""
    path = os.path.join(collections, 'ansible_collections', 'cloudimage', 'glance', 'plugins', 'modules', 'image.py')
    if not os.path.exists(path):
        raise SystemExit('no cloudimage.glance collection under %s (bench/baseline REV makes one)' % collections)
    return path


def module_args_file(work, cloud, name, data, checksum=None):
    path = os.path.join(work, 'args.json')
    module_args = {'cloud': cloud, 'name': name, 'filename': data, 'disk_format': 'raw', 'container_format': 'bare'}
    if checksum:
        module_args['checksum'] = checksum
    with open(path, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': module_args}, handle)
    return path


def delete_image(cloud, name):
    subprocess.run([os.path.join(BIN, 'openstack'), '--os-cloud', cloud, 'image', 'delete', name],
                   capture_output=True, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--cloud', default='producer')
    parser.add_argument('--repeat', type=int, default=1, help='runs per client; the median is reported')
    parser.add_argument('--baseline', help='collections path of another build of the collection to compare with')
    args = parser.parse_args()
    if not os.path.exists(MODULE):
        raise SystemExit('install the collection first: tests/scripts/install-collection')

    env = dict(os.environ, PYTHONPATH=COLLECTIONS,
               OS_CLIENT_CONFIG_FILE=os.environ.get('OS_CLIENT_CONFIG_FILE', os.path.join(REPO, '.cloud', 'clouds.yaml')))
    work = tempfile.mkdtemp(prefix='bench-upload-')
    data = os.path.join(work, 'sparse.raw')
    with open(data, 'wb') as handle:
        handle.truncate(args.size_mib * 1024 * 1024)

    module = {'cloudimage.glance.image': (MODULE, env)}
    if args.baseline:
        module['baseline cloudimage.glance.image'] = (module_in(args.baseline), dict(env, PYTHONPATH=args.baseline))
    clients = {
        'cloudimage.glance.image': lambda name: [sys.executable, MODULE, module_args_file(work, args.cloud, name, data)],
        'openstack image create': lambda name: [
            os.path.join(BIN, 'openstack'), '--os-cloud', args.cloud, 'image', 'create', '--disk-format', 'raw',
            '--container-format', 'bare', '--file', data, name],
        'openstacksdk create_image': lambda name: [sys.executable, '-c', SDK_SCRIPT, args.cloud, name, data],
    }
    if args.baseline:
        clients['baseline cloudimage.glance.image'] = lambda name: [
            sys.executable, module['baseline cloudimage.glance.image'][0], module_args_file(work, args.cloud, name, data)]
    envs = {client: module.get(client, (None, env))[1] for client in clients}
    runs = {client: [] for client in clients}
    try:
        # Interleaved rounds, so that a slow moment of the machine hits every client alike.
        for _round in range(args.repeat):
            for client, argv in clients.items():
                name = 'bench-upload-' + client.replace(' ', '-').replace('.', '-')
                delete_image(args.cloud, name)
                runs[client].append(measured(argv(name), envs[client]))
                delete_image(args.cloud, name)
        # Re-runs of the module on an image that already holds this data: by hashing the
        # local file once, and with the expected checksum given (nothing read, nothing sent).
        name = 'bench-upload-rerun'
        delete_image(args.cloud, name)
        subprocess.run([sys.executable, MODULE, module_args_file(work, args.cloud, name, data)], env=env,
                       capture_output=True, check=True)
        digest = json.loads(subprocess.run([sys.executable, MODULE, module_args_file(work, args.cloud, name, data)],
                                           env=env, capture_output=True, text=True, check=True).stdout)
        checksum = 'sha512:' + digest['image']['os_hash_value']
        for _round in range(args.repeat):
            for label, (path, module_env) in module.items():
                prefix = 'module' if label == 'cloudimage.glance.image' else 'baseline module'
                runs.setdefault('%s re-run, unchanged file' % prefix, []).append(
                    measured([sys.executable, path, module_args_file(work, args.cloud, name, data)], module_env))
                runs.setdefault('%s re-run, checksum given' % prefix, []).append(
                    measured([sys.executable, path, module_args_file(work, args.cloud, name, data, checksum)],
                             module_env))
        delete_image(args.cloud, name)
    finally:
        os.remove(data)
    results = {client: (statistics.median(r[0] for r in values), statistics.median(r[1] for r in values), '')
               for client, values in runs.items()}

    base_seconds, base_rss, _out = results['cloudimage.glance.image']
    rows = []
    for client, (seconds, rss, _out) in results.items():
        rows.append({'client': client, 'seconds': round(seconds, 2), 'peak_rss_mib': round(rss, 1),
                     'time_vs_module': round(seconds / base_seconds, 2), 'rss_vs_module': round(rss / base_rss, 2),
                     'throughput_mib_s': round(args.size_mib / seconds, 1)})
    print('upload of %d MiB (sparse file) to %s, median of %d run(s) each' % (args.size_mib, args.cloud, args.repeat))
    print('%-40s %9s %12s %9s %9s %10s' % ('client', 'seconds', 'peak RSS MiB', 'time x', 'RSS x', 'MiB/s'))
    for row in rows:
        print('%-40s %9.2f %12.1f %9.2f %9.2f %10.1f' % (
            row['client'], row['seconds'], row['peak_rss_mib'], row['time_vs_module'], row['rss_vs_module'],
            row['throughput_mib_s']))
    os.makedirs(os.path.join(REPO, 'bench', 'results'), exist_ok=True)
    with open(os.path.join(REPO, 'bench', 'results', 'upload_memory.json'), 'w') as handle:
        json.dump({'size_mib': args.size_mib, 'repeat': args.repeat, 'baseline': args.baseline, 'rows': rows}, handle,
                  indent=2)


if __name__ == '__main__':
    main()
