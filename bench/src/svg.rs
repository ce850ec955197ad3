//! `results.svg`: the table as a bar chart — one bar per contender per row, rows grouped, one
//! panel with its own scale for each kind of figure (64 B throughput, 16 KiB throughput, p50 and
//! p99 round trips, memory), every bar labelled with its figure. Written by hand: it is text.

use std::fmt::Write as _;

use crate::{
    clients::Contender,
    report::{self, Panel, Row},
};

/// The picture's width.
const WIDTH: f64 = 920.0;
/// Where the bars start; the row names end just before.
const BARS_X: f64 = 210.0;
/// The longest bar of a panel (its largest figure).
const BAR_MAX: f64 = 540.0;
/// A bar's height and the space under it.
const BAR_H: f64 = 14.0;
const BAR_GAP: f64 = 3.0;
/// Space between two rows of a panel.
const GROUP_GAP: f64 = 12.0;
/// A panel's title line.
const TITLE_H: f64 = 28.0;

/// The colour of `who`'s bars.
fn colour(who: Contender) -> &'static str {
    match who {
        Contender::Zen => "#2563eb",
        Contender::Raw => "#6b7280",
        Contender::Ezsockets => "#ea580c",
        Contender::Python => "#16a34a",
        Contender::Node => "#9333ea",
    }
}

/// The chart of `rows` (those with a [`Panel`]), titled `heading`.
pub(crate) fn chart(rows: &[Row], heading: &str) -> String {
    let mut body = String::new();
    let mut y = 28.0;
    text(&mut body, 16.0, y, "start", "font-size=\"15\" font-weight=\"bold\"", heading);
    y += 20.0;
    for (i, who) in Contender::ALL.into_iter().enumerate() {
        let x = 16.0 + i as f64 * 110.0;
        rect(&mut body, x, y, 12.0, 12.0, colour(who));
        text(&mut body, x + 18.0, y + 6.0, "start", "", who.name());
    }
    y += 24.0;
    for panel in Panel::ALL {
        let panel_rows: Vec<&Row> = rows.iter().filter(|row| row.panel == Some(panel)).collect();
        if !panel_rows.is_empty() {
            y = draw_panel(&mut body, panel, &panel_rows, y);
        }
    }
    let height = y.ceil();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>\n\
         {body}</svg>\n"
    )
}

/// Draws one panel from `top`; returns where the next one starts.
fn draw_panel(out: &mut String, panel: Panel, rows: &[&Row], top: f64) -> f64 {
    let mut y = top + TITLE_H;
    text(out, 16.0, y - 10.0, "start", "font-size=\"13\" font-weight=\"bold\"", panel.title());
    let _ = writeln!(
        out,
        "<line x1=\"{BARS_X}\" y1=\"{:.1}\" x2=\"{BARS_X}\" y2=\"{:.1}\" stroke=\"#9ca3af\"/>",
        y - 4.0,
        y + panel_height(rows) - GROUP_GAP + 4.0
    );
    let max = rows
        .iter()
        .flat_map(|row| Contender::ALL.into_iter().filter_map(|who| row.figure(who)))
        .fold(0.0, f64::max);
    for row in rows {
        let bars: Vec<(Contender, f64)> =
            Contender::ALL.into_iter().filter_map(|who| Some((who, row.figure(who)?))).collect();
        let height = group_height(bars.len());
        text(out, BARS_X - 8.0, y + height / 2.0, "end", "", &row.name);
        if bars.is_empty() {
            let reason = row.skipped.as_deref().unwrap_or("not measured");
            text(out, BARS_X + 6.0, y + BAR_H / 2.0, "start", "fill=\"#6b7280\"", reason);
        }
        for (i, (who, value)) in bars.into_iter().enumerate() {
            let bar_top = y + i as f64 * (BAR_H + BAR_GAP);
            let width = if max > 0.0 { value / max * BAR_MAX } else { 0.0 };
            rect(out, BARS_X, bar_top, width, BAR_H, colour(who));
            let label = format!("{} {} {}", who.name(), report::show(row.unit, value), row.unit);
            text(out, BARS_X + width + 5.0, bar_top + BAR_H / 2.0, "start", "", &label);
        }
        y += height + GROUP_GAP;
    }
    y + 8.0
}

