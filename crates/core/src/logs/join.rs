//! Joining access entries to the error-log lines of the same request, in one
//! streaming pass. Error entries are grouped into incidents (the lines one
//! request wrote); each incident is then given to the request it belongs to
//! among the access entries read around its time. Only a few seconds of access
//! entries and error lines are held at once, so memory stays flat however long
//! the logs are.
//!
//! nginx names the request in every error line, so its incidents go to the
//! access entry with the same request line and client, logged (at the end of
//! the request) just after the error. Apache's error lines name at most the
//! path and the client; an access entry is logged under the second the request
//! arrived. An Apache incident goes to the compatible request (its status must
//! fit: a connect failure without a balancer retry cannot end in a 200) logged
//! first among those that arrived in the two seconds before it, else to the
//! one that arrived last before it. With `%D` in the access log the request's
//! own time span bounds the match.

use std::collections::{HashMap, VecDeque};

use super::access::{AccessEntry, Origin};
use super::error_log::ErrorEntry;
use super::lines::LogKind;

/// How long after an error line its access entry may still be read. Access
/// logs are written in completion order, so a request that ended just after
/// the error appears a little later.
pub const SLACK_MS: i64 = 5_000;
/// The longest request an incident is matched to when the log gives no duration.
pub const MAX_REQUEST_MS: i64 = 120_000;
/// Kept examples of unmatched incidents and events.
const KEEP: usize = 200;

/// The lines one request wrote to an error log.
#[derive(Debug, Clone)]
pub struct Incident {
    /// First line's time, ms.
    pub time_ms: i64,
    /// Order of its first line among all error lines read.
    seq: u64,
    last_ms: i64,
    /// The lines.
    pub lines: Vec<ErrorEntry>,
}

impl Incident {
    fn kind(&self) -> LogKind {
        self.lines[0].kind
    }
    fn first<T>(&self, f: impl Fn(&ErrorEntry) -> Option<T>) -> Option<T> {
        self.lines.iter().find_map(f)
    }
    fn any(&self, needle: &str) -> bool {
        self.lines.iter().any(|l| l.message.contains(needle))
    }
}

/// Whether a line belongs to a request (else it is a server event).
fn is_request_line(e: &ErrorEntry) -> bool {
    match e.kind {
        LogKind::NginxError | LogKind::PhpFpm => e.request.is_some(),
        LogKind::ApacheError => {
            e.client.is_some()
                || ["AH00957", "AH00959", "AH02454", "AH02039", "AH00940"]
                    .iter()
                    .any(|c| e.message.contains(c))
        }
        _ => false,
    }
}

/// Whether an Apache incident can belong to a request that ended with this status.
fn apache_status_fits(i: &Incident, status: u16) -> bool {
    if i.any("AH01110") {
        return status < 400;
    }
    if i.any("Primary script unknown") {
        return (400..500).contains(&status);
    }
    if i.any("AH00959") {
        // A balancer member failed: another may have answered.
        return true;
    }
    status >= 500
}

/// An access entry waiting for its error lines.
struct Slot {
    entry: AccessEntry,
    lines: Vec<ErrorEntry>,
    /// The latest access time read when this entry was read.
    read_at: i64,
    /// Whether a server incident (nginx or Apache) was given to it.
    claimed: bool,
}

impl Slot {
    /// Until when an error line of this request can be written. Without a
    /// logged duration an Apache-style entry (logged under its arrival time)
    /// waits `hold_ms`.
    fn settles_at(&self, hold_ms: i64) -> i64 {
        let a = &self.entry;
        match (a.origin, a.duration_ms) {
            (Origin::Apache, Some(d)) => a.time_ms + 1_000 + d as i64 + 2_000,
            (Origin::Apache | Origin::Unknown, None) => a.time_ms.max(self.read_at) + hold_ms,
            _ => a.time_ms.max(self.read_at) + 2_000,
        }
    }
}

/// Groups error entries into incidents and gives them to access entries.
#[derive(Default)]
pub struct Joiner {
    open: HashMap<String, Incident>,
    ready: VecDeque<Incident>,
    slots: VecDeque<Slot>,
    read_to: i64,
    line_seq: u64,
    hold_ms: i64,
    /// Error-log incidents no access entry claimed.
    pub unmatched: Vec<Incident>,
    /// How many were unmatched in all (the list above is capped).
    pub unmatched_count: u64,
    /// Lines that are not part of a request (startup, health checks, pool warnings).
    pub events: Vec<ErrorEntry>,
    /// How many events in all (the list above is capped).
    pub events_count: u64,
}

