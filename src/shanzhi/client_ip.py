"""The address a request comes from, as the last trusted proxy saw it.

Behind a reverse proxy REMOTE_ADDR is the proxy's own address; the client's is in a header the
proxy sets. Only the proxies we run may be believed: SHANZHI_PROXY_IP_HEADER names the header
(e.g. X-Forwarded-For, or X-Real-IP) and SHANZHI_TRUSTED_PROXIES how many proxies stand in front
of the application. Each appends the address it saw to X-Forwarded-For, so the client is the
entry that many places from the right; anything further left was written by the client itself.
Without a header setting, REMOTE_ADDR alone counts.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(text: str) -> str:
    """`text` as a normalised IP address, or "" when it is none."""
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""


def client_ip(request: HttpRequest) -> str:
    """The client's address under the proxy settings; REMOTE_ADDR when the header is absent,
    malformed or not configured."""
    remote = _address(str(request.META.get("REMOTE_ADDR", ""))) or "unknown"
    header = str(getattr(settings, "SHANZHI_PROXY_IP_HEADER", "") or "")
    proxies = int(getattr(settings, "SHANZHI_TRUSTED_PROXIES", 0) or 0)
    if not header or proxies < 1:
        return remote
    value = request.headers.get(header, "")
    entries = [entry for entry in value.split(",") if entry.strip()]
    if not entries:
        return remote
    # Fewer entries than proxies: every entry was still written by one of ours.
    chosen = entries[-proxies] if len(entries) >= proxies else entries[0]
    return _address(chosen) or remote
