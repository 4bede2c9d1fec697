//! The history table beyond a run: the one-query up-to-date check (`fast_path`), baselines and
//! recording another tool's applied migrations (`baseline`), repairing a history that no longer
//! matches the files (`repair`), and waiting until another process brought it up to date
//! (`wait`).

pub(crate) mod baseline;
pub(crate) mod fast_path;
pub(crate) mod kept_rollbacks;
pub(crate) mod repair;
pub(crate) mod table_names;
pub(crate) mod wait;
