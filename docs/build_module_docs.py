"""Render docs/modules/<module>.md from the modules' own documentation (ansible-doc --json).

Run through `make docs`, which installs the collection first; the pages are committed so
that they can be read without Ansible.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, 'docs', 'modules')
RUNTIME = os.path.join(REPO, 'meta', 'runtime.yml')


def text(value):
    if isinstance(value, list):
        return ' '.join(str(item) for item in value)
    return '' if value is None else str(value)


def option_rows(options, prefix=''):
    rows = []
    for name in sorted(options):
        option = options[name]
        kind = option.get('type', 'str')
        if option.get('elements'):
            kind += ' of ' + option['elements']
        details = []
        if option.get('required'):
            details.append('required')
        if 'default' in option and option['default'] not in (None, [], {}):
            details.append('default: `%s`' % json.dumps(option['default']))
        if option.get('choices'):
            details.append('choices: ' + ', '.join('`%s`' % c for c in option['choices']))
        if option.get('aliases'):
            details.append('aliases: ' + ', '.join(option['aliases']))
        cell = text(option.get('description')).replace('|', '\\|').replace('\n', ' ')
        rows.append('| `%s%s` | %s | %s | %s |' % (prefix, name, kind, '; '.join(details), cell))
        for sub in ('suboptions', 'contains'):
            if isinstance(option.get(sub), dict):
                rows.extend(option_rows(option[sub], prefix + name + '.'))
    return rows


def render(name, data):
    doc = data['doc']
    lines = ['# %s' % name, '', text(doc.get('short_description')), '']
    lines += ['%s' % text(doc.get('description')), '']
    if doc.get('attributes'):
        lines += ['## Attributes', '', '| attribute | support | details |', '|---|---|---|']
        for attribute, value in sorted(doc['attributes'].items()):
            lines.append('| %s | %s | %s |' % (attribute, value.get('support', ''), text(value.get('details'))))
        lines.append('')
    lines += ['## Options', '', '| option | type | details | description |', '|---|---|---|---|']
    lines += option_rows(doc.get('options') or {})
    if doc.get('notes'):
        lines += ['', '## Notes', ''] + ['- ' + text(note) for note in doc['notes']]
    lines += ['', '## Examples', '', '```yaml', (data.get('examples') or '').strip(), '```', '']
    if data.get('return'):
        lines += ['## Return values', '', '| key | type | returned | description |', '|---|---|---|---|']
        for row in option_rows(data['return']):
            lines.append(row)
        lines.append('')
    return '\n'.join(lines)


def main():
    with open(RUNTIME) as handle:
        modules = sorted(yaml.safe_load(handle)['action_groups']['glance'])
    names = ['cloudimage.glance.' + module for module in modules]
    found = json.loads(subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-doc'), '--json'] + names,
                                      capture_output=True, text=True, check=True).stdout)
    os.makedirs(OUT, exist_ok=True)
    index = ['# Modules', '']
    for name in names:
        short = name.split('.')[-1]
        with open(os.path.join(OUT, short + '.md'), 'w') as handle:
            handle.write(render(name, found[name]))
        index.append('- [%s](%s.md): %s' % (name, short, text(found[name]['doc'].get('short_description'))))
    with open(os.path.join(OUT, 'README.md'), 'w') as handle:
        handle.write('\n'.join(index) + '\n')
    print('wrote %d module pages to %s' % (len(names), OUT))


if __name__ == '__main__':
    main()
