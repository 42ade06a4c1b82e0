//! The page's charts as inline SVG: one frame (axes, first and last date, the y range), and
//! marks placed by time.

use chrono::{DateTime, Utc};

use super::history::AuditPoint;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 170.0;
const LEFT: f64 = 46.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;
/// Between the axes and the first and last marks.
const PAD: f64 = 14.0;

/// The colours of CRITICAL, HIGH, MEDIUM and LOW.
pub const SEVERITY_COLOURS: [&str; 4] = ["#b91c1c", "#ea580c", "#ca8a04", "#6b7280"];

/// Text for HTML and SVG: `&`, `<`, `>`, quotes escaped; control characters dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Where each of `n` audits sits on the x axis: in their order, evenly spaced (agents commit
/// in bursts: by time, a burst's audits would sit on one another), the middle for one.
fn xs(n: usize) -> Vec<f64> {
    (0..n).map(|i| x_of(i, n)).collect()
}

/// The x of the `i`th of `n` audits, kept off the axes so that a bar does not cover them.
fn x_of(i: usize, n: usize) -> f64 {
    let (start, plot) = (LEFT + PAD, WIDTH - LEFT - RIGHT - 2.0 * PAD);
    if n <= 1 {
        start + plot / 2.0
    } else {
        start + plot * i as f64 / (n - 1) as f64
    }
}

/// The y of `value` on a 0..`max` axis.
fn y(value: f64, max: f64) -> f64 {
    let plot = HEIGHT - TOP - BOTTOM;
    HEIGHT - BOTTOM - plot * (value / max.max(f64::MIN_POSITIVE)).clamp(0.0, 1.0)
}

