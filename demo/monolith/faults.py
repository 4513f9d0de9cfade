"""The monolith's faults on cue, by name (importing this costs nothing: the CLI lists them)."""

FAULTS = ("database-down", "database-up", "broker-restart", "worker-stop", "worker-start")