/// The height of a panel's rows, gaps included.
fn panel_height(rows: &[&Row]) -> f64 {
    let bars = |row: &Row| Contender::ALL.iter().filter(|who| row.figure(**who).is_some()).count();
    rows.iter().map(|row| group_height(bars(row)) + GROUP_GAP).sum()
}

/// The height of a row of `bars` bars (one line when it has none).
fn group_height(bars: usize) -> f64 {
    bars.max(1) as f64 * (BAR_H + BAR_GAP) - BAR_GAP
}

fn rect(out: &mut String, x: f64, y: f64, width: f64, height: f64, fill: &str) {
    let _ = writeln!(
        out,
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"{fill}\"/>"
    );
}

/// A text at (`x`, `y`) — `y` is the middle of the line — anchored `start` or `end`, with
/// extra attributes `style`.
fn text(out: &mut String, x: f64, y: f64, anchor: &str, style: &str, content: &str) {
    let space = if style.is_empty() { "" } else { " " };
    let _ = writeln!(
        out,
        "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\"{space}{style}>{}</text>",
        y + 4.0,
        escape(content)
    );
}

/// `content` with XML's special characters escaped.
fn escape(content: &str) -> String {
    content.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn row(name: &str, unit: &'static str, panel: Panel, figures: &[(Contender, f64)]) -> Row {
        let peers: BTreeMap<Contender, f64> = figures[2..].iter().copied().collect();
        Row {
            name: name.into(),
            unit,
            zen: Some(figures[0].1),
            raw: Some(figures[1].1),
            ratio: None,
            vs_peers: BTreeMap::new(),
            peer_targets: BTreeMap::new(),
            peers,
            target: None,
            met: None,
            skipped: None,
            note: None,
            panel: Some(panel),
        }
    }

    #[test]
    fn draws_a_bar_per_figure_in_a_panel_per_unit() {
        let rows = [
            row(
                "flood 64 B",
                "msgs/s",
                Panel::Throughput,
                &[(Contender::Zen, 100.0), (Contender::Raw, 400.0), (Contender::Node, 50.0)],
            ),
            row("rtt p50", "µs", Panel::Median, &[(Contender::Zen, 80.0), (Contender::Raw, 40.0)]),
            Row {
                panel: None,
                ..row(
                    "MB/s",
                    "MB/s",
                    Panel::Throughput,
                    &[(Contender::Zen, 1.0), (Contender::Raw, 2.0)],
                )
            },
        ];
        let svg = chart(&rows, "a < b & c");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        // The background, five legend swatches, then 3 + 2 bars (the row without a panel is left out).
        assert_eq!(svg.matches("<rect ").count(), 1 + 5 + 5);
        assert!(svg.contains(Panel::Throughput.title()) && svg.contains(Panel::Median.title()));
        assert!(!svg.contains(Panel::Memory.title()));
        assert!(svg.contains("a &lt; b &amp; c"));
        assert!(svg.contains(">node 50 msgs/s<") && svg.contains(">raw 40.0 µs<"));
        // Each panel has its own scale: both largest figures get the longest bar.
        assert_eq!(svg.matches(&format!("width=\"{BAR_MAX:.1}\"")).count(), 2);
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    }

    #[test]
    fn a_skipped_row_says_why() {
        let mut skipped = row(
            "idle ws × 10,000",
            "KiB/conn",
            Panel::Memory,
            &[(Contender::Zen, 0.0), (Contender::Raw, 0.0)],
        );
        (skipped.zen, skipped.raw, skipped.skipped) = (None, None, Some("too few files".into()));
        let svg = chart(&[skipped], "t");
        assert!(svg.contains(">too few files<"));
        assert_eq!(svg.matches("<rect ").count(), 1 + 5);
    }
}
