//! The log report as text, Markdown and CSV (JSON is its serde form).

use std::fmt::Write as _;

use super::report::{LogProblem, LogReport};

fn explain(cause: &str) -> (&'static str, &'static str) {
    crate::diagnose::explain(cause).unwrap_or(("client error", ""))
}

fn sorted(map: &std::collections::BTreeMap<String, u64>) -> Vec<(&String, &u64)> {
    let mut rows: Vec<(&String, &u64)> = map.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    rows
}

fn also(p: &LogProblem) -> String {
    if p.also_possible.is_empty() {
        String::new()
    } else {
        format!(" (or {}: the log cannot tell)", p.also_possible.join(", "))
    }
}

impl LogReport {
    /// Renders for a terminal.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let files: Vec<String> = self
            .files
            .iter()
            .map(|(f, k)| {
                format!(
                    "{f} ({})",
                    serde_json::to_string(k)
                        .unwrap_or_default()
                        .trim_matches('"')
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "{} requests in {} ({} lines not understood)",
            self.requests,
            files.join(", "),
            self.unparsed
        );
        if let Some((a, b)) = &self.span {
            let _ = writeln!(s, "from {a} to {b}");
        }
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(s, "by status: {}", statuses.join(", "));
        if !self.by_cause.is_empty() {
            let _ = writeln!(s, "\nFailing requests by cause");
            for (cause, n) in &self.by_cause {
                let (article, fix) = explain(cause);
                let _ = writeln!(s, "  {n:>6}  {cause} ({article})");
                if !fix.is_empty() {
                    let _ = writeln!(s, "          fix: {fix}");
                }
                let ex: Vec<&LogProblem> = self
                    .problems
                    .iter()
                    .filter(|p| p.cause == *cause)
                    .take(3)
                    .collect();
                for p in ex {
                    let _ = writeln!(
                        s,
                        "          e.g. {} {} {}{}",
                        p.time,
                        p.status,
                        p.request,
                        also(p)
                    );
                    for l in p.error_lines.iter().take(3) {
                        let line: String = l.chars().take(160).collect();
                        let _ = writeln!(s, "               | {line}");
                    }
                }
            }
        }
        for (title, map) in [
            ("5xx by URL", &self.by_url),
            ("4xx by URL", &self.client_errors_by_url),
            ("5xx by upstream", &self.by_upstream),
        ] {
            if map.is_empty() {
                continue;
            }
            let _ = writeln!(s, "\n{title}");
            for (k, v) in sorted(map).into_iter().take(20) {
                let _ = writeln!(s, "  {v:>6}  {k}");
            }
            if map.len() > 20 {
                let _ = writeln!(s, "  … {} more (JSON and CSV have all)", map.len() - 20);
            }
        }
        let busy: Vec<_> = self
            .by_minute
            .iter()
            .filter(|(_, m)| m.server_errors > 0)
            .collect();
        if !busy.is_empty() {
            let _ = writeln!(s, "\n5xx per minute");
            for (k, m) in busy.iter().take(30) {
                let spike = if self.spikes.iter().any(|x| &x.minute == *k) {
                    "  ← spike"
                } else {
                    ""
                };
                let _ = writeln!(
                    s,
                    "  {k}  {:>6} of {:>6}{spike}",
                    m.server_errors, m.requests
                );
            }
            if busy.len() > 30 {
                let _ = writeln!(s, "  … {} more minutes", busy.len() - 30);
            }
        }
        if !self.crawler_problems.is_empty() {
            let _ = writeln!(
                s,
                "\nSearch-engine crawlers that hit errors (claimed by user agent, unverified)"
            );
            for p in self.crawler_problems.iter().take(50) {
                let _ = writeln!(
                    s,
                    "  {} {} {} {} ({})",
                    p.time,
                    p.crawler.unwrap_or(""),
                    p.status,
                    p.request,
                    p.cause
                );
            }
        }
        if self.unmatched_error_count > 0 {
            let _ = writeln!(
                s,
                "\n{} error-log incidents with no request in the access logs",
                self.unmatched_error_count
            );
            for lines in self.unmatched_errors.iter().take(5) {
                if let Some(l) = lines.first() {
                    let line: String = l.chars().take(160).collect();
                    let _ = writeln!(s, "  | {line}");
                }
            }
        }
        if self.event_count > 0 {
            let _ = writeln!(
                s,
                "\n{} server events (health checks, pool warnings, startup)",
                self.event_count
            );
            for e in self
                .events
                .iter()
                .filter(|e| !e.level.contains("notice"))
                .take(10)
            {
                let _ = writeln!(s, "  {} {}", e.time.as_deref().unwrap_or("-"), e.message);
            }
        }
        if let Some(c) = &self.crawl {
            s.push_str(&c.text());
        }
        s
    }

    /// A summary for a pull-request comment.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let fails: u64 = self.by_cause.values().sum();
        let _ = writeln!(
            s,
            "## Server logs: {} requests, {} failing\n",
            self.requests, fails
        );
        if let Some((a, b)) = &self.span {
            let _ = writeln!(s, "{a} → {b}\n");
        }
        if !self.by_cause.is_empty() {
            let _ = writeln!(
                s,
                "| cause | requests | in everyday words | fix |\n|---|---:|---|---|"
            );
            for (cause, n) in &self.by_cause {
                let (article, fix) = explain(cause);
                let _ = writeln!(
                    s,
                    "| `{cause}` | {n} | {article} | {} |",
                    fix.replace('|', "\\|")
                );
            }
        }
        if !self.by_url.is_empty() {
            let _ = writeln!(s, "\n### 5xx by URL\n\n| URL | 5xx |\n|---|---:|");
            for (k, v) in sorted(&self.by_url).into_iter().take(20) {
                let _ = writeln!(s, "| `{}` | {v} |", k.replace('|', "\\|"));
            }
        }
        if !self.spikes.is_empty() {
            let _ = writeln!(s, "\n### Spikes\n");
            for x in &self.spikes {
                let _ = writeln!(
                    s,
                    "- {}: {} 5xx (threshold {})",
                    x.minute, x.count, x.threshold
                );
            }
        }
        if !self.crawler_problems.is_empty() {
            let _ = writeln!(
                s,
                "\n{} failing requests from search-engine crawlers (claimed by user agent, unverified).",
                self.crawler_problems.len()
            );
        }
        if let Some(c) = &self.crawl {
            let _ = writeln!(
                s,
                "\n### Crawl {}\n\n{} failing URLs explained by the logs, {} not in the logs, {} log errors the crawl never saw.",
                c.crawl,
                c.explained.len(),
                c.not_in_logs.len(),
                c.unseen_by_crawl.len()
            );
        }
        s
    }

    /// The failing requests as CSV (one row each, the examples kept).
    pub fn write_csv(&self, out: &mut dyn std::io::Write) -> Result<(), csv::Error> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "time",
            "client",
            "request",
            "status",
            "cause",
            "also_possible",
            "article_cause",
            "upstream",
            "termination",
            "crawler",
            "error_lines",
        ])?;
        for p in &self.problems {
            w.write_record([
                p.time.as_str(),
                &p.client,
                &p.request,
                &p.status,
                p.cause,
                &p.also_possible.join(" "),
                p.article_cause,
                p.upstream.as_deref().unwrap_or(""),
                p.termination.as_deref().unwrap_or(""),
                p.crawler.unwrap_or(""),
                &p.error_lines.join("\n"),
            ])?;
        }
        w.flush()?;
        Ok(())
    }
}
