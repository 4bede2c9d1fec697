//! Checks that run migrations for real somewhere nothing is kept: the rollback check (up, down,
//! up again, and the schema compared) and drift (the live schema against the one the applied
//! migrations make).

pub(crate) mod check_rollback;
pub(crate) mod drift;
