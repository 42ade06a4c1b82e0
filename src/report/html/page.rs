//! The page: a summary, each open issue with its place and a link to its inbox file, the
//! charts, the escalations and acknowledgements. Self-contained: its Content-Security-Policy
//! allows nothing to load, and it holds no script.

use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};

use super::history::{AuditPoint, read_history};
use super::svg::{self, SEVERITY_COLOURS, escape};
use crate::ledger::{Entry, Ledger};
use crate::store::Layout;

/// What the page shows.
#[derive(Debug, Clone)]
pub struct PageInput {
    /// The repository's name (its folder).
    pub repository: String,
    /// When the page was made.
    pub generated: DateTime<Utc>,
    /// The audits, oldest first.
    pub points: Vec<AuditPoint>,
    /// The open issues' ledger entries, most severe first.
    pub open: Vec<Entry>,
    /// Issues that escalated (open ones).
    pub escalated: Vec<Entry>,
    /// Acknowledged issues: (entry, reason, when, from where).
    pub acknowledged: Vec<(Entry, String, String, String)>,
    /// The rules that fired most: (`check/rule`, issues raised).
    pub rules: Vec<(String, u32)>,
    /// The inbox folder as a link from the page's folder (`../../tasks/supervisor_feedback`).
    pub inbox_href: String,
}

impl PageInput {
    /// What the ledger and the reports hold, for a page written into `page_dir`.
    pub fn gather(layout: &Layout, ledger: &Ledger, page_dir: &Path) -> Self {
        let mut open: Vec<Entry> = ledger.active().into_iter().cloned().collect();
        open.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        let escalated = open.iter().filter(|e| e.escalations > 0).cloned().collect();
        let acknowledged = ledger
            .entries
            .iter()
            .filter(|e| e.life.is_open())
            .filter_map(|e| {
                let ack = e.ack.as_ref()?;
                Some((
                    e.clone(),
                    ack.reason.clone(),
                    ack.at.clone(),
                    ack.from.clone().unwrap_or_default(),
                ))
            })
            .collect();
        Self {
            repository: layout.repo_root.file_name().map_or_else(
                || layout.repo_root.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            generated: Utc::now(),
            points: read_history(layout),
            open,
            escalated,
            acknowledged,
            rules: ledger
                .top_rules(10)
                .into_iter()
                .map(|(rule, stats)| (rule.to_string(), stats.fired))
                .collect(),
            inbox_href: href(&relative(page_dir, &layout.inbox_dir)),
        }
    }
}

/// `to` relative to the folder `from` (both absolute), or `to` itself when they share nothing.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to_parts: Vec<Component> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return to.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to_parts[common..] {
        out.push(part);
    }
    out
}

/// A path as a link: each byte outside a path's unreserved characters percent-encoded.
fn href(path: &Path) -> String {
    let mut out = String::new();
    for &b in path.to_string_lossy().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#111827;padding:0 16px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}\
.meta{color:#6b7280}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}\
.card{border:1px solid #e5e7eb;border-radius:6px;padding:8px 14px;min-width:110px}.card b{display:block;font-size:20px}\
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:4px 8px;border-bottom:1px solid #f3f4f6;vertical-align:top}\
td:nth-child(-n+2),code{white-space:nowrap}.sev{font-weight:600;color:#fff;border-radius:4px;padding:1px 6px;font-size:12px}\
.chart{width:100%;max-width:640px;height:auto;display:block;margin:4px 0 12px}\
.axis{stroke:#9ca3af;stroke-width:1}.tick{font-size:10px;fill:#6b7280}.empty{color:#6b7280;font-style:italic}\
code{font:12px ui-monospace,monospace}";

/// A severity's badge.
fn badge(severity: crate::finding::Severity) -> String {
    let colour = SEVERITY_COLOURS[3 - severity as usize];
    format!(
        "<span class=\"sev\" style=\"background:{colour}\">{}</span>",
        severity.as_str()
    )
}

fn summary_cards(input: &PageInput) -> String {
    let mut s = String::from("<div class=\"cards\">");
    let last = input.points.last();
    let card = |label: &str, value: String| {
        format!(
            "<div class=\"card\"><b>{}</b>{}</div>",
            escape(&value),
            escape(label)
        )
    };
    s.push_str(&card("audits", input.points.len().to_string()));
    s.push_str(&card(
        "last verdict",
        last.map_or("none yet".into(), |p| p.status.clone()),
    ));
    for severity in crate::finding::Severity::RANKED {
        let n = input.open.iter().filter(|e| e.severity == severity).count();
        s.push_str(&card(&format!("open {}", severity.as_str()), n.to_string()));
    }
    if let Some(rate) = input.points.iter().rev().find_map(|p| p.pass_rate) {
        s.push_str(&card("tests passing", format!("{:.0}%", rate * 100.0)));
    }
    if let Some(c) = input.points.iter().rev().find_map(|p| p.coverage) {
        s.push_str(&card("coverage", format!("{c:.1}%")));
    }
    s.push_str("</div>");
    s
}

/// An issue's place: `file:line`, the file alone, or nothing.
fn place(e: &Entry) -> String {
    match (&e.file, e.line) {
        (Some(f), Some(l)) => format!("{f}:{l}"),
        (Some(f), None) => f.clone(),
        _ => String::new(),
    }
}

fn open_issues(input: &PageInput) -> String {
    if input.open.is_empty() {
        return "<p class=\"empty\">No open issues.</p>".into();
    }
    let mut s = String::from(
        "<table id=\"open-issues\"><tr><th>severity</th><th>ID</th><th>where</th><th>what</th><th>seen in</th><th>inbox</th></tr>",
    );
    for e in &input.open {
        // An issue without a file of its own (MEDIUM ones are batched into the day's digest)
        // is in INBOX.md; a LOW one is only logged.
        let file = e.inbox_file.clone().or_else(|| {
            (e.severity > crate::finding::Severity::Low).then(|| "INBOX.md".to_string())
        });
        let inbox = file.map_or(String::new(), |name| {
            format!(
                "<a href=\"{}/{}\">{}</a>",
                escape(&input.inbox_href),
                escape(&href(Path::new(&name))),
                escape(&name)
            )
        });
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{} commit{}</td><td>{inbox}</td></tr>",
            badge(e.severity),
            escape(&e.id),
            escape(&place(e)),
            escape(&e.title),
            e.seen_in,
            if e.seen_in == 1 { "" } else { "s" },
        ));
    }
    s.push_str("</table>");
    s
}

/// (index, value) of each audit that measured what `value` reads.
fn measured(
    points: &[AuditPoint],
    value: impl Fn(&AuditPoint) -> Option<f64>,
) -> Vec<(usize, f64)> {
    points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, value(p)?)))
        .collect()
}

