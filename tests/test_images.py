"""Image references read one way everywhere (_images.py)."""

from __future__ import annotations

import pytest

from percona_pg_operator._images import image_tag, image_version

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("image", "tag", "shown"),
    [
        ("percona/percona-postgresql-operator:2.9.0", "2.9.0", "2.9.0"),
        (f"percona/percona-postgresql-operator:2.9.0@{DIGEST}", "2.9.0", "2.9.0"),
        (f"percona/percona-postgresql-operator@{DIGEST}", "", "sha256:0123456789ab"),
        ("registry.local:5000/percona/operator", "", "registry.local:5000/percona/operator"),
        ("registry.local:5000/percona/operator:3.0.0", "3.0.0", "3.0.0"),
    ],
)
def test_one_reading_of_an_image_reference(image: str, tag: str, shown: str) -> None:
    assert image_tag(image) == tag
    assert image_version(image) == shown
