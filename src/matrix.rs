//! The matrix: expansion of axes, excludes and includes into cells, exactly as GitHub Actions
//! does it; slugs that name cells; filters that pick some of them.
//!
//! Nothing here knows about hosts or compilers: a cell is only the values the file gave it.

mod cell;
mod expand;
mod filter;
mod shard;
mod slug;

pub use cell::Cell;
pub use expand::expand;
pub use filter::{CellFilter, FilterError};
pub use shard::Shard;
pub use slug::assign_slugs;
