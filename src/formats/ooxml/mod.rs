//! OOXML (Office Open XML) disarm: Word, Excel, PowerPoint and Visio packages.
//!
//! WORK IN PROGRESS: detection tables are final; the rebuild follows.

pub mod content_types;

use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{Kind, Reason};

pub use content_types::package_kind;

pub fn disarm(kind: Kind, _data: &[u8], _ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    Err(FormatError::new(Reason::Unsupported, format!("{kind}: not yet")))
}
