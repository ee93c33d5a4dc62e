# Copyright: cloudimage.glance contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every image service driver, which one an endpoint gets, and the one check of what a task needs."""

from __future__ import annotations

from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v1 import ImageDriverV1
from ansible_collections.cloudimage.glance.plugins.module_utils._drivers.v2 import ImageDriverV2
from ansible_collections.cloudimage.glance.plugins.module_utils._errors import GlanceError

# In order of preference for api_version auto.
DRIVERS = (ImageDriverV2, ImageDriverV1)


def choose_driver(requested, offered, root):
    """The driver class to speak to an endpoint offering the ``offered`` major versions; ``requested``: auto or one."""
    listing = ', '.join('v%s' % v for v in sorted(offered)) or 'none'
    if requested == 'auto':
        for driver in DRIVERS:
            if driver.version in offered:
                return driver
        raise GlanceError('the image endpoint %s offers no Image API version this collection speaks (offered: %s)'
                          % (root, listing))
    driver = next((driver for driver in DRIVERS if driver.version == requested), None)
    if driver is None or requested not in offered:
        raise GlanceError('api_version %s requested, but the image endpoint %s does not offer Image API v%s '
                          '(offered: %s)' % (requested, root, requested, listing))
    return driver


def unavailable(driver, need):
    """The one message for a task needing what the endpoint's API lacks: which APIs have it, which one this is."""
    holders = [other.label for other in DRIVERS if other.capabilities.offers(need.capability, need.value)]
    wanted = ' or '.join(holders) if holders else 'an image API this collection does not know'
    return GlanceError('%s needs %s; this endpoint speaks %s' % (need.what, wanted, driver.label))


def check_needs(driver, needs):
    """Refuse the first need the driver's capability table does not meet (called before any image request)."""
    for need in needs:
        if not driver.capabilities.offers(need.capability, need.value):
            raise unavailable(driver, need)
