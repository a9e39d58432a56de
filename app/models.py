"""Every mapped model, imported so Base.metadata is complete (Alembic, tests)."""

from app.db import Base
from app.identity.models import Organization, User
from app.listings.models import Listing

__all__ = ["Base", "Listing", "Organization", "User"]
