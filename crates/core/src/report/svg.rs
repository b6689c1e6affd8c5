//! Inline SVG charts for the HTML report: horizontal bars and stacked bars.
//! Hand-written (a few dozen lines) so the report needs no script or font to
//! draw them and the binary no charting crate (../shared/STACK.md).

use std::fmt::Write as _;

use quick_xml::escape::escape;

/// One bar: label, value, CSS colour.
pub(super) type Bar<'a> = (String, u64, &'a str);

/// One segment of a stacked bar: value, CSS colour, what it counts.
pub(super) type Segment<'a> = (u64, &'a str, &'a str);

/// One stacked bar: label and segments.
pub(super) type Stack<'a> = (String, Vec<Segment<'a>>);

const ROW: u32 = 22;
const LABEL_W: u32 = 150;
const BAR_W: u32 = 300;

/// A horizontal bar chart with the values written at the bar ends.
pub(super) fn bars(title: &str, data: &[Bar<'_>]) -> String {
    let max = data.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let height = ROW * u32::try_from(data.len()).unwrap_or(0) + 8;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {w} {height}" width="{w}" height="{height}"><title>{t}</title>"#,
        t = escape(title),
        w = LABEL_W + BAR_W + 70
    );
    for (i, (label, value, color)) in data.iter().enumerate() {
        let y = ROW * u32::try_from(i).unwrap_or(0) + 4;
        let w = u32::try_from(u64::from(BAR_W) * value / max).unwrap_or(BAR_W);
        let _ = write!(
            s,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{l}</text><rect x="{LABEL_W}" y="{y}" width="{w}" height="{h}" fill="{color}"><title>{l}: {value}</title></rect><text x="{vx}" y="{ty}">{value}</text>"#,
            lx = LABEL_W - 6,
            ty = y + 14,
            l = escape(label.as_str()),
            h = ROW - 6,
            vx = LABEL_W + w + 6,
        );
    }
    if data.is_empty() {
        s.push_str(r#"<text x="10" y="14">nothing to show</text>"#);
    }
    s.push_str("</svg>");
    s
}

/// Horizontal stacked bars: each row is a label and segments `(value, colour, name)`.
pub(super) fn stacked(title: &str, rows: &[Stack<'_>]) -> String {
    let max = rows
        .iter()
        .map(|r| r.1.iter().map(|s| s.0).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let height = ROW * u32::try_from(rows.len()).unwrap_or(0) + 8;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {w} {height}" width="{w}" height="{height}"><title>{t}</title>"#,
        t = escape(title),
        w = LABEL_W + BAR_W + 70 + 120
    );
    for (i, (label, segments)) in rows.iter().enumerate() {
        let y = ROW * u32::try_from(i).unwrap_or(0) + 4;
        let _ = write!(
            s,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{l}</text>"#,
            lx = LABEL_W + 114,
            ty = y + 14,
            l = escape(label.as_str())
        );
        let mut x = LABEL_W + 120;
        for (value, color, name) in segments {
            let w = u32::try_from(u64::from(BAR_W) * value / max).unwrap_or(0);
            if w > 0 {
                let _ = write!(
                    s,
                    r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{color}"><title>{l}: {value} {n}</title></rect>"#,
                    h = ROW - 6,
                    l = escape(label.as_str()),
                    n = escape(*name)
                );
            }
            x += w;
        }
        let total: u64 = segments.iter().map(|s| s.0).sum();
        let _ = write!(s, r#"<text x="{}" y="{}">{total}</text>"#, x + 6, y + 14);
    }
    if rows.is_empty() {
        s.push_str(r#"<text x="10" y="14">nothing to show</text>"#);
    }
    s.push_str("</svg>");
    s
}
