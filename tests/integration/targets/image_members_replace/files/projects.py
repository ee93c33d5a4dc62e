"""Create (or delete) numbered test projects in one process, as the admin persona.

Usage: projects.py create|delete PREFIX COUNT
Prints {"name": "id", ...} of the projects that exist afterwards (create) as JSON.
One openstack CLI process per project costs about 2 s; this takes well under that in all.
"""

import json
import sys

import openstack


def main():
    action, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = openstack.connect(cloud='admin')
    wanted = ['%s%03d' % (prefix, number) for number in range(count)]
    existing = {project.name: project.id for project in conn.identity.projects(domain_id='default')
                if project.name.startswith(prefix)}
    if action == 'create':
        for name in wanted:
            if name not in existing:
                existing[name] = conn.identity.create_project(name=name, domain_id='default').id
        print(json.dumps({name: existing[name] for name in wanted}))
    elif action == 'delete':
        for name, project_id in existing.items():
            conn.identity.delete_project(project_id)
        print(json.dumps({}))
    else:
        sys.exit('unknown action %s' % action)


if __name__ == '__main__':
    main()
