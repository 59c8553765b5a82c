//! `[cache]`: caches shared by the cells of a run and by runs, under the state folder's `cache/`.
//!
//! ```toml
//! [cache]
//! ccache = true        # one ccache per compiler and version, hit rates recorded per job
//! max_size = "5GiB"    # per compiler's cache; ccache's own default (5 GB) where unset
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::load::Validator;
use super::{ConfigError, SizeValue};

/// `[cache]`, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cache {
    /// `ccache = true`: compiles go through ccache.
    pub ccache: bool,
    /// `max_size`: the most each compiler's cache may hold, in bytes.
    pub max_size: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCache {
    ccache: Option<Spanned<bool>>,
    max_size: Option<Spanned<SizeValue>>,
}

impl Validator<'_> {
    pub(super) fn cache(&self, raw: Option<RawCache>) -> Result<Cache, ConfigError> {
        let Some(raw) = raw else { return Ok(Cache::default()) };
        let ccache = raw.ccache.as_ref().is_some_and(|c| *c.get_ref());
        if let Some(size) = &raw.max_size {
            // A size for a cache that is off would silently do nothing: say so instead.
            if !ccache {
                return Err(self.file.error(size.span(), "cache.max_size needs `ccache = true` in [cache]"));
            }
            // ccache keeps at least what one object file takes; below a mebibyte it would evict
            // what it just stored.
            if size.get_ref().0 < 1 << 20 {
                return Err(self.file.error(size.span(), "cache.max_size must be at least 1MiB"));
            }
        }
        Ok(Cache { ccache, max_size: raw.max_size.map(|s| s.into_inner().0) })
    }
}
