// lease_free: when a lease of `leases l` is free, as one SQL condition shared by the statements that
// take partitions (lease_book) and those that find the live nodes (node_registry). A macro: the
// statements that use it are whole literals.
#pragma once

// Free: never taken, released (its expiry moved into the past), expired by the database's clock, or
// held through a session the server no longer has — a node killed is noticed at once rather than
// after its lease. A session is its process id with its start time (ids are reused). Sessions older
// than the server are gone because the server restarted, not because their nodes died: those leases
// wait for their expiry, and their nodes reconnect and renew them meanwhile.
#define COWORKER_LEASE_FREE                                                                              \
  "(l.expires < now() OR (l.backend_start > pg_postmaster_start_time() AND NOT EXISTS (SELECT 1 FROM " \
  "pg_stat_activity a WHERE a.pid = l.backend AND a.backend_start = l.backend_start)))"
