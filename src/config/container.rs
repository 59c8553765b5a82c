//! `[container]`: the image a cell's steps run in, and how. A cell's `image` value (an axis or an
//! include key) names one too; the table's `image` is a template over the cell, and wins.
//!
//! ```toml
//! [container]
//! image = "localhost/gridrun-{{ compiler }}:bookworm"
//! engine = "podman"            # or "docker"; default: podman where installed, else docker
//! options = ["--network=none"] # more options for `run`
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::load::Validator;
use super::schema::Text;
use super::ConfigError;

/// A container engine gridrun drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Podman.
    Podman,
    /// Docker.
    Docker,
}

impl Engine {
    /// The program: `podman`, `docker`.
    pub fn program(self) -> &'static str {
        match self {
            Self::Podman => "podman",
            Self::Docker => "docker",
        }
    }
}

/// `[container]`, validated.
#[derive(Clone, Debug, Default)]
pub struct Container {
    /// The image, a template over the cell.
    pub image: Option<Text>,
    /// The engine, where the file names one.
    pub engine: Option<Engine>,
    /// More options for the engine's `run`.
    pub options: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawContainer {
    image: Option<Spanned<String>>,
    engine: Option<Spanned<String>>,
    options: Option<Vec<Spanned<String>>>,
}

impl Validator<'_> {
    pub(super) fn container(&self, raw: Option<RawContainer>) -> Result<Container, ConfigError> {
        let Some(raw) = raw else { return Ok(Container::default()) };
        let engine = match raw.engine {
            Some(e) => Some(match e.get_ref().as_str() {
                "podman" => Engine::Podman,
                "docker" => Engine::Docker,
                other => {
                    return Err(self.file.error(
                        e.span(),
                        format!(
                            "container.engine: `{}` is not an engine gridrun drives: podman or docker",
                            crate::text::one_line(other)
                        ),
                    ))
                }
            }),
            None => None,
        };
        let options = self.options(raw.options, "container.options", "an option")?;
        let image = raw.image.map(|i| self.text(i, "container.image")).transpose()?;
        Ok(Container { image, engine, options })
    }
}
