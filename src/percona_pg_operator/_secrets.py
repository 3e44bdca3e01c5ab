"""Which keys hold credentials: the one rule for masking values in errors, diffs and output.

Everything under ``provider_config`` is a credential (kubeconfigs, keys, tokens); elsewhere, a key
whose name says password, secret, token, credential, private/access/API key.
"""

from __future__ import annotations

import re
from typing import Any

# Keys under which every value is a credential.
SECRET_BLOCKS = frozenset({"provider_config", "providerConfig"})
CREDENTIAL_KEY = re.compile(
    r"pass(word|wd)?|secret|token|credential|private_?key|access_?key|api_?key|kube_?config",
    re.IGNORECASE,
)


def is_secret_key(key: Any) -> bool:
    """Whether a value under ``key`` (a mapping key or a path element) may be a credential."""
    if not isinstance(key, str):
        return False
    return key in SECRET_BLOCKS or CREDENTIAL_KEY.search(key) is not None
