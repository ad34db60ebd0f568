"""Several control-plane processes (replicas) on one PostgreSQL database (docs/deployment.md,
"Replicas"): which replica runs a room's meeting (`leases`, pure; `store`, the SQL; `ownership`,
claiming, renewing, taking over), and principal caches kept fresh across replicas by PostgreSQL
notifications (`invalidation`)."""
