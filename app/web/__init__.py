"""The web application: server-rendered pages over the same services as the API.

Pages live beside the API in the same app and origin; none of them is in the OpenAPI
document. `mount(app)` adds the page routes, the static files and the offline /docs.
"""

from app.web.app import mount

__all__ = ["mount"]
