"""ChatKit widget backend: the reference system under test for gameday drills."""

__version__ = "0.4.0"
SERVICE_NAME = "chatkit-backend"
