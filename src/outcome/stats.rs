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
    /// Failures of jobs allowed to fail (counted among the failures too), which fail no run.
    pub allowed: u64,
    /// Statuses this gridrun does not know (a newer one wrote the store), with their counts.
    pub unknown: Vec<(String, u64)>,
}

impl RunStats {
    /// Counts jobs given as `(status, flaky, allowed to fail)`.
    pub fn of(jobs: impl IntoIterator<Item = (JobStatus, bool, bool)>) -> Self {
        let mut stats = Self::default();
        for (status, flaky, allowed) in jobs {
            stats.add(status, 1);
            stats.flaky += u64::from(flaky && status == JobStatus::Passed);
            stats.allowed += u64::from(allowed && status.is_failure());
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

    /// How many failures fail the run: those of jobs not allowed to fail.
    pub fn fatal(&self) -> u64 {
        self.failures().saturating_sub(self.allowed)
    }

    /// ` (2 allowed)` after the failure counts, where jobs allowed to fail failed.
    pub fn allowed_note(&self) -> String {
        if self.allowed > 0 {
            format!(" ({} allowed)", self.allowed)
        } else {
            String::new()
        }
    }

    /// How many jobs there are in all.
    pub fn total(&self) -> u64 {
        self.counts.values().sum::<u64>() + self.unknown.iter().map(|(_, n)| n).sum::<u64>()
    }

    /// The statuses present with their counts, in [`JobStatus::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (JobStatus, u64)> + '_ {
        JobStatus::ALL.iter().filter_map(|s| self.counts.get(s).map(|n| (*s, *n)))
    }

    /// `2 passed (1 flaky), 1 failed, 2 timed out (1 allowed), 1 unsupported`: passed and failed
    /// always, the rest where there are any, failures of jobs allowed to fail after the last
    /// failure count, unknown statuses last.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut last_failure = 0;
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
            if status.is_failure() {
                last_failure = parts.len() - 1;
            }
        }
        if self.allowed > 0 {
            parts[last_failure].push_str(&self.allowed_note());
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
            (JobStatus::Cancelled, false, true),
            (JobStatus::Passed, false, true),
            (JobStatus::Passed, false, false),
            (JobStatus::Passed, false, false),
            (JobStatus::TimedOut, false, false),
            (JobStatus::TimedOut, false, false),
        ]);
        stats.unknown.push(("new_kind".into(), 1));
        assert_eq!(stats.describe(), "3 passed, 0 failed, 2 timed out, 1 cancelled, 1 new_kind");
        stats.flaky = 2;
        assert_eq!(stats.describe(), "3 passed (2 flaky), 0 failed, 2 timed out, 1 cancelled, 1 new_kind");
        assert_eq!(stats.failures(), 2);
        assert_eq!(stats.fatal(), 2, "a pass or a cancel allowed to fail is no allowed failure");
        assert_eq!(stats.total(), 7);
    }

    #[test]
    fn allowed_failures_follow_the_last_failure_count_and_fail_nothing() {
        let stats = RunStats::of([
            (JobStatus::Passed, false, false),
            (JobStatus::Failed, false, true),
            (JobStatus::TimedOut, false, true),
            (JobStatus::Failed, false, false),
            (JobStatus::Unavailable, false, false),
        ]);
        assert_eq!(stats.describe(), "1 passed, 2 failed, 1 timed out (2 allowed), 1 unavailable");
        assert_eq!((stats.failures(), stats.fatal()), (3, 1));
    }
}