/// The frame: the chart's accessible title, the axes, the y range's labels, the first and last
/// dates; `marks` inside.
fn frame(
    id: &str,
    title: &str,
    times: &[DateTime<Utc>],
    y_labels: (&str, &str),
    marks: &str,
) -> String {
    let date = |t: Option<&DateTime<Utc>>| {
        t.map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    format!(
        "<svg class=\"chart\" id=\"{id}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}-title\">\
<title id=\"{id}-title\">{title}</title>\
<line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{yb}\"/>\
<line class=\"axis\" x1=\"{LEFT}\" y1=\"{yb}\" x2=\"{xr}\" y2=\"{yb}\"/>\
<text class=\"tick\" x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{top}</text>\
<text class=\"tick\" x=\"{lx}\" y=\"{yb}\" text-anchor=\"end\">{bottom}</text>\
<text class=\"tick\" x=\"{LEFT}\" y=\"{dy}\">{first}</text>\
<text class=\"tick\" x=\"{xr}\" y=\"{dy}\" text-anchor=\"end\">{last}</text>\
{marks}</svg>",
        title = escape(title),
        yb = HEIGHT - BOTTOM,
        xr = WIDTH - RIGHT,
        lx = LEFT - 6.0,
        ty = TOP + 8.0,
        dy = HEIGHT - 6.0,
        top = escape(y_labels.0),
        bottom = escape(y_labels.1),
        first = date(times.first()),
        last = date(times.last()),
    )
}

/// A point's tooltip: its commit and summary.
fn tooltip(p: &AuditPoint, what: &str) -> String {
    format!(
        "<title>{} {} · {}</title>",
        escape(crate::bytes::short(&p.commit)),
        escape(&p.summary),
        escape(what)
    )
}

/// Each audit as a mark in its verdict's lane (FAIL at the top).
pub fn verdicts(points: &[AuditPoint]) -> String {
    let times: Vec<_> = points.iter().map(|p| p.at).collect();
    let mut marks = String::new();
    for (p, x) in points.iter().zip(xs(times.len())) {
        let (lane, colour) = match p.status.as_str() {
            "FAIL" => (2.0, "#b91c1c"),
            "WARN" => (1.0, "#ca8a04"),
            _ => (0.0, "#15803d"),
        };
        marks.push_str(&format!(
            "<circle class=\"verdict\" cx=\"{x:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{colour}\">{}</circle>",
            y(lane + 0.5, 3.0),
            tooltip(p, &format!("{}, {} commit(s)", p.status, p.commits))
        ));
    }
    frame(
        "verdicts",
        "Verdict of each audit (FAIL top, WARN middle, PASS bottom)",
        &times,
        ("FAIL", "PASS"),
        &marks,
    )
}

/// Each audit's issues, stacked by severity.
pub fn severities(points: &[AuditPoint]) -> String {
    let times: Vec<_> = points.iter().map(|p| p.at).collect();
    let max = points
        .iter()
        .map(|p| p.counts.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bar = ((WIDTH - LEFT - RIGHT) / points.len().max(1) as f64 * 0.7).clamp(2.0, 24.0);
    let mut marks = String::new();
    for (p, x) in points.iter().zip(xs(times.len())) {
        let mut below = 0.0;
        for (count, colour) in p.counts.iter().zip(SEVERITY_COLOURS) {
            if *count == 0 {
                continue;
            }
            let top = below + *count as f64;
            marks.push_str(&format!(
                "<rect class=\"severity\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{colour}\">{}</rect>",
                x - bar / 2.0,
                y(top, max),
                y(below, max) - y(top, max),
                tooltip(p, &format!("{count} issue(s)"))
            ));
            below = top;
        }
    }
    frame(
        "severities",
        "Issues of each audit by severity",
        &times,
        (&format!("{max}"), "0"),
        &marks,
    )
}

/// One value over time as a line with a dot per audit that measured it. `values` are (the
/// audit's index in `points`, the value), so that each sits under its audit in the other
/// charts; `max` tops the axis.
pub fn series(
    id: &str,
    title: &str,
    points: &[AuditPoint],
    values: &[(usize, f64)],
    max: f64,
    unit: &str,
) -> String {
    let times: Vec<_> = points.iter().map(|p| p.at).collect();
    let at: Vec<(f64, f64)> = values
        .iter()
        .map(|(i, v)| (x_of(*i, points.len()), y(*v, max)))
        .collect();
    let line: Vec<String> = at.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let mut marks = format!(
        "<polyline class=\"series\" fill=\"none\" stroke=\"#1d4ed8\" stroke-width=\"1.5\" points=\"{}\"/>",
        line.join(" ")
    );
    for ((x, yv), (i, v)) in at.iter().zip(values) {
        let tip = points
            .get(*i)
            .map_or(String::new(), |p| tooltip(p, &format!("{v:.1}{unit}")));
        marks.push_str(&format!(
            "<circle class=\"point\" cx=\"{x:.1}\" cy=\"{yv:.1}\" r=\"2.5\" fill=\"#1d4ed8\">{tip}</circle>"
        ));
    }
    frame(
        id,
        title,
        &times,
        (&format!("{max:.0}{unit}"), &format!("0{unit}")),
        &marks,
    )
}

/// The rules that fired most, as horizontal bars.
pub fn rules(rules: &[(String, u32)]) -> String {
    let max = rules.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1) as f64;
    let row = 18.0;
    let height = TOP + row * rules.len().max(1) as f64 + 4.0;
    let label = 240.0;
    let mut marks = String::new();
    for (i, (rule, fired)) in rules.iter().enumerate() {
        let yy = TOP + row * i as f64;
        let w = (WIDTH - label - RIGHT - 40.0) * *fired as f64 / max;
        marks.push_str(&format!(
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
<rect class=\"rule\" x=\"{label}\" y=\"{yy:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"#6d28d9\"/>\
<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">{fired}</text>",
            label - 6.0,
            yy + 12.0,
            escape(rule),
            row - 5.0,
            label + w + 4.0,
            yy + 12.0,
        ));
    }
    format!(
        "<svg class=\"chart\" id=\"rules\" viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\" aria-labelledby=\"rules-title\"><title id=\"rules-title\">The rules that raised the most issues</title>{marks}</svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_repository_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\"\n"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; "
        );
    }

    #[test]
    fn marks_sit_in_order_inside_the_frame() {
        let x = xs(5);
        assert_eq!(x[0], LEFT + PAD);
        assert_eq!(x[4], WIDTH - RIGHT - PAD);
        assert!((x[1] - (LEFT + PAD + (WIDTH - LEFT - RIGHT - 2.0 * PAD) / 4.0)).abs() < 1e-9);
        assert_eq!(xs(1), [(LEFT + WIDTH - RIGHT) / 2.0]);
        assert_eq!(y(0.0, 10.0), HEIGHT - BOTTOM);
        assert_eq!(y(10.0, 10.0), TOP);
    }
}