/// A chart of one measure, or a line saying no audit measured it.
fn measure_chart(
    id: &str,
    title: &str,
    points: &[AuditPoint],
    values: &[(usize, f64)],
    unit: &str,
    max: Option<f64>,
) -> String {
    if values.is_empty() {
        return format!(
            "<h2>{}</h2><p class=\"empty\">No audit measured it yet.</p>",
            escape(title)
        );
    }
    let top = max.unwrap_or_else(|| values.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0));
    format!(
        "<h2>{}</h2>{}",
        escape(title),
        svg::series(id, title, points, values, top, unit)
    )
}

fn charts(input: &PageInput) -> String {
    let points = &input.points;
    if points.is_empty() {
        return "<p class=\"empty\">No audit yet.</p>".into();
    }
    let mut s = String::new();
    s.push_str("<h2>Verdicts</h2>");
    s.push_str(&svg::verdicts(points));
    s.push_str("<h2>Issues by severity</h2>");
    s.push_str(&svg::severities(points));
    let pass_rate = measured(points, |p| Some(p.pass_rate? * 100.0));
    s.push_str(&measure_chart(
        "pass-rate",
        "Test pass rate",
        points,
        &pass_rate,
        "%",
        Some(100.0),
    ));
    let duration = measured(points, |p| Some(p.test_ms? as f64 / 1000.0));
    s.push_str(&measure_chart(
        "test-duration",
        "Test duration",
        points,
        &duration,
        "s",
        None,
    ));
    let coverage = measured(points, |p| p.coverage);
    s.push_str(&measure_chart(
        "coverage",
        "Coverage",
        points,
        &coverage,
        "%",
        Some(100.0),
    ));
    s
}

fn escalations_and_acknowledgements(input: &PageInput) -> String {
    let mut s = String::from("<h2>Escalations</h2>");
    if input.escalated.is_empty() {
        s.push_str("<p class=\"empty\">None.</p>");
    } else {
        s.push_str(
            "<table id=\"escalations\"><tr><th>ID</th><th>from</th><th>to</th><th>what</th></tr>",
        );
        for e in &input.escalated {
            s.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&e.id),
                badge(e.original_severity),
                badge(e.severity),
                escape(&e.title)
            ));
        }
        s.push_str("</table>");
    }
    s.push_str("<h2>Acknowledgements</h2>");
    if input.acknowledged.is_empty() {
        s.push_str("<p class=\"empty\">None.</p>");
    } else {
        s.push_str("<table id=\"acknowledgements\"><tr><th>ID</th><th>severity</th><th>what</th><th>reason</th><th>when, from</th></tr>");
        for (e, reason, at, from) in &input.acknowledged {
            s.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}, {}</td></tr>",
                escape(&e.id),
                badge(e.severity),
                escape(&e.title),
                escape(reason),
                escape(at),
                escape(from)
            ));
        }
        s.push_str("</table>");
    }
    s
}

/// The page.
pub fn render(input: &PageInput) -> String {
    let rules = if input.rules.is_empty() {
        "<p class=\"empty\">No issue raised yet.</p>".to_string()
    } else {
        svg::rules(&input.rules)
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>auditor: {repo}</title><style>{STYLE}</style></head><body>\
<h1>auditor: {repo}</h1><div class=\"meta\">generated {generated}; {audits} audit{s} of the latest reports</div>\
{cards}<h2>Open issues</h2>{open}{charts}<h2>Most frequent rules</h2>{rules}{acks}</body></html>\n",
        repo = escape(&input.repository),
        generated = input.generated.format("%Y-%m-%d %H:%M UTC"),
        audits = input.points.len(),
        s = if input.points.len() == 1 { "" } else { "s" },
        cards = summary_cards(input),
        open = open_issues(input),
        charts = charts(input),
        acks = escalations_and_acknowledgements(input),
    )
}

/// Rewrites `logs/audit/index.html` from the ledger and the reports.
pub fn write_index(layout: &Layout) -> Result<PathBuf, crate::store::AtomicWriteError> {
    let path = layout.reports_dir.join("index.html");
    let ledger = crate::ledger::read_only(layout);
    let page = render(&PageInput::gather(layout, &ledger, &layout.reports_dir));
    crate::store::write_atomic(&path, page.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_run_from_the_page_to_the_inbox() {
        assert_eq!(
            relative(
                Path::new("/r/logs/audit"),
                Path::new("/r/tasks/supervisor_feedback")
            ),
            PathBuf::from("../../tasks/supervisor_feedback")
        );
        assert_eq!(
            relative(Path::new("/r/a"), Path::new("/r/a/b")),
            PathBuf::from("b")
        );
        assert_eq!(href(Path::new("../x y/ISSUE_1.md")), "../x%20y/ISSUE_1.md");
    }
}
