//! Prometheus metrics: counters and histograms kept in memory, written out in the text
//! exposition format (version 0.0.4) when `/metrics` is scraped.
//!
//! One [`Metrics`] lives in the shared context, so the HTTP layer, the authenticator, the OBM
//! service and an in-process networking worker all record into it. A worker run by
//! `hil-admin serve-networks` records into that process's own registry, which only that
//! process's `metrics.listen` address serves.
//!
//! Every label set is bounded: routes are the router's templates (never raw paths), methods
//! outside the standard set are `other`, reasons and outcomes are fixed words, and switch
//! labels are the operator's own switch names.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use crate::ops::Ctx;

/// The text exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Most switches listed in `hil_networking_queue_depth` (bounds a scrape's work).
pub const MAX_QUEUE_DEPTH_SWITCHES: i64 = 1000;

/// Request latencies: 1 ms to 30 s.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// BMC calls and switch sessions are slower: 10 ms to 5 min.
const SLOW_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Every metric the server keeps (the queue depth is read from the database at scrape time).
pub struct Metrics {
    pub http_requests: CounterVec,
    pub http_duration: HistogramVec,
    pub auth_failures: CounterVec,
    pub networking_actions: CounterVec,
    pub switch_sessions: HistogramVec,
    pub obm_calls: HistogramVec,
    pub audit_log_entries: CounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            http_requests: CounterVec::new(
                "hil_http_requests_total",
                "API requests answered, by method, route template and status code.",
                &["method", "route", "status"],
            ),
            http_duration: HistogramVec::new(
                "hil_http_request_duration_seconds",
                "Time to answer an API request, by method and route template.",
                &["method", "route"],
                HTTP_BUCKETS,
            ),
            auth_failures: CounterVec::new(
                "hil_auth_failures_total",
                "Failed authentications, by backend and reason.",
                &["backend", "reason"],
            ),
            networking_actions: CounterVec::new(
                "hil_networking_actions_total",
                "Networking actions the worker finished or deferred, by switch and outcome \
                 (done, error, retry).",
                &["switch", "outcome"],
            ),
            switch_sessions: HistogramVec::new(
                "hil_switch_session_seconds",
                "Time one batch of networking actions held a switch session, from taking it \
                 (opened or reused) to handing it back, by switch type.",
                &["switch_type"],
                SLOW_BUCKETS,
            ),
            obm_calls: HistogramVec::new(
                "hil_obm_call_duration_seconds",
                "Time of one BMC call, by OBM driver and call.",
                &["kind", "call"],
                SLOW_BUCKETS,
            ),
            audit_log_entries: CounterVec::new(
                "hil_audit_log_entries_total",
                "State-changing calls the audit log recorded (written) or could not record \
                 (lost: the call was answered, its entry is not in the log).",
                &["outcome"],
            ),
        }
    }

    /// The exposition text, with `queue_depth` (switch name, pending actions) as a gauge.
    pub fn render(&self, queue_depth: &[(String, i64)]) -> String {
        let mut out = String::new();
        self.http_requests.render(&mut out);
        self.http_duration.render(&mut out);
        self.auth_failures.render(&mut out);
        self.networking_actions.render(&mut out);
        out.push_str(
            "# HELP hil_networking_queue_depth PENDING networking actions per switch, read at \
             scrape time.\n# TYPE hil_networking_queue_depth gauge\n",
        );
        for (switch, depth) in queue_depth {
            let _ = writeln!(
                out,
                "hil_networking_queue_depth{{switch=\"{}\"}} {depth}",
                escape(switch)
            );
        }
        self.switch_sessions.render(&mut out);
        self.obm_calls.render(&mut out);
        self.audit_log_entries.render(&mut out);
        out
    }
}

/// A scrape: the in-memory metrics plus the queue depth per switch from the database. A
/// database that cannot be read leaves the gauge out (and is logged) rather than failing
/// the scrape.
pub async fn scrape(ctx: &Ctx) -> String {
    let depth = async {
        let mut tx = ctx.store.read().await?;
        let depth =
            crate::store::actions::pending_per_switch(&mut tx, MAX_QUEUE_DEPTH_SWITCHES).await?;
        Ok::<_, crate::error::ApiError>(depth)
    };
    let depth = match depth.await {
        Ok(depth) => depth,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the queue depth");
            Vec::new()
        }
    };
    ctx.metrics.render(&depth)
}

