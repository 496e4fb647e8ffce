//! The one schema of `recall_fast`: Zeek types, their Arrow representation and the registry of
//! known log types. Parsing (`decode`), ECS mapping (`normalize`) and index templates all read
//! it, so a type decision is made once.
//!
//! Stage: schema. Must not import `decode`, `normalize` or `encode`.

pub mod ecs;
pub mod registry;
pub mod routing;
pub mod templates;
pub mod zeek;

pub use registry::{field_spec, log_spec, FieldSpec, LogSpec, Presence};
pub use zeek::{ZeekScalar, ZeekType, ZEEK_PATH_KEY, ZEEK_TYPE_KEY};
