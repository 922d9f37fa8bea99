"""Store URLs as they may be shown: the one place that hides a password before a URL is printed or logged.

A store URL such as ``postgresql://user:secret@host/db`` carries its password; anything that shows a
URL to a person (a command's output, a log line, an error message) shows :func:`mask_url` of it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "mask_url"]

MASK = "***"  # what SQLAlchemy's ``render_as_string(hide_password=True)`` shows too

_SECRET_PARAMS = frozenset({"password", "passwd", "pwd", "sslpassword"})  # libpq and driver spellings


def mask_url(url: str) -> str:
    """``url`` with its password (in the user info or a ``password=`` query parameter) replaced by ``***``.

    Anything that is not a URL with a scheme (a SQLite file path) comes back unchanged.

    >>> mask_url("postgresql://user:PW@host:5432/db")
    'postgresql://user:***@host:5432/db'
    >>> mask_url("postgresql+psycopg://u@h/db?password=PW&sslmode=require")
    'postgresql+psycopg://u@h/db?password=***&sslmode=require'
    >>> mask_url("sqlite:///aftersales.db"), mask_url("store.db")
    ('sqlite:///aftersales.db', 'store.db')
    """
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # not parseable: show the scheme only rather than risk a secret
        return url.split("://", 1)[0] + "://" + MASK
    netloc, query = parts.netloc, parts.query
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
        query = urlencode([(k, MASK if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # nothing secret; rebuilding would also lose the empty authority of sqlite:////abs/path
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
