//! The HTML report: one self-contained page (inline CSS, JS and SVG; nothing
//! fetched when opened). Charts are drawn server-side as SVG; the URL table
//! is rendered by a small script from an embedded JSON array, drawing only
//! the rows in view so it stays responsive at 100,000 URLs and more.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use quick_xml::escape::escape;
use serde_json::json;

use super::svg::{self, Bar};
use super::{CrawlReport, FindingRow, ReportError, status_class};
use crate::model::{FailureKind, Severity};
use crate::store::UrlScope;

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    escape(s)
}

fn class_color(class: &str) -> &'static str {
    match class {
        "2xx" => "#2e7d32",
        "3xx" => "#1565c0",
        "4xx" => "#ef6c00",
        "5xx" => "#c62828",
        "blocked" => "#757575",
        _ => "#6a1b9a",
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Error => "#c62828",
        Severity::Warning => "#ef6c00",
        Severity::Notice => "#1565c0",
    }
}

/// The row class of a URL in the table and charts.
fn row_class(status: Option<u16>, failure: Option<&FailureKind>) -> String {
    match (failure, status) {
        (Some(FailureKind::BlockedByRobots), _) => "blocked".into(),
        (Some(f), None) if f.is_error() => "failed".into(),
        (_, Some(s)) => status_class(s),
        _ => "pending".into(),
    }
}

/// Response-time buckets (upper bounds in ms) for the histogram.
const TIME_BUCKETS: &[(f64, &str)] = &[
    (50.0, "< 50 ms"),
    (100.0, "50–100 ms"),
    (200.0, "100–200 ms"),
    (500.0, "200–500 ms"),
    (1000.0, "0.5–1 s"),
    (2000.0, "1–2 s"),
    (5000.0, "2–5 s"),
    (f64::INFINITY, "≥ 5 s"),
];

