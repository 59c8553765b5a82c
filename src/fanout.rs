//! The fan-out a CI runs: every selected cell that some runner could build (this host's own
//! lacks are no reason to leave a cell out), each given the runner label and container image
//! `[ci]` maps it to, packed into no more CI jobs than the CI allows. A job runs its share with
//! `gridrun run MATRIX --cell a,b,…`; `gridrun merge` folds the shares back into one run.

use std::path::PathBuf;

use crate::plan::Plan;
use crate::toolchain::{keys, Availability};

/// The CI a fan-out is for, and its limit on jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ci {
    /// GitHub Actions: at most 256 jobs per matrix.
    Github,
    /// GitLab CI: at most 200 jobs per `parallel:matrix`.
    Gitlab,
}

impl Ci {
    /// The most jobs one matrix may have, as the CI documents it.
    pub fn limit(self) -> usize {
        match self {
            Self::Github => 256,
            Self::Gitlab => 200,
        }
    }

    /// The CI's name, for people.
    pub fn name(self) -> &'static str {
        match self {
            Self::Github => "GitHub Actions",
            Self::Gitlab => "GitLab CI",
        }
    }
}

/// One CI job: the cells it runs, where, in what image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    /// The project the cells are of.
    pub project: String,
    /// Its matrix file, as the command line named it.
    pub matrix: PathBuf,
    /// The runner label (`runs-on`; GitLab's tag), if any.
    pub runs_on: Option<String>,
    /// The container image, if any.
    pub image: Option<String>,
    /// The cells' slugs, in grid order.
    pub slugs: Vec<String>,
    /// The cell's values, where the share is one cell.
    pub cell: Option<serde_json::Value>,
}

impl Share {
    /// A name for the CI's job list: the slug of a single cell, else the first and the count.
    pub fn name(&self) -> String {
        match self.slugs.as_slice() {
            [one] => one.clone(),
            [first, ..] => format!("{first} +{}", self.slugs.len() - 1),
            [] => String::new(),
        }
    }
}

/// A fan-out: its shares, and what was left out or packed.
#[derive(Clone, Debug, Default)]
pub struct FanOut {
    /// The CI jobs, in grid order of their first cells.
    pub shares: Vec<Share>,
    /// How many cells the shares hold.
    pub cells: usize,
    /// Cells left out because no compiler could build them (unsupported), with why.
    pub unsupported: Vec<(String, String)>,
    /// The most jobs allowed, where cells had to be packed to stay under it.
    pub packed_under: Option<usize>,
}

impl FanOut {
    /// What the fan-out left out or packed, for stderr.
    pub fn notes(&self, ci: Ci) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.unsupported.is_empty() {
            let slugs: Vec<&str> = self.unsupported.iter().map(|(s, _)| s.as_str()).collect();
            notes.push(format!(
                "{} unsupported cells left out (no runner could build them): {}",
                slugs.len(),
                crate::text::ellipsize(&slugs.join(", "), 200)
            ));
        }
        if let Some(limit) = self.packed_under {
            let why = if limit < ci.limit() {
                format!("[ci] max_jobs is {limit}")
            } else {
                format!("{} allows {limit} per matrix", ci.name())
            };
            notes.push(format!("{} cells packed into {} jobs ({why})", self.cells, self.shares.len()));
        }
        notes
    }
}

/// Why a fan-out cannot be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FanOutError {
    /// More distinct runner/image/project groups than jobs allowed.
    #[error(
        "the cells need {groups} distinct runner, image and project combinations, but {ci} allows {limit} jobs \
         here; raise [ci] max_jobs or map the cells to fewer runners"
    )]
    TooManyGroups {
        /// How many groups.
        groups: usize,
        /// The CI.
        ci: &'static str,
        /// The limit.
        limit: usize,
    },
}

