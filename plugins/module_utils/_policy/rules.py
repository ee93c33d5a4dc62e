# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What Glance knows about its policy rules: names, in-code defaults, the Pike file.

Plain data, importable without Ansible.
"""

from __future__ import annotations

# In-code defaults of the current Glance (33.x, 2025.2). A rule missing from the
# policy file takes this check string. Order follows Glance's own listing.
GLANCE_CURRENT_DEFAULTS: dict[str, str] = {
    'default': '',
    'context_is_admin': 'role:admin',
    'service_api': 'role:service or role:admin',
    'add_image': 'rule:context_is_admin or (role:member and project_id:%(project_id)s and project_id:%(owner)s)',
    'delete_image': 'rule:context_is_admin or (role:member and project_id:%(project_id)s)',
    'get_image': (
        "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s"
        " or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))"
    ),
    'get_images': 'rule:context_is_admin or (role:reader and project_id:%(project_id)s)',
    'modify_image': 'rule:context_is_admin or (role:member and project_id:%(project_id)s)',
    'publicize_image': 'rule:context_is_admin',
    'communitize_image': 'rule:context_is_admin or (role:member and project_id:%(project_id)s)',
    'download_image': (
        "rule:context_is_admin or (role:member and (project_id:%(project_id)s or project_id:%(member_id)s"
        " or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))"
    ),
    'download_from_store': (
        "rule:context_is_admin or (role:member and (project_id:%(project_id)s or project_id:%(member_id)s"
        " or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))"
    ),
    'upload_image': 'rule:context_is_admin or (role:member and project_id:%(project_id)s)',
    'delete_image_location': 'rule:context_is_admin',
    'get_image_location': 'rule:context_is_admin or (role:reader and project_id:%(project_id)s)',
    'set_image_location': 'rule:context_is_admin or (role:member and project_id:%(project_id)s)',
    'add_image_location': 'rule:service_api or (role:member and project_id:%(project_id)s and project_id:%(owner)s)',
    'fetch_image_location': 'rule:service_api',
    'add_member': 'rule:context_is_admin or (role:member and project_id:%(project_id)s)',
    'delete_member': 'rule:context_is_admin or (role:member and project_id:%(project_id)s)',
    'get_member': 'rule:context_is_admin or role:reader and (project_id:%(project_id)s or project_id:%(member_id)s)',
    'get_members': 'rule:context_is_admin or role:reader and (project_id:%(project_id)s or project_id:%(member_id)s)',
    'modify_member': 'rule:context_is_admin or (role:member and project_id:%(member_id)s)',
    'manage_image_cache': 'rule:context_is_admin',
    'deactivate': 'rule:context_is_admin or (role:member and project_id:%(project_id)s)',
    'reactivate': 'rule:context_is_admin or (role:member and project_id:%(project_id)s)',
    'copy_image': 'rule:context_is_admin',
    'list_cached_nodes': 'rule:context_is_admin',
    'get_task': 'rule:default',
    'get_tasks': 'rule:default',
    'add_task': 'rule:default',
    'modify_task': 'rule:default',
    'tasks_api_access': 'rule:context_is_admin',
    'metadef_default': '',
    'metadef_admin': 'rule:context_is_admin',
    'get_metadef_namespace': "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))",
    'get_metadef_namespaces': 'rule:context_is_admin or (role:reader and project_id:%(project_id)s)',
    'modify_metadef_namespace': 'rule:metadef_admin',
    'add_metadef_namespace': 'rule:metadef_admin',
    'delete_metadef_namespace': 'rule:metadef_admin',
    'get_metadef_object': "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))",
    'get_metadef_objects': "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))",
    'modify_metadef_object': 'rule:metadef_admin',
    'add_metadef_object': 'rule:metadef_admin',
    'delete_metadef_object': 'rule:metadef_admin',
    'list_metadef_resource_types': "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))",
    'get_metadef_resource_type': "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))",
    'add_metadef_resource_type_association': 'rule:metadef_admin',
    'remove_metadef_resource_type_association': 'rule:metadef_admin',
    'get_metadef_property': "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))",
    'get_metadef_properties': "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))",
    'modify_metadef_property': 'rule:metadef_admin',
    'add_metadef_property': 'rule:metadef_admin',
    'remove_metadef_property': 'rule:metadef_admin',
    'get_metadef_tag': "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))",
    'get_metadef_tags': "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))",
    'modify_metadef_tag': 'rule:metadef_admin',
    'add_metadef_tag': 'rule:metadef_admin',
    'add_metadef_tags': 'rule:metadef_admin',
    'delete_metadef_tag': 'rule:metadef_admin',
    'delete_metadef_tags': 'rule:metadef_admin',
    'cache_image': 'rule:context_is_admin',
    'cache_list': 'rule:context_is_admin',
    'cache_delete': 'rule:context_is_admin',
    'cache_clean': 'rule:context_is_admin',
    'cache_prune': 'rule:context_is_admin',
    'stores_info_detail': 'rule:context_is_admin or rule:service_api',
}

# The complete policy.json shipped with Glance 15 (Pike), in its order. Glance 15
# has no in-code defaults: a rule missing from this file falls back to "default",
# which is admin-only there.
GLANCE_PIKE_POLICY: dict[str, str] = {
    'context_is_admin': 'role:admin',
    'default': 'role:admin',
    'add_image': '',
    'delete_image': '',
    'get_image': '',
    'get_images': '',
    'modify_image': '',
    'publicize_image': 'role:admin',
    'communitize_image': '',
    'copy_from': '',
    'download_image': '',
    'upload_image': '',
    'delete_image_location': '',
    'get_image_location': '',
    'set_image_location': '',
    'add_member': '',
    'delete_member': '',
    'get_member': '',
    'get_members': '',
    'modify_member': '',
    'manage_image_cache': 'role:admin',
    'get_task': '',
    'get_tasks': '',
    'add_task': '',
    'modify_task': '',
    'tasks_api_access': 'role:admin',
    'deactivate': '',
    'reactivate': '',
    'get_metadef_namespace': '',
    'get_metadef_namespaces': '',
    'modify_metadef_namespace': '',
    'add_metadef_namespace': '',
    'get_metadef_object': '',
    'get_metadef_objects': '',
    'modify_metadef_object': '',
    'add_metadef_object': '',
    'list_metadef_resource_types': '',
    'get_metadef_resource_type': '',
    'add_metadef_resource_type_association': '',
    'get_metadef_property': '',
    'get_metadef_properties': '',
    'modify_metadef_property': '',
    'add_metadef_property': '',
    'get_metadef_tag': '',
    'get_metadef_tags': '',
    'modify_metadef_tag': '',
    'add_metadef_tag': '',
    'add_metadef_tags': '',
}

# Every rule name some supported Glance release enforces or defines.
KNOWN_RULE_NAMES: frozenset[str] = frozenset(GLANCE_CURRENT_DEFAULTS) | frozenset(GLANCE_PIKE_POLICY)

# Rules that only the legacy release knows (the v1 copy_from feature).
PIKE_ONLY_RULE_NAMES: frozenset[str] = frozenset(GLANCE_PIKE_POLICY) - frozenset(GLANCE_CURRENT_DEFAULTS)
