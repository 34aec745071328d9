"""The use cases: each takes a session keyword-only and an explicit `now`."""
