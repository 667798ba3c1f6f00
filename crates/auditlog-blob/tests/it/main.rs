//! The blob crate's integration tests, in one binary.

mod blob_store;
mod link_signer;
mod support;