fn charts(r: &CrawlReport, html: &mut String) {
    let s = &r.summary;
    let by_class: Vec<Bar<'_>> = s
        .by_class
        .iter()
        .map(|(k, v)| (k.clone(), *v, class_color(k)))
        .collect();
    let by_code: Vec<Bar<'_>> = s
        .by_status
        .iter()
        .map(|(k, v)| {
            let label = format!("{k} {}", super::http_reason(*k));
            (label, *v, class_color(&status_class(*k)))
        })
        .chain(
            s.by_failure
                .iter()
                .map(|(k, v)| (k.clone(), *v, class_color("failed"))),
        )
        .collect();
    let mut times = vec![0u64; TIME_BUCKETS.len()];
    let mut depths: BTreeMap<u32, u64> = BTreeMap::new();
    for u in &r.urls {
        if let Some(t) = u.record.total_ms.get().or(u.record.ttfb_ms.get())
            && let Some(i) = TIME_BUCKETS.iter().position(|(max, _)| t < *max)
        {
            times[i] += 1;
        }
        if u.record.scope == UrlScope::Internal && u.record.state == "done" {
            *depths.entry(u.record.depth).or_default() += 1;
        }
    }
    let times: Vec<Bar<'_>> = TIME_BUCKETS
        .iter()
        .zip(times)
        .map(|((_, label), n)| ((*label).to_string(), n, "#00838f"))
        .collect();
    let depths: Vec<Bar<'_>> = depths
        .into_iter()
        .map(|(d, n)| (format!("depth {d}"), n, "#5e35b1"))
        .collect();
    html.push_str(r#"<section id="charts"><h2>Overview</h2><div class="grid">"#);
    for (title, chart) in [
        ("Status by class", svg::bars("Status by class", &by_class)),
        (
            "Status codes and failures",
            svg::bars("Status codes and failures", &by_code),
        ),
        (
            "Response time (total)",
            svg::bars("Response time histogram", &times),
        ),
        (
            "Crawl depth (internal URLs)",
            svg::bars("Crawl depth distribution", &depths),
        ),
    ] {
        let _ = write!(
            html,
            r#"<figure><figcaption>{title}</figcaption>{chart}</figure>"#
        );
    }
    if let Some(a) = &r.audit {
        let mut rows: BTreeMap<u8, [u64; 3]> = BTreeMap::new();
        for f in &a.findings {
            let slot = match f.severity {
                Severity::Error => 0,
                Severity::Warning => 1,
                Severity::Notice => 2,
            };
            rows.entry(f.category).or_default()[slot] += 1;
        }
        let rows: Vec<svg::Stack<'_>> = rows
            .into_iter()
            .map(|(c, [e, w, n])| {
                (
                    format!("{c:02} {}", crate::checks::category_name(c)),
                    vec![
                        (e, severity_color(Severity::Error), "errors"),
                        (w, severity_color(Severity::Warning), "warnings"),
                        (n, severity_color(Severity::Notice), "notices"),
                    ],
                )
            })
            .collect();
        let _ = write!(
            html,
            r#"<figure class="wide"><figcaption>Findings by category and severity</figcaption>{}</figure>"#,
            svg::stacked("Findings by category and severity", &rows)
        );
    }
    html.push_str("</div></section>");
}

fn score(r: &CrawlReport, html: &mut String) {
    let Some(a) = &r.audit else {
        html.push_str(r#"<section id="score"><p>The audit was not run (<code>--no-audit</code>).</p></section>"#);
        return;
    };
    let sev = |k: &str| a.by_severity.get(k).copied().unwrap_or(0);
    let _ = write!(
        html,
        r#"<section id="score"><div class="score s{band}"><span>{s}</span><small>health score</small></div><ul class="counts"><li class="error">{e} errors</li><li class="warning">{w} warnings</li><li class="notice">{n} notices</li></ul><table class="categories"><thead><tr><th>category</th><th>score</th><th>findings</th></tr></thead><tbody>"#,
        s = a.score.score,
        band = a.score.score / 25,
        e = sev("error"),
        w = sev("warning"),
        n = sev("notice"),
    );
    for c in &a.score.categories {
        let counts: Vec<String> = c.findings.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let _ = write!(
            html,
            r#"<tr><td>{:02} {}</td><td><meter min="0" max="100" low="50" high="80" optimum="100" value="{s}"></meter> {s}</td><td>{}</td></tr>"#,
            c.category,
            esc(c.name),
            counts.join(", "),
            s = c.score,
        );
    }
    html.push_str("</tbody></table></section>");
}

fn failing(r: &CrawlReport, html: &mut String) {
    let _ = write!(
        html,
        r#"<section id="failing"><h2>Broken URLs ({})</h2>"#,
        r.problems.len()
    );
    if r.problems.is_empty() {
        html.push_str("<p>None.</p></section>");
        return;
    }
    html.push_str(r#"<table class="problems"><thead><tr><th>URL</th><th>problem</th><th>tries</th><th>redirect hops</th><th>linked from</th></tr></thead><tbody>"#);
    for p in &r.problems {
        let tries = if p.attempts.len() > 1 {
            let labels: Vec<String> = p.attempts.iter().map(|a| a.label()).collect();
            esc(&labels.join(", ")).into_owned()
        } else {
            "1".into()
        };
        let hops: Vec<String> = p
            .redirect_chain
            .iter()
            .map(|h| {
                format!(
                    "{} {}",
                    h.status.map_or("—".into(), |s| s.to_string()),
                    esc(&h.url)
                )
            })
            .collect();
        let from: Vec<String> = p
            .linked_from
            .iter()
            .map(|l| {
                format!(
                    r#"<a href="{u}">{u}</a> <small>{k}{t}</small>"#,
                    u = esc(&l.url),
                    k = l.kind,
                    t = l
                        .text
                        .as_deref()
                        .map(|t| format!(" “{}”", esc(t)))
                        .unwrap_or_default()
                )
            })
            .collect();
        let _ = write!(
            html,
            r#"<tr class="{cls}"><td><a href="{u}">{u}</a> <small>{scope}</small></td><td><code>{key}</code> {d}</td><td>{tries}</td><td>{hops}</td><td>{from}</td></tr>"#,
            cls = row_class(p.status, p.failure.as_ref()),
            u = esc(&p.url),
            scope = if p.scope == UrlScope::Internal {
                "internal"
            } else {
                "external"
            },
            key = esc(&p.problem),
            d = match &p.diagnosis {
                Some(dg) => format!(
                    "{}<br><small>probable cause: <b>{}</b> ({}, {} confidence) — {}</small>",
                    esc(&p.description),
                    dg.cause,
                    dg.article_cause,
                    dg.confidence,
                    esc(dg.fix)
                ),
                None => esc(&p.description).into_owned(),
            },
            hops = hops.join("<br>→ "),
            from = from.join("<br>"),
        );
    }
    html.push_str("</tbody></table></section>");
}

fn findings(r: &CrawlReport, html: &mut String) {
    let Some(a) = &r.audit else {
        return;
    };
    let mut by_check: Vec<(&str, Vec<&FindingRow>)> = Vec::new();
    for f in &a.findings {
        match by_check.last_mut() {
            Some((id, list)) if *id == f.check => list.push(f),
            _ => by_check.push((f.check, vec![f])),
        }
    }
    let _ = write!(
        html,
        r#"<section id="findings"><h2>Findings by check ({} checks, {} findings)</h2>"#,
        by_check.len(),
        a.findings.len()
    );
    for (id, list) in &by_check {
        let first = list[0];
        let info = crate::checks::info(id);
        let _ = write!(
            html,
            r#"<details class="check {sev}"><summary><span class="badge {sev}">{sev}</span> <code>{id}</code> {title} <b>{n}</b></summary><p>{why}</p><p><b>Fix:</b> {fix}</p><ul>"#,
            sev = first.severity.id(),
            title = esc(first.title),
            n = list.len(),
            why = esc(info.map_or("", |i| i.why)),
            fix = esc(first.fix),
        );
        for f in list {
            let details = serde_json::to_string(&f.details).unwrap_or_default();
            let _ = write!(
                html,
                r#"<li>{url} <code class="evidence">{d}</code></li>"#,
                url = f.url.as_deref().map_or_else(
                    || "<i>site-wide</i>".to_string(),
                    |u| format!(r#"<a href="{u}">{u}</a>"#, u = esc(u))
                ),
                d = esc(&details),
            );
        }
        html.push_str("</ul></details>");
    }
    html.push_str("</section>");
}

/// The URL table's rows as compact arrays: the script's column order.
fn url_rows(r: &CrawlReport) -> String {
    let mut findings: BTreeMap<&str, u32> = BTreeMap::new();
    for f in r.audit.iter().flat_map(|a| &a.findings) {
        if let Some(u) = &f.url {
            *findings.entry(u.as_str()).or_default() += 1;
        }
    }
    let rows: Vec<serde_json::Value> = r
        .urls
        .iter()
        .map(|u| {
            let rec = &u.record;
            json!([
                rec.url,
                rec.status,
                row_class(rec.status, rec.failure()),
                rec.failure().map(FailureKind::id),
                if rec.scope == UrlScope::Internal {
                    "internal"
                } else {
                    "external"
                },
                rec.depth,
                rec.ttfb_ms.get().map(|t| (t * 10.0).round() / 10.0),
                rec.body_bytes,
                u.inlinks,
                findings.get(rec.url.as_str()).copied().unwrap_or(0),
                rec.content_type
                    .as_deref()
                    .map(|c| c.split(';').next().unwrap_or(c).trim()),
            ])
        })
        .collect();
    // `</` cannot end the script element early once escaped.
    serde_json::to_string(&rows)
        .unwrap_or_else(|_| "[]".into())
        .replace("</", "<\\/")
}

pub(super) fn render(r: &CrawlReport, out: &mut dyn Write) -> Result<(), ReportError> {
    let mut html = String::with_capacity(64 * 1024 + r.urls.len() * 160);
    let title = format!("siteaudit: {}", r.crawl.start_url);
    let _ = write!(
        html,
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{t}</title><style>{CSS}</style></head><body><header><h1>{t}</h1><p>Crawl #{id} · {state} · started {started}{finished} · {tool}</p><nav><a href="#score">Score</a> <a href="#charts">Overview</a> <a href="#failing">Broken URLs</a> <a href="#findings">Findings</a> <a href="#urls">All URLs</a></nav></header><main><div id="js-errors" hidden></div>"##,
        t = esc(&title),
        id = r.crawl.id,
        state = esc(&r.crawl.state),
        started = esc(&r.crawl.started_at),
        finished = r
            .crawl
            .finished_at
            .as_deref()
            .map(|f| format!(", finished {}", esc(f)))
            .unwrap_or_default(),
        tool = esc(&r.tool),
    );
    score(r, &mut html);
    charts(r, &mut html);
    failing(r, &mut html);
    findings(r, &mut html);
    let _ = write!(
        html,
        r#"<section id="urls"><h2>All URLs ({n})</h2><div class="filters"><input id="q" type="search" placeholder="filter URLs (substring)" aria-label="filter URLs"> <select id="cls" aria-label="status class"><option value="">all classes</option><option>2xx</option><option>3xx</option><option>4xx</option><option>5xx</option><option>failed</option><option>blocked</option><option>pending</option></select> <select id="scope" aria-label="scope"><option value="">internal and external</option><option>internal</option><option>external</option></select> <span id="shown"></span></div><div id="table" class="vtable" tabindex="0"><div class="vhead"></div><div class="vbody"><div class="vspacer"></div></div></div><noscript><p>The URL table needs JavaScript; the JSON and CSV reports hold the same data.</p></noscript></section></main><script type="application/json" id="url-data">{rows}</script><script>{JS}</script></body></html>"#,
        n = r.urls.len(),
        rows = url_rows(r),
    );
    html.push('\n');
    out.write_all(html.as_bytes())?;
    Ok(())
}
