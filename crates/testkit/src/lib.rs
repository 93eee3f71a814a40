//! Real servers for tests, on loopback, in a temporary directory, stopped when dropped.

pub mod postgres;
