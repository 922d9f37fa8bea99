"""Where webhooks may go: public addresses only, unless the operator allows a host or range.

A webhook URL is chosen by whoever holds an admin key, and the server POSTs to it from inside its own
network. Left unchecked that is server-side request forgery: ``http://127.0.0.1:5432``,
``http://169.254.169.254`` (cloud metadata) or ``http://10.0.0.1`` reach what no outsider should, and
the recorded errors ("connection refused" vs "reset") turn the delivery list into a port scanner.

Two checks, one policy (:class:`DestinationPolicy`):

1. **At subscription time** (:meth:`DestinationPolicy.refusal`), without resolving anything: the URL
   must be http(s) without credentials; a literal address, in any form a resolver accepts (``127.1``,
   ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``[::ffff:127.0.0.1]``), must be public; names that
   only ever mean the local network (``localhost``, ``*.internal``, ``*.local``, cloud metadata names,
   single-label names) are refused.
2. **At connect time** (:meth:`DestinationPolicy.address_allowed`), on every address the name
   resolved to, and the connection then goes to the very address that was checked (the HTTP channel
   pins it), so a name that resolved publicly at subscription time and privately later (DNS
   rebinding) is still refused.

Public means :attr:`ipaddress.IPv4Address.is_global` and not multicast, after unwrapping the IPv4
address that IPv4-mapped (``::ffff:a.b.c.d``), NAT64 (``64:ff9b::/96``), 6to4 (``2002::/16``) and
Teredo IPv6 addresses carry. ``AFTERSALES_WEBHOOK_ALLOW_HOSTS`` lists names and ranges allowed anyway
(local development: ``localhost,127.0.0.0/8``).

>>> policy = DestinationPolicy.parse(())
>>> [policy.refusal(u) is None for u in ("https://hooks.example.com/x", "http://127.1/", "http://2130706433/")]
[True, False, False]
>>> parse_ipv4("0x7f000001"), parse_ipv4("127.1"), parse_ipv4("0177.0.0.1"), parse_ipv4("10.0.0.256")
(IPv4Address('127.0.0.1'), IPv4Address('127.0.0.1'), IPv4Address('127.0.0.1'), None)
>>> DestinationPolicy.parse(["127.0.0.0/8"]).refusal("http://127.0.0.1:8080/hook") is None
True
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["DestinationPolicy", "destination_key", "is_public", "parse_ipv4"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that only ever mean this machine or its private network (RFC 6761 localhost, RFC 6762 .local,
# ICANN's .internal, RFC 8375 home.arpa) and the cloud metadata services' names.
_LOCAL_SUFFIXES = ("localhost", "local", "internal", "localdomain", "home.arpa")
_METADATA_NAMES = frozenset({"metadata", "metadata.goog", "metadata.google.internal", "instance-data"})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_DECIMAL, _OCTAL, _HEX = re.compile(r"[0-9]+"), re.compile(r"0[0-7]*"), re.compile(r"0[xX][0-9a-fA-F]*")
REFUSED = "the destination is not a public address (loopback, private, link-local, multicast or unspecified)"


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read as IPv4 the way ``inet_aton`` (and so the resolver) reads it: one to four parts,
    each decimal, octal (leading 0) or hexadecimal (0x); the last part fills the remaining bytes
    (``127.1`` = 127.0.0.1, ``2130706433`` = 127.0.0.1). None when it is not such an address."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        if _HEX.fullmatch(part):
            numbers.append(int(part[2:] or "0", 16))
        elif _OCTAL.fullmatch(part):
            numbers.append(int(part, 8))
        elif _DECIMAL.fullmatch(part):
            numbers.append(int(part, 10))
        else:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def _looks_numeric(host: str) -> bool:
    """WHATWG URL's "ends in a number": such a host is an IPv4 address or invalid, never a name."""
    last = host.rsplit(".", 1)[-1]
    return bool(_DECIMAL.fullmatch(last) or _HEX.fullmatch(last))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _unwrap(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address):
        return _embedded_ipv4(ip) or ip
    return ip


def is_public(ip: IPAddress) -> bool:
    """Whether ``ip`` (or the IPv4 address it carries) is a global unicast address.

    >>> [is_public(ipaddress.ip_address(a)) for a in ("93.184.216.34", "127.0.0.1", "::ffff:127.0.0.1", "0.0.0.0")]
    [True, False, False, False]
    """
    ip = _unwrap(ip)
    return ip.is_global and not ip.is_multicast


def _literal(host: str) -> IPAddress | None:
    """The address a URL's host names literally (brackets already removed by ``urlsplit``)."""
    if ":" in host:
        return ipaddress.IPv6Address(host.split("%", 1)[0])  # a zone id (%eth0) only narrows link-local
    return parse_ipv4(host) if _looks_numeric(host) else None


def destination_key(url: str) -> str:
    """The destination a per-destination concurrency cap counts: scheme, host and port.

    >>> destination_key("https://Hooks.Example.com/a"), destination_key("http://127.0.0.1:8080/b")
    ('https://hooks.example.com:443', 'http://127.0.0.1:8080')
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').rstrip('.')}:{port}"


@dataclass(frozen=True)
class DestinationPolicy:
    """Public destinations, plus the host names and networks the operator allows."""

    allowed_names: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> DestinationPolicy:
        """A policy from ``AFTERSALES_WEBHOOK_ALLOW_HOSTS`` entries: CIDR ranges or single addresses
        (``127.0.0.0/8``, ``::1``) and host names (``localhost``)."""
        names, networks = set(), []
        for entry in (e.strip().lower().rstrip(".") for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if not re.fullmatch(r"[a-z0-9_.-]+", entry):
                    raise ValueError(f"webhook allow entry {entry!r} is neither a host name nor an IP range") from None
                names.add(entry)
        return cls(frozenset(names), tuple(networks))

    def address_allowed(self, host: str, ip: IPAddress) -> bool:
        """Connect-time check of one address that ``host`` resolved to."""
        if is_public(ip) or host.lower().rstrip(".") in self.allowed_names:
            return True
        return any(address in net for address in {ip, _unwrap(ip)} for net in self.allowed_networks)

    def refusal(self, url: str) -> str | None:
        """Why ``url`` cannot be a webhook destination (None when it can); nothing is resolved."""
        try:
            parts = urlsplit(url)
            _ = parts.port  # raises ValueError for a port out of range
        except ValueError:
            return "must be an absolute http(s) URL"
        host = (parts.hostname or "").rstrip(".")
        if parts.scheme not in ("http", "https") or not host:
            return "must be an absolute http(s) URL"
        if parts.username is not None or parts.password is not None:
            return "must not hold credentials (user:password@); authenticate the signature instead"
        if host in self.allowed_names:
            return None
        try:
            ip = _literal(host)
        except ValueError:
            return "the host is not a valid address"
        if ip is None and _looks_numeric(host):
            return "the host is not a valid address"
        if ip is not None:
            return None if self.address_allowed(host, ip) else REFUSED
        if "." not in host or host in _METADATA_NAMES or host.endswith(tuple("." + s for s in _LOCAL_SUFFIXES)):
            return "the host names the local network; use a public, fully qualified name"
        if host in _LOCAL_SUFFIXES:
            return "the host names the local network; use a public, fully qualified name"
        return None
