//! [`RunStats`]: a run's jobs counted by status, which every summary reads — the run's closing
//! line, `status`, the reports — so they cannot disagree.

use std::collections::BTreeMap;

use super::words::JobStatus;

/// A run's jobs counted by status, and how many passed only on a retry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    counts: BTreeMap<JobStatus, u64>,
    /// Jobs that passed only on a retry (counted among the passed too).
    pub flaky: u64,
    /// Statuses this gridrun does not know (a newer one wrote the store), with their counts.
    pub unknown: Vec<(String, u64)>,
}

impl RunStats {
    /// Counts jobs given as `(status, flaky)`.
    pub fn of(jobs: impl IntoIterator<Item = (JobStatus, bool)>) -> Self {
        let mut stats = Self::default();
        for (status, flaky) in jobs {
            stats.add(status, 1);
            stats.flaky += u64::from(flaky && status == JobStatus::Passed);
        }
        stats
    }

    /// Adds `n` jobs of `status`.
    pub fn add(&mut self, status: JobStatus, n: u64) {
        *self.counts.entry(status).or_default() += n;
    }

    /// How many jobs have `status`.
    pub fn count(&self, status: JobStatus) -> u64 {
        self.counts.get(&status).copied().unwrap_or(0)
    }

    /// How many jobs failed, timed out or went over memory: what makes a run fail.
    pub fn failures(&self) -> u64 {
        JobStatus::ALL.iter().filter(|s| s.is_failure()).map(|s| self.count(*s)).sum()
    }

    /// How many jobs there are in all.
    pub fn total(&self) -> u64 {
        self.counts.values().sum::<u64>() + self.unknown.iter().map(|(_, n)| n).sum::<u64>()
    }

    /// The statuses present with their counts, in [`JobStatus::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (JobStatus, u64)> + '_ {
        JobStatus::ALL.iter().filter_map(|s| self.counts.get(s).map(|n| (*s, *n)))
    }

    /// `2 passed (1 flaky), 1 failed, 2 timed out, 1 unsupported`: passed and failed always,
    /// the rest where there are any, unknown statuses last.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for status in JobStatus::ALL {
            let n = self.count(*status);
            let always = matches!(status, JobStatus::Passed | JobStatus::Failed);
            if n == 0 && !always {
                continue;
            }
            match status {
                JobStatus::Passed if self.flaky > 0 => parts.push(format!("{n} passed ({} flaky)", self.flaky)),
                status => parts.push(format!("{n} {}", status.word())),
            }
        }
        parts.extend(self.unknown.iter().map(|(s, n)| format!("{n} {s}")));
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_passed_and_failed_always_and_others_when_present() {
        assert_eq!(RunStats::default().describe(), "0 passed, 0 failed");
        let mut stats = RunStats::of([
            (JobStatus::Cancelled, false),
            (JobStatus::Passed, false),
            (JobStatus::Passed, false),
            (JobStatus::Passed, false),
            (JobStatus::TimedOut, false),
            (JobStatus::TimedOut, false),
        ]);
        stats.unknown.push(("new_kind".into(), 1));
        assert_eq!(stats.describe(), "3 passed, 0 failed, 2 timed out, 1 cancelled, 1 new_kind");
        stats.flaky = 2;
        assert_eq!(stats.describe(), "3 passed (2 flaky), 0 failed, 2 timed out, 1 cancelled, 1 new_kind");
        assert_eq!(stats.failures(), 2);
        assert_eq!(stats.total(), 7);
    }
}
