"""Value formats the API server (or the program reading a value) enforces, checked the same way.

Each check raises ``ValueError`` with a message that names the expected form, never the value.
"""

from __future__ import annotations

import re
from decimal import Decimal, DecimalException, InvalidOperation

# -- Kubernetes quantities -------------------------------------------------------------------
# https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)


# The API server keeps a quantity as a scaled int64: beyond that it is refused.
# https://github.com/kubernetes/apimachinery/blob/master/pkg/api/resource/quantity.go
MAX_QUANTITY = Decimal(2**63 - 1)


def parse_quantity(text: str) -> Decimal:
    """Return the quantity's value in base units; raise ValueError when it is not a quantity,
    is negative, or is beyond what the API server can hold."""
    match = _QUANTITY.fullmatch(text) if isinstance(text, str) and len(text) <= 64 else None
    if match is None:
        raise ValueError("not a Kubernetes quantity (e.g. 500m, 1, 256Mi, 1Gi)")
    suffix = match["suffix"] or ""
    try:
        number = Decimal(match["number"])
        if suffix in _BINARY:
            value = number * _BINARY[suffix]
        elif suffix[:1] in ("e", "E"):
            exponent = int(suffix[1:])
            if abs(exponent) > 30:
                raise ValueError("a quantity's exponent must be between -30 and 30")
            value = number * (Decimal(10) ** exponent)
        else:
            value = number * _DECIMAL[suffix]
    except (InvalidOperation, DecimalException):
        raise ValueError("not a Kubernetes quantity") from None
    if value < 0:
        raise ValueError("must not be negative")
    if value > MAX_QUANTITY:
        raise ValueError("is larger than the API server can hold")
    return value


# -- Object names ----------------------------------------------------------------------------
# https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)


def dns1123_label(value: str, max_len: int) -> str:
    if len(value) > max_len:
        raise ValueError(f"must be at most {max_len} characters, has {len(value)}")
    if not _DNS1123_LABEL.fullmatch(value):
        raise ValueError(
            "must be a DNS-1123 label: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def is_dns1123_subdomain(value: str) -> bool:
    return len(value) <= 253 and bool(_DNS1123_SUBDOMAIN.fullmatch(value))


# Label values: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def is_label_value(value: str) -> bool:
    return len(value) <= 63 and _LABEL_VALUE.fullmatch(value) is not None


# Label and annotation keys (qualified names): an optional DNS-1123 subdomain prefix and '/',
# then a name of at most 63 characters.
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def is_qualified_name(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or not is_dns1123_subdomain(prefix)):
        return False
    return 0 < len(name) <= 63 and _QUALIFIED_NAME.fullmatch(name) is not None


# Annotations: at most 256 KiB of keys and values together, as the API server checks.
MAX_ANNOTATIONS_BYTES = 256 * 1024

# URLs that would carry a credential into state or messages.
_CREDENTIAL_QUERY = re.compile(
    r"(^|&)(access_?token|token|password|passwd|secret|api_?key|key|auth|signature|sig)=",
    re.IGNORECASE,
)


def url_credential_problem(url: str) -> str | None:
    """Why a URL must not be used as it is (it embeds a credential), or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a URL"
    if parts.username or parts.password or "@" in parts.netloc:
        return "must not carry a user or password (user:password@); give credentials elsewhere"
    if parts.query and _CREDENTIAL_QUERY.search(parts.query):
        return "must not carry a credential in its query string"
    return None


REPO_URL_MESSAGE = "must be an http(s):// or file:// URL, or a directory"


def repo_url_problem(value: str) -> str | None:
    """Why a chart repository (spec.helm.repo, or the mirror in the environment) cannot be
    used, or None: the one rule for both."""
    from urllib.parse import urlsplit

    if len(value) > 2048 or not value.strip() or value != value.strip():
        return REPO_URL_MESSAGE
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme and scheme not in ("http", "https", "file"):
        return REPO_URL_MESSAGE
    if scheme not in ("http", "https"):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError when it is not a number from 0 to 65535
    except ValueError:
        return "is not a URL: its port must be a number from 1 to 65535"
    if port == 0:
        return "is not a URL: its port must be a number from 1 to 65535"
    if not parts.hostname:
        return "is not a URL: it has no host"
    return url_credential_problem(value)


# -- Images ----------------------------------------------------------------------------------
# The reference grammar of distribution/reference (docker's image names).
IMAGE_REPOSITORY = re.compile(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$"
)
# Longest repository name a registry accepts (distribution/reference `NameTotalLengthMax`):
# https://github.com/distribution/reference/blob/main/reference.go
IMAGE_REPOSITORY_MAX = 255
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
IMAGE_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")

# -- Versions, enums, names ------------------------------------------------------------------
SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")
FEATURE_GATE = re.compile(r"^[a-z][A-Za-z0-9]*$")

# -- Go durations, as controller-runtime reads the lease settings (time.ParseDuration) --------
_GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")
_GO_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


# Go's time.Duration is an int64 of nanoseconds: about 292 years.
MAX_GO_DURATION_SECONDS = (2**63 - 1) / 1e9


def go_duration_seconds(value: str) -> float:
    if len(value) > 64 or not _GO_DURATION.fullmatch(value):
        raise ValueError("must be a Go duration such as 60s, 1m30s or 500ms")
    total = 0.0
    for number, _, unit in re.findall(r"([0-9]+(\.[0-9]+)?)(ns|us|µs|ms|s|m|h)", value):
        total += float(number) * _GO_DURATION_UNITS[unit]
    if total > MAX_GO_DURATION_SECONDS:
        raise ValueError("is longer than a Go duration can hold (about 292 years)")
    return total


# -- Text from a cluster ---------------------------------------------------------------------
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_control(text: str) -> str:
    """``text`` with every control and format character written as an escape (``\\n``,
    ``\\x1b``, ``\\u202e``), so text from a cluster (a condition message, an image, a
    crVersion) can neither move a terminal's cursor, colour it, nor start a fake output line."""
    import unicodedata

    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