/// How long an access entry without a logged duration waits for Apache error
/// lines, and how many entries may wait at most (memory bound).
const APACHE_HOLD_MS: i64 = 30_000;
/// How far the search for an incident's request reaches past the entries of its time.
const SCAN_BACK: usize = 64;
/// The most entries looked at for one Apache incident.
const MAX_SCAN: usize = 50_000;
const MAX_WAITING: usize = 500_000;

impl Joiner {
    /// A joiner; `apache` when Apache error logs are read (their lines can come
    /// long after the access entry's logged time).
    pub fn new(apache: bool) -> Self {
        Joiner {
            hold_ms: if apache { APACHE_HOLD_MS } else { 2_000 },
            ..Joiner::default()
        }
    }

    /// Adds one error entry (entries arrive in time order).
    pub fn push_error(&mut self, e: ErrorEntry) {
        if !is_request_line(&e) {
            self.events_count += 1;
            if self.events.len() < KEEP {
                self.events.push(e);
            }
            return;
        }
        let now = e.time_ms;
        let Some(key) = e.key.as_ref().map(|k| format!("{:?}{k}", e.kind)) else {
            self.line_seq += 1;
            self.close(Incident {
                time_ms: now,
                seq: self.line_seq,
                last_ms: now,
                lines: vec![e],
            });
            return;
        };
        let continues = self.open.get(&key).is_some_and(|inc| {
            let last = inc.lines.last().expect("incidents are never empty");
            match e.kind {
                LogKind::NginxError => {
                    now - inc.last_ms <= 5_000
                        && (e.request.is_none()
                            || last.request.is_none()
                            || e.request == last.request)
                }
                // One Apache thread serves one request at a time; its lines come together.
                LogKind::ApacheError => {
                    let port = inc.first(|l| l.client_port.clone());
                    now - inc.last_ms <= 250
                        && (e.client_port.is_none() || port.is_none() || e.client_port == port)
                }
                _ => false,
            }
        });
        if continues {
            let inc = self.open.get_mut(&key).expect("checked above");
            inc.last_ms = now;
            inc.lines.push(e);
        } else {
            self.line_seq += 1;
            let fresh = Incident {
                time_ms: now,
                seq: self.line_seq,
                last_ms: now,
                lines: vec![e],
            };
            if let Some(old) = self.open.insert(key, fresh) {
                self.close(old);
            }
        }
        if self.open.len() > 256 {
            self.close_quiet(now - 5_000);
        }
    }

    fn close_quiet(&mut self, before_ms: i64) {
        let done: Vec<String> = self
            .open
            .iter()
            .filter(|(_, i)| i.last_ms < before_ms)
            .map(|(k, _)| k.clone())
            .collect();
        for k in done {
            if let Some(i) = self.open.remove(&k) {
                self.close(i);
            }
        }
    }

    fn close(&mut self, inc: Incident) {
        let pos = self
            .ready
            .partition_point(|i| (i.time_ms, i.seq) <= (inc.time_ms, inc.seq));
        self.ready.insert(pos, inc);
    }

    /// Adds one access entry (entries arrive in log order).
    pub fn push_access(&mut self, entry: AccessEntry) {
        self.read_to = self.read_to.max(entry.time_ms);
        self.slots.push_back(Slot {
            entry,
            lines: Vec::new(),
            read_at: self.read_to,
            claimed: false,
        });
    }

    /// The latest access time read.
    pub fn read_to(&self) -> i64 {
        self.read_to
    }

    /// Slot positions to look at for an incident at `t`: from a little before
    /// the first entry logged at `from` onward (access logs are only roughly in
    /// time order, so the search starts early and ends after a run of later entries).
    fn around(&self, from: i64) -> usize {
        self.slots
            .partition_point(|s| s.entry.time_ms < from)
            .saturating_sub(SCAN_BACK)
    }

