"""Where a webhook may send: http(s) only, and (unless an operator allows private targets) never
to loopback, link-local, private or otherwise non-public addresses, so that a subscription
cannot be used to reach the catalog's own network (SSRF; cloud metadata at 169.254.169.254).

The check runs on the resolved addresses, when a subscription is made or changed and again
before every delivery, and the delivery connects to the very address that was checked (the
URL's host is pinned to it; TLS still verifies the name), so a DNS answer that changes in
between (rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from graph_store.errors import InputError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Target:
    """A checked target: the URL to request (its host replaced by the address checked), the
    ``Host`` header and TLS server name to send, and the URL as given."""

    url: str
    pinned: str
    host: str  # the Host header
    name: str  # the TLS server name


def refusal(address: IpAddress) -> str | None:
    """Why ``address`` is not a public one (None when it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, test in (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
                       ("link-local", address.is_link_local), ("multicast", address.is_multicast),
                       ("private", address.is_private), ("reserved", address.is_reserved)):
        if test:
            return kind
    return None if address.is_global else "non-public"


def parse(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of a webhook URL; InputError for anything but http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise InputError(f"url: {url!r} is not a URL ({e})", field="url") from None
    if parts.scheme not in SCHEMES:
        raise InputError(f"url: only http and https targets are allowed, not {parts.scheme!r}:",
                         field="url", refused="scheme")
    if not parts.hostname:
        raise InputError(f"url: {url!r} names no host", field="url")
    if parts.username is not None or parts.password is not None:
        raise InputError("url: credentials in the URL are not allowed; the target verifies the "
                         "webhook-signature header instead", field="url", refused="credentials")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address ``host`` resolves to (the host itself when it is an address)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as e:  # ValueError: a name IDNA cannot encode, a NUL byte
        why = getattr(e, "strerror", None) or str(e)
        raise InputError(f"url: the host {host!r} does not resolve ({why})", field="url",
                         refused="unresolvable") from None
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0])
                              for info in infos))


def check(url: str, *, allow_private: bool) -> Target:
    """The target to connect to, or InputError saying precisely why not (``refused``: scheme,
    loopback, link-local, private, ...). Every address the name resolves to must be public:
    one private answer among public ones is refused, as a rebinding attacker would give."""
    scheme, host, port = parse(url)
    addresses = resolve(host, port)
    if not addresses:
        raise InputError(f"url: the host {host!r} has no address", field="url",
                         refused="unresolvable")
    if not allow_private:
        for address in addresses:
            why = refusal(address)
            if why is not None:
                named = host if host == str(address) else f"{host} ({address})"
                raise InputError(
                    f"url: {named} is a {why} address; webhooks may only target public "
                    "addresses (an operator may allow private ones with "
                    "SEMCAT_WEBHOOKS_ALLOW_PRIVATE=true)", field="url", refused=why)
    parts = urlsplit(url)
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    pinned = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    literal_host = f"[{host}]" if ":" in host else host
    return Target(url, pinned, f"{literal_host}:{parts.port}" if parts.port else literal_host,
                  host)


def origin(url: str) -> str:
    """The scheme and host of a URL, for logs and the audit log: a target's path may itself be
    a credential (Slack's incoming-webhook URLs are)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