/// The bounded method label.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method as M;
    match *method {
        M::GET => "GET",
        M::PUT => "PUT",
        M::POST => "POST",
        M::DELETE => "DELETE",
        M::PATCH => "PATCH",
        M::HEAD => "HEAD",
        M::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A family of counters, one per label-value tuple.
pub struct CounterVec {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    values: Mutex<BTreeMap<Vec<String>, u64>>,
}

impl CounterVec {
    fn new(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        CounterVec {
            name,
            help,
            labels,
            values: Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds one to the counter of these label values (in the family's label order).
    pub fn inc(&self, values: &[&str]) {
        debug_assert_eq!(values.len(), self.labels.len());
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let mut all = self.values.lock().unwrap_or_else(|p| p.into_inner());
        *all.entry(key).or_insert(0) += 1;
    }

    /// The current value (0 when never counted).
    pub fn get(&self, values: &[&str]) -> u64 {
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let all = self.values.lock().unwrap_or_else(|p| p.into_inner());
        all.get(&key).copied().unwrap_or(0)
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} counter", self.name);
        let all = self.values.lock().unwrap_or_else(|p| p.into_inner());
        for (key, value) in all.iter() {
            let _ = writeln!(
                out,
                "{}{{{}}} {value}",
                self.name,
                label_pairs(self.labels, key, None)
            );
        }
    }
}

/// Cumulative bucket counts, sum and count of one histogram.
#[derive(Clone)]
struct Observed {
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

/// A family of histograms with fixed buckets, one per label-value tuple.
pub struct HistogramVec {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    bounds: &'static [f64],
    values: Mutex<BTreeMap<Vec<String>, Observed>>,
}

impl HistogramVec {
    fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        bounds: &'static [f64],
    ) -> Self {
        HistogramVec {
            name,
            help,
            labels,
            bounds,
            values: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn observe(&self, values: &[&str], took: Duration) {
        debug_assert_eq!(values.len(), self.labels.len());
        let seconds = took.as_secs_f64();
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let mut all = self.values.lock().unwrap_or_else(|p| p.into_inner());
        let o = all.entry(key).or_insert_with(|| Observed {
            buckets: vec![0; self.bounds.len()],
            sum: 0.0,
            count: 0,
        });
        for (bound, n) in self.bounds.iter().zip(o.buckets.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
        o.sum += seconds;
        o.count += 1;
    }

    /// How many observations these label values have (0 when none).
    pub fn count(&self, values: &[&str]) -> u64 {
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let all = self.values.lock().unwrap_or_else(|p| p.into_inner());
        all.get(&key).map_or(0, |o| o.count)
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} histogram", self.name);
        let all = self.values.lock().unwrap_or_else(|p| p.into_inner());
        for (key, o) in all.iter() {
            for (bound, n) in self.bounds.iter().zip(&o.buckets) {
                let le = format!("{bound}");
                let _ = writeln!(
                    out,
                    "{}_bucket{{{}}} {n}",
                    self.name,
                    label_pairs(self.labels, key, Some(&le))
                );
            }
            let pairs = label_pairs(self.labels, key, None);
            let _ = writeln!(
                out,
                "{}_bucket{{{}}} {}",
                self.name,
                label_pairs(self.labels, key, Some("+Inf")),
                o.count
            );
            let _ = writeln!(out, "{}_sum{{{pairs}}} {}", self.name, o.sum);
            let _ = writeln!(out, "{}_count{{{pairs}}} {}", self.name, o.count);
        }
    }
}

/// `a="x",b="y"` (and `le="..."` last, for a bucket).
fn label_pairs(names: &[&str], values: &[String], le: Option<&str>) -> String {
    let mut out = String::new();
    for (name, value) in names.iter().zip(values) {
        if !out.is_empty() {
            out.push(',');
        }
        let _ = write!(out, "{name}=\"{}\"", escape(value));
    }
    if let Some(le) = le {
        if !out.is_empty() {
            out.push(',');
        }
        let _ = write!(out, "le=\"{le}\"");
    }
    out
}

/// A label value as the exposition format quotes it: `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_in_the_text_format() {
        let m = Metrics::new();
        m.http_requests.inc(&["GET", "/v0/node/{node}", "200"]);
        m.http_requests.inc(&["GET", "/v0/node/{node}", "200"]);
        m.auth_failures.inc(&["database", "wrong\"pass\\word\n"]);
        m.obm_calls
            .observe(&["ipmi", "power_on"], Duration::from_millis(70));
        m.obm_calls
            .observe(&["ipmi", "power_on"], Duration::from_secs(400));
        let text = m.render(&[("sw0".into(), 3)]);
        assert!(text.contains(
            "hil_http_requests_total{method=\"GET\",route=\"/v0/node/{node}\",status=\"200\"} 2\n"
        ));
        assert!(text.contains(
            "hil_auth_failures_total{backend=\"database\",reason=\"wrong\\\"pass\\\\word\\n\"} 1\n"
        ));
        assert!(text.contains("hil_networking_queue_depth{switch=\"sw0\"} 3\n"));
        assert!(text.contains(
            "hil_obm_call_duration_seconds_bucket{kind=\"ipmi\",call=\"power_on\",le=\"0.05\"} 0\n"
        ));
        assert!(text.contains(
            "hil_obm_call_duration_seconds_bucket{kind=\"ipmi\",call=\"power_on\",le=\"0.1\"} 1\n"
        ));
        assert!(text.contains(
            "hil_obm_call_duration_seconds_bucket{kind=\"ipmi\",call=\"power_on\",le=\"300\"} 1\n"
        ));
        assert!(text.contains(
            "hil_obm_call_duration_seconds_bucket{kind=\"ipmi\",call=\"power_on\",le=\"+Inf\"} 2\n"
        ));
        assert!(text
            .contains("hil_obm_call_duration_seconds_count{kind=\"ipmi\",call=\"power_on\"} 2\n"));
        assert!(text.contains("# TYPE hil_switch_session_seconds histogram\n"));
        assert_eq!(m.obm_calls.count(&["ipmi", "power_on"]), 2);
        assert_eq!(m.http_requests.get(&["GET", "/v0/node/{node}", "200"]), 2);
    }
}