    /// The request an incident belongs to, among the buffered entries.
    fn owner(&self, inc: &Incident) -> Option<usize> {
        let t = inc.time_ms;
        match inc.kind() {
            LogKind::NginxError => {
                let req = inc.first(|l| l.request.clone())?;
                let client = inc.first(|l| l.client.clone());
                // nginx writes the access line when the request ends, after its errors:
                // the first one logged in the seconds after.
                let mut later = 0;
                for i in self.around(t)..self.slots.len() {
                    let sl = &self.slots[i];
                    let a = &sl.entry;
                    if a.time_ms > t + 2_999 {
                        later += 1;
                        if later > SCAN_BACK {
                            break;
                        }
                        continue;
                    }
                    if !sl.claimed
                        && a.time_ms >= t
                        && a.origin != Origin::Apache
                        && a.request == req
                        && client.as_ref().is_none_or(|c| *c == a.client)
                    {
                        return Some(i);
                    }
                }
                None
            }
            LogKind::PhpFpm => {
                // `GET /php/slow.php`: the request line without its protocol.
                let req = inc.first(|l| l.request.clone())?;
                let lo = self.around(t - MAX_REQUEST_MS - 1_000);
                (lo..self.slots.len()).find(|i| {
                    let sl = &self.slots[*i];
                    let a = &sl.entry;
                    let start = match a.origin {
                        Origin::Apache => a.time_ms,
                        _ => a.time_ms - a.duration_ms.map_or(MAX_REQUEST_MS, |d| d as i64),
                    };
                    a.request.starts_with(&req)
                        && a.request[req.len()..].starts_with(' ')
                        && sl.lines.iter().all(|l| l.kind != LogKind::PhpFpm)
                        && (start - 1_000..=sl.settles_at(self.hold_ms)).contains(&t)
                })
            }
            _ => {
                let client = inc.first(|l| l.client.clone());
                let path = inc.first(|l| l.path.clone());
                // Access logs are in completion order and an error is written just before
                // the request completes: among requests that arrived in the two seconds
                // before, the first logged; else the one that arrived last before it.
                let mut near: Option<usize> = None;
                let mut best: Option<(i64, usize)> = None;
                // With `%D` the request's span [arrival, arrival + duration] holds its errors.
                let mut timed: Option<(i64, usize)> = None;
                let hi = self.slots.partition_point(|s| s.entry.time_ms <= t + 50);
                let hi = (hi + SCAN_BACK).min(self.slots.len());
                let mut scanned = 0;
                for i in (0..hi).rev() {
                    let sl = &self.slots[i];
                    let a = &sl.entry;
                    scanned += 1;
                    if a.time_ms < t - MAX_REQUEST_MS - 1_000 || scanned > MAX_SCAN {
                        break;
                    }
                    let until =
                        a.time_ms + 1_000 + a.duration_ms.map_or(MAX_REQUEST_MS, |d| d as i64) + 50;
                    let fits = !sl.claimed
                        && a.origin != Origin::Nginx
                        && a.origin != Origin::Haproxy
                        && (a.time_ms - 50..=until).contains(&t)
                        && client.as_ref().is_none_or(|c| *c == a.client)
                        && path.as_ref().is_none_or(|p| {
                            a.target() == p || a.target().split('?').next() == Some(p.as_str())
                        })
                        && apache_status_fits(inc, a.status);
                    if !fits {
                        continue;
                    }
                    // Points to intervals: the one that closes first (earliest deadline)
                    // leaves the others free for later incidents.
                    if a.duration_ms.is_some()
                        && timed.is_none_or(|(h, ti)| until < h || (until == h && i < ti))
                    {
                        timed = Some((until, i));
                    }
                    if a.time_ms >= t - 2_000 {
                        near = Some(near.map_or(i, |n| n.min(i)));
                    }
                    if best.is_none_or(|(bt, bi)| a.time_ms > bt || (a.time_ms == bt && i < bi)) {
                        best = Some((a.time_ms, i));
                    }
                }
                if timed.is_some() {
                    return timed.map(|(_, i)| i);
                }
                if near.is_some() {
                    return near;
                }
                best.map(|(_, i)| i)
            }
        }
    }

    /// Gives every incident that can no longer gain an access entry to its owner.
    fn assign(&mut self, up_to: i64) {
        while self.ready.front().is_some_and(|i| i.time_ms <= up_to) {
            let inc = self.ready.pop_front().expect("checked");
            match self.owner(&inc) {
                Some(i) => {
                    let slot = &mut self.slots[i];
                    if matches!(inc.kind(), LogKind::NginxError | LogKind::ApacheError) {
                        slot.claimed = true;
                    }
                    slot.lines.extend(inc.lines);
                }
                None => {
                    self.unmatched_count += 1;
                    if self.unmatched.len() < KEEP {
                        self.unmatched.push(inc);
                    }
                }
            }
        }
    }

    /// Moves the join forward: error lines have been read up to `errors_to`;
    /// returns the access entries that are complete, with their error lines.
    pub fn advance(&mut self, errors_to: i64, done: bool) -> Vec<(AccessEntry, Vec<ErrorEntry>)> {
        let frontier = if done {
            i64::MAX
        } else {
            self.read_to.min(errors_to)
        };
        if done {
            self.close_quiet(i64::MAX);
        } else {
            self.close_quiet(errors_to.saturating_sub(1_000));
        }
        let up_to = frontier.saturating_sub(SLACK_MS);
        self.assign(up_to);
        let mut out = Vec::new();
        let hold = self.hold_ms;
        while self
            .slots
            .front()
            .is_some_and(|s| done || s.settles_at(hold) <= up_to || self.slots.len() > MAX_WAITING)
        {
            let slot = self.slots.pop_front().expect("checked");
            out.push((slot.entry, slot.lines));
        }
        out
    }
}
