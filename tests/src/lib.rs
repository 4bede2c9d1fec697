//! End-to-end tests across the jetbase crates live in `tests/`; this library is empty.
