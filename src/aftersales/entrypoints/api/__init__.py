"""The REST API (FastAPI): ``create_app(settings)``; served by ``aftersales serve``."""

from aftersales.entrypoints.api.app import ApiOptions, create_app

__all__ = ["ApiOptions", "create_app"]