/// The fan-out of `plans` for `ci`: every selected cell not unsupported, grouped by project,
/// runner and image, packed into at most `[ci] max_jobs` (never over the CI's limit) jobs.
pub fn plan(plans: &[Plan], ci: Ci) -> Result<FanOut, FanOutError> {
    let mut limit = ci.limit();
    for plan in plans {
        if let Some(max) = plan.matrix.ci.max_jobs {
            limit = limit.min(usize::try_from(max).unwrap_or(usize::MAX));
        }
    }
    let mut fan = FanOut::default();
    // Groups in order of their first cell: (project, matrix, runs_on, image) → cells.
    let mut groups: Vec<(Share, Vec<serde_json::Value>)> = Vec::new();
    for plan in plans {
        let config = &plan.matrix.ci;
        for job in &plan.jobs {
            if let Availability::Unsupported(why) = &job.availability {
                fan.unsupported.push((job.slug.clone(), why.to_string()));
                continue;
            }
            let (runs_on, image) = config.runner_for(|key| job.cell.text(key));
            let runs_on = runs_on.map(str::to_string).or_else(|| default_label(ci, job.cell.text(keys::PLATFORM)));
            let image = image.filter(|i| !i.is_empty()).map(str::to_string);
            let key = (&plan.matrix.project.name, &plan.matrix.file.path, &runs_on, &image);
            let at = groups.iter().position(|(s, _)| (&s.project, &s.matrix, &s.runs_on, &s.image) == key);
            let at = at.unwrap_or_else(|| {
                groups.push((
                    Share {
                        project: plan.matrix.project.name.clone(),
                        matrix: plan.matrix.file.path.clone(),
                        runs_on: runs_on.clone(),
                        image: image.clone(),
                        slugs: Vec::new(),
                        cell: None,
                    },
                    Vec::new(),
                ));
                groups.len() - 1
            });
            groups[at].0.slugs.push(job.slug.clone());
            groups[at].1.push(job.cell.to_json());
            fan.cells += 1;
        }
    }
    if groups.len() > limit {
        return Err(FanOutError::TooManyGroups { groups: groups.len(), ci: ci.name(), limit });
    }
    if fan.cells <= limit {
        for (share, cells) in groups {
            for (slug, cell) in share.slugs.iter().zip(cells) {
                fan.shares.push(Share { slugs: vec![slug.clone()], cell: Some(cell), ..share.clone() });
            }
        }
        return Ok(fan);
    }
    fan.packed_under = Some(limit);
    let sizes: Vec<usize> = groups.iter().map(|(s, _)| s.slugs.len()).collect();
    for ((share, _), jobs) in groups.iter().zip(apportion(&sizes, limit)) {
        for part in split_evenly(&share.slugs, jobs) {
            let cell = None;
            fan.shares.push(Share { slugs: part.to_vec(), cell, ..share.clone() });
        }
    }
    Ok(fan)
}

/// The runner label a cell gets by its platform where `[ci]` names none: GitHub's hosted labels
/// for a platform (a platform that is a label already, `ubuntu-24.04`, as it is); GitLab's runners
/// are picked by tags a project chooses, so none.
fn default_label(ci: Ci, platform: Option<&str>) -> Option<String> {
    if ci == Ci::Gitlab {
        return None;
    }
    let platform = platform.unwrap_or("linux");
    let lower = platform.to_ascii_lowercase();
    if ["ubuntu-", "macos-", "windows-"].iter().any(|p| lower.starts_with(p)) {
        return Some(platform.to_string());
    }
    Some(
        match crate::toolchain::platform_os(platform) {
            "macos" => "macos-latest",
            "windows" => "windows-latest",
            _ => "ubuntu-latest",
        }
        .to_string(),
    )
}

/// `total` jobs shared among groups of `sizes` cells: each at least one, the rest in proportion
/// to size (largest remainders first), none more than its cells. `total` is at least the number
/// of groups and less than the cells.
fn apportion(sizes: &[usize], total: usize) -> Vec<usize> {
    let cells: usize = sizes.iter().sum();
    let spare = total - sizes.len();
    let mut jobs: Vec<usize> = sizes.iter().map(|&n| 1 + (n - 1) * spare / (cells - sizes.len()).max(1)).collect();
    let mut left = total.saturating_sub(jobs.iter().sum());
    // Largest remainders first; ties to the earlier group.
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((sizes[i] - 1) * spare % (cells - sizes.len()).max(1)));
    for i in order.into_iter().cycle().take(sizes.len() * 2) {
        if left == 0 {
            break;
        }
        if jobs[i] < sizes[i] {
            jobs[i] += 1;
            left -= 1;
        }
    }
    jobs
}

/// `items` cut into `parts` runs of consecutive items, sizes differing by at most one.
fn split_evenly<T>(items: &[T], parts: usize) -> Vec<&[T]> {
    let parts = parts.clamp(1, items.len().max(1));
    let (base, extra) = (items.len() / parts, items.len() % parts);
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for i in 0..parts {
        let len = base + usize::from(i < extra);
        out.push(&items[start..start + len]);
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_gives_every_group_a_job_and_spends_exactly_the_total() {
        for (sizes, total) in [
            (vec![300], 256),
            (vec![200, 100, 24], 256),
            (vec![1, 1, 1, 500], 10),
            (vec![3, 3, 3], 4),
            (vec![250, 250, 1], 200),
        ] {
            let jobs = apportion(&sizes, total);
            assert_eq!(jobs.iter().sum::<usize>(), total, "{sizes:?} → {jobs:?}");
            assert!(jobs.iter().zip(&sizes).all(|(&j, &n)| j >= 1 && j <= n), "{sizes:?} → {jobs:?}");
        }
        assert_eq!(apportion(&[200, 100], 30), [20, 10]);
    }

    #[test]
    fn split_evenly_keeps_order_and_sizes_within_one() {
        let items: Vec<u32> = (0..10).collect();
        let parts = split_evenly(&items, 4);
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [3, 3, 2, 2]);
        assert_eq!(parts.concat(), items);
        assert_eq!(split_evenly(&items, 20).len(), 10);
    }

    #[test]
    fn labels_come_from_the_platform_on_github_only() {
        assert_eq!(default_label(Ci::Github, Some("macos")).as_deref(), Some("macos-latest"));
        assert_eq!(default_label(Ci::Github, Some("ubuntu-22.04")).as_deref(), Some("ubuntu-22.04"));
        assert_eq!(default_label(Ci::Github, None).as_deref(), Some("ubuntu-latest"));
        assert_eq!(default_label(Ci::Gitlab, Some("macos")), None);
    }
}
