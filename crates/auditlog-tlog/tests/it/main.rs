//! The tamper-evidence crate's integration tests, in one binary.

mod bundle;
mod checkpoint;
mod completeness;
mod csv_leaf;
mod hostile;
mod support;
mod tree;
