//! `[slurm]`: where and how `run --on slurm` submits the grid. Flags on the command line win.
//!
//! ```toml
//! [slurm]
//! partition = "compile"
//! account = "llvm-team"
//! qos = "normal"
//! options = ["--constraint=avx2"]   # more sbatch options
//! pack = 4                           # cells per array task (default 1)
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::load::Validator;
use super::ConfigError;

/// `[slurm]`, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slurm {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--qos`.
    pub qos: Option<String>,
    /// More sbatch options, each one word starting with `-`.
    pub options: Vec<String>,
    /// Cells per array task.
    pub pack: Option<u32>,
}

impl Slurm {
    /// This `[slurm]` with the command line's `--partition`, `--account` and `--qos` over it.
    #[must_use]
    pub fn overridden(&self, partition: Option<&str>, account: Option<&str>, qos: Option<&str>) -> Self {
        let mut slurm = self.clone();
        for (value, flag) in [(&mut slurm.partition, partition), (&mut slurm.account, account), (&mut slurm.qos, qos)] {
            if let Some(flag) = flag {
                *value = Some(flag.to_string());
            }
        }
        slurm
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlurm {
    partition: Option<Spanned<String>>,
    account: Option<Spanned<String>>,
    qos: Option<Spanned<String>>,
    options: Option<Vec<Spanned<String>>>,
    pack: Option<Spanned<i64>>,
}

impl Validator<'_> {
    pub(super) fn slurm(&self, raw: Option<RawSlurm>) -> Result<Slurm, ConfigError> {
        let Some(raw) = raw else { return Ok(Slurm::default()) };
        let word = |value: Option<Spanned<String>>, key: &str| -> Result<Option<String>, ConfigError> {
            value
                .map(|v| {
                    let text = v.get_ref();
                    if text.is_empty()
                        || text.starts_with('-')
                        || text.chars().any(|c| c.is_whitespace() || c.is_control())
                    {
                        return Err(self.file.error(
                            v.span(),
                            format!("slurm.{key}: `{}` is not a {key} name", crate::text::one_line(text)),
                        ));
                    }
                    Ok(v.into_inner())
                })
                .transpose()
        };
        let options = self.options(raw.options, "slurm.options", "an sbatch option")?;
        let pack = match raw.pack {
            Some(p) => Some(
                u32::try_from(*p.get_ref())
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| self.file.error(p.span(), "slurm.pack must be a whole number of at least 1"))?,
            ),
            None => None,
        };
        Ok(Slurm {
            partition: word(raw.partition, "partition")?,
            account: word(raw.account, "account")?,
            qos: word(raw.qos, "qos")?,
            options,
            pack,
        })
    }
}
