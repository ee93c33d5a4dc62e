"""Look for secrets in the output and the registered results of a playbook run.

Usage: find_secrets.py SECRETS_JSON OUTPUT_FILE RESULTS_JSON
SECRETS_JSON maps a label to a secret value. Prints, as JSON and without any secret:
where each secret was found (task of the output, entry of the results), how often, the
PLAY RECAP counts, how many module invocations the output shows, and the results with
every secret replaced by its label, for the caller's other checks.
"""

import json
import re
import sys


def task_sections(text):
    """(task name, text) for each part of a playbook output, split at its TASK headers."""
    sections, name, start = [], '(before the first task)', 0
    for match in re.finditer(r'^TASK \[(.*)\] \**$', text, re.MULTILINE):
        sections.append((name, text[start:match.start()]))
        name, start = match.group(1), match.start()
    sections.append((name, text[start:]))
    return sections


def redact(text, secrets):
    for label, value in secrets.items():
        text = text.replace(value, '<%s>' % label)
    return text


def main():
    with open(sys.argv[1], encoding='utf-8') as handle:
        secrets = json.load(handle)
    with open(sys.argv[2], encoding='utf-8', errors='replace') as handle:
        output = handle.read()
    try:
        with open(sys.argv[3], encoding='utf-8') as handle:
            results_text = handle.read()
        results = json.loads(results_text)
    except FileNotFoundError:
        results_text, results = '', {}

    leaks = []
    for label, value in secrets.items():
        for task, section in task_sections(output):
            if value in section:
                leaks.append('%s: %d time(s) in the output of task "%s"' % (label, section.count(value), task))
        for key, result in results.items():
            found = json.dumps(result).count(value)
            if found:
                leaks.append('%s: %d time(s) in the registered result %s' % (label, found, key))

    recap = re.search(r'^localhost\s+:\s+(.*)$', output, re.MULTILINE)
    print(json.dumps({
        'secret_lengths': {label: len(value) for label, value in secrets.items()},
        'in_output': {label: output.count(value) for label, value in secrets.items()},
        'in_results': {label: results_text.count(value) for label, value in secrets.items()},
        'leaks': leaks,
        'output_size': len(output),
        'invocations': output.count('"module_args"'),
        'recap': dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', recap.group(1))) if recap else {},
        'results': json.loads(redact(results_text, secrets)) if results_text else {},
    }))


if __name__ == '__main__':
    main()
