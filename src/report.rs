//! Reports: what a run came to, read from the store. One module per format, each implementing
//! [`format::Export`]; HTML and Markdown share what they say through [`markup`].

pub mod compare;
pub mod folds;
pub mod format;
pub mod github;
pub mod grid;
pub mod history;
pub mod html;
pub mod junit;
pub mod markdown;
mod markup;
pub mod plan;
pub mod terminal;
#[cfg(test)]
mod testdata;
