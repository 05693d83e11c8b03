"""One home per vendor: `side.py` says what the gateway's jobs ask of any vendor, `cityworks.py` and
`opengov.py` answer it, `registry.py` hands out a signed-in side per integration."""

from .registry import Vendors, has_questions
from .side import VendorSide

__all__ = ["VendorSide", "Vendors", "has_questions"]
