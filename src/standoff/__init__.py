"""standoff: forecast how negotiations and international crises end."""

__version__ = "0.1.0"
