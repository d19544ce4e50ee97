"""Helpers of the security settings: the client's address behind the reverse proxy,
and the origin of the base map's tiles for the Content-Security-Policy."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from base64 import b64encode
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest


@cache
def _trusted(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address, for the login throttle and the audit log: ``REMOTE_ADDR``,
    unless that is a trusted proxy (``TAKHAI_TRUSTED_PROXIES``, addresses or
    networks); then the right-most address of ``X-Forwarded-For`` that is not one
    (those to its left were written by the client, or by whoever it pretends to
    be). "" when there is no valid address."""
    remote = _address(str(request.META.get("REMOTE_ADDR", "")))
    networks = _trusted(tuple(settings.TRUSTED_PROXIES))
    if remote is None or not any(remote in net for net in networks):
        return str(remote) if remote is not None else ""
    hops = str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # A garbled hop: nothing to its left can be trusted either.
            break
        if not any(address in net for net in networks):
            return str(address)
    return str(remote)


def tile_sources(tile_url: str) -> list[str]:
    """The CSP source of a Leaflet tile URL template: ``https://{s}.tile.example.org/…``
    gives ``https://*.tile.example.org``; a relative (same-site) template gives none."""
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return []
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    return [f"{parts.scheme}://{host}"]


_INLINE = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)


def inline_hashes(html: str) -> dict[str, list[str]]:
    """CSP hash sources for the inline ``<script>`` and ``<style>`` elements of
    ``html`` (``script-src`` and ``style-src``): a document embedded with
    ``<iframe srcdoc>`` inherits the page's policy, so exactly these may run there
    and nothing injected beside them."""
    found: dict[str, list[str]] = {"script-src": [], "style-src": []}
    for tag, attrs, body in _INLINE.findall(html):
        if tag.lower() == "script" and "src=" in attrs.lower():
            continue
        digest = b64encode(hashlib.sha256(body.encode()).digest()).decode()
        directive = "script-src" if tag.lower() == "script" else "style-src"
        source = f"'sha256-{digest}'"
        if source not in found[directive]:
            found[directive].append(source)
    return found
