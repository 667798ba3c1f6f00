//! Pure domain types and rules of `auditlog`. Nothing here performs IO or knows about HTTP.

pub mod canonical;
pub mod csv_export;
pub mod event;
mod event_wire;
pub mod export;
pub mod field_error;
pub mod field_path;
pub mod ids;
pub mod jcs;
pub mod metadata;
pub mod pagination;
pub mod retention;
pub mod schema;
#[cfg(test)]
mod test_rng;
pub mod timestamp;

pub use event::{Actor, Context, EventInput, Target};
pub use field_error::{FieldError, FieldErrors};
