//! Refused connections, logged without flooding the journal: the first refusal of a uid is
//! logged at once, the rest are counted and summarised at most once per uid per
//! [`INTERVAL`] ("refused N connections from uid U on the API socket in the last minute");
//! what is still counted at shutdown is logged then.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::admission::Refusal;

pub const INTERVAL: Duration = Duration::from_secs(60);

/// One listener's refusals. `uid` is `None` when the kernel could not say who connected.
pub struct RefusalLog {
    listener: &'static str,
    by_uid: Mutex<HashMap<Option<u32>, Window>>,
}

struct Window {
    start: Instant,
    /// Refusals since the last line.
    pending: u64,
    last: Refusal,
}

/// One line to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub uid: Option<u32>,
    pub count: u64,
    pub reason: Refusal,
    /// The first refusal of a quiet uid, rather than a summary.
    pub first: bool,
}

impl RefusalLog {
    pub fn new(listener: &'static str) -> RefusalLog {
        RefusalLog {
            listener,
            by_uid: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one refusal; logs what is due.
    pub fn refused(&self, uid: Option<u32>, reason: Refusal) {
        if let Some(line) = self.record(uid, reason, Instant::now()) {
            self.log(&line);
        }
    }

    /// Logs the summaries whose interval has passed (call it every few seconds).
    pub fn tick(&self) {
        for line in self.due(Instant::now(), false) {
            self.log(&line);
        }
    }

    /// Logs every count still held (at shutdown).
    pub fn flush(&self) {
        for line in self.due(Instant::now(), true) {
            self.log(&line);
        }
    }

    fn log(&self, l: &Line) {
        let uid = l
            .uid
            .map_or_else(|| "unknown".to_string(), |u| u.to_string());
        if l.first {
            tracing::warn!(listener = self.listener, uid = %uid, count = l.count, reason = %l.reason,
                "refused a connection from uid {uid} on the {}: {}; more from this uid are summarised once a minute",
                self.listener, l.reason);
        } else {
            tracing::warn!(listener = self.listener, uid = %uid, count = l.count, reason = %l.reason,
                "refused {} connections from uid {uid} on the {} in the last minute (last: {})",
                l.count, self.listener, l.reason);
        }
    }

    /// The line this refusal makes, if any.
    fn record(&self, uid: Option<u32>, reason: Refusal, now: Instant) -> Option<Line> {
        let mut map = self.by_uid.lock().unwrap_or_else(|e| e.into_inner());
        let Some(w) = map.get_mut(&uid) else {
            map.insert(
                uid,
                Window {
                    start: now,
                    pending: 0,
                    last: reason,
                },
            );
            return Some(Line {
                uid,
                count: 1,
                reason,
                first: true,
            });
        };
        w.pending += 1;
        w.last = reason;
        if now.duration_since(w.start) < INTERVAL {
            return None;
        }
        let line = summary(uid, w);
        w.start = now;
        w.pending = 0;
        Some(line)
    }

    /// Summaries due at `now` (all of them with `all`); a uid quiet for a whole interval is
    /// forgotten, so that its next refusal is logged at once.
    fn due(&self, now: Instant, all: bool) -> Vec<Line> {
        let mut map = self.by_uid.lock().unwrap_or_else(|e| e.into_inner());
        let mut lines = Vec::new();
        map.retain(|uid, w| {
            if !all && now.duration_since(w.start) < INTERVAL {
                return true;
            }
            if w.pending == 0 {
                return false;
            }
            lines.push(summary(*uid, w));
            w.start = now;
            w.pending = 0;
            true
        });
        lines
    }
}

fn summary(uid: Option<u32>, w: &Window) -> Line {
    Line {
        uid,
        count: w.pending,
        reason: w.last,
        first: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives the log as a flood would: `n` refusals of one uid spread over `span`.
    fn flood(log: &RefusalLog, start: Instant, n: u64, span: Duration) -> Vec<Line> {
        let mut lines = Vec::new();
        for i in 0..n {
            let now = start + span.mul_f64(i as f64 / n as f64);
            lines.extend(log.record(Some(1000), Refusal::PerUid, now));
            if i % 1000 == 0 {
                lines.extend(log.due(now, false));
            }
        }
        lines
    }

    #[test]
    fn a_flood_makes_one_line_per_interval_and_the_counts_add_up() {
        let log = RefusalLog::new("API socket");
        let start = Instant::now();
        let n = 392_855;
        let mut lines = flood(&log, start, n, Duration::from_secs(40));
        assert_eq!(lines.len(), 1, "40 s of flood: the first line only so far");
        lines.extend(log.due(start + Duration::from_secs(61), false));
        assert_eq!(lines.len(), 2, "then one summary: {lines:?}");
        assert!(lines[0].first && !lines[1].first);
        assert_eq!(lines.iter().map(|l| l.count).sum::<u64>(), n);
        assert!(log.due(start + Duration::from_secs(200), true).is_empty());
    }

    #[test]
    fn a_long_flood_is_summarised_once_a_minute() {
        let log = RefusalLog::new("HTTPS listener");
        let start = Instant::now();
        let n = 100_000;
        let mut lines = flood(&log, start, n, Duration::from_secs(600));
        lines.extend(log.due(start + Duration::from_secs(600), true));
        assert!(
            (10..=12).contains(&lines.len()),
            "10 minutes: about ten lines, not {}",
            lines.len()
        );
        assert_eq!(lines.iter().map(|l| l.count).sum::<u64>(), n);
    }

    #[test]
    fn each_uid_is_counted_apart_and_a_quiet_one_is_logged_at_once_again() {
        let log = RefusalLog::new("API socket");
        let t = Instant::now();
        assert!(log.record(Some(1), Refusal::NoRole, t).unwrap().first);
        assert!(log.record(Some(2), Refusal::NoRole, t).unwrap().first);
        assert!(log.record(None, Refusal::Unknown, t).unwrap().first);
        assert_eq!(log.record(Some(1), Refusal::NoRole, t), None);
        let later = t + INTERVAL;
        let lines = log.due(later, false);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!((lines[0].uid, lines[0].count), (Some(1), 1));
        // uid 2 was quiet for the interval: forgotten, so its next refusal shows at once.
        assert!(log.record(Some(2), Refusal::NoRole, later).unwrap().first);
        assert!(log.due(later + INTERVAL * 2, false).is_empty());
    }
}
