"""Server-rendered public pages that customers open from e-mails (DESIGN.md: the web app is an API
client; only these pages are rendered here): unsubscribe and the preference page (``pages``).

Entry points are independent: nothing here imports ``entrypoints.api`` or ``entrypoints.cli`` (an
import-linter contract); the API app mounts these pages with :class:`pages.PublicPages`.
"""
