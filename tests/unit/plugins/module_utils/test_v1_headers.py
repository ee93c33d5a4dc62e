from __future__ import annotations

import pytest

from ansible_collections.cloudimage.glance.plugins.module_utils.api_v1 import check_header_safe
from ansible_collections.cloudimage.glance.plugins.module_utils.common import GlanceError


@pytest.mark.parametrize('name, properties', [
    ('cirros', {'os_distro': 'cirros', 'note': 'café'}),
    (None, None),
])
def test_values_that_travel_in_v1_headers(name, properties):
    check_header_safe(name, properties)


@pytest.mark.parametrize('name, properties, words', [
    ('Ubuntu 24.04 \u2014 golden', None, "name 'Ubuntu 24.04 \u2014 golden' cannot be sent to Image API v1"),
    ('two\nlines', None, "name 'two\\nlines' cannot be sent to Image API v1"),
    ('ok', {'note': 'a\r\nX-Injected: 1'}, "properties.note value 'a\\r\\nX-Injected: 1' cannot be sent"),
    ('ok', {'\u00fcber key': 'x'}, None),
    ('ok', {'bad key': 'x'}, "properties key 'bad key' cannot be sent to Image API v1"),
    ('ok', {'\u4e2d': 'x'}, "properties key '\u4e2d' cannot be sent to Image API v1"),
])
def test_values_refused_before_any_request(name, properties, words):
    if words is None:
        words = 'properties key'
    with pytest.raises(GlanceError) as info:
        check_header_safe(name, properties)
    assert str(info.value).startswith(words)
    assert '\n' not in str(info.value)
