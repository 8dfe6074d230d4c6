from rest_framework.routers import SimpleRouter


class Router(SimpleRouter):
    """Routes that answer with or without a trailing slash (``/api/products`` as in the
    specification, ``/api/products/`` as DRF clients often send)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
