//! The subset of the WorkOS Organizations API that the official SDKs call.

pub mod create;
pub mod delete;
mod fields;
pub mod get;
pub mod list;
pub mod update;
mod view;
