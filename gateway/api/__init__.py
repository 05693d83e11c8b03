"""The gateway's HTTP surface: the public Open311 API and the admin API."""
