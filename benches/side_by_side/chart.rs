//! `bench/ratios.svg`: for each metric, how many times better than Go↔Go each other pairing is
//! (AutoMTLS off: solid, on: pale), as horizontal bars on a log₂ axis from ⅛× to 8× around the
//! Go↔Go line at 1× (longer bars are cut at the axis ends; their labels give the value); a dashed
//! mark shows the Rust↔Rust goal. Plain SVG text, no dependencies.

use std::fmt::Write;

use crate::summary::{Metric, Summary, GO_RUST, RUST_GO, RUST_RUST};

const LABEL_W: f64 = 230.0;
const PLOT_W: f64 = 520.0;
const BAR_H: f64 = 11.0;
const GAP: f64 = 2.0;
const GROUP_GAP: f64 = 16.0;
const TOP: f64 = 56.0;
/// The axis spans 2^-SPAN ..= 2^SPAN.
const SPAN: f64 = 3.0;

/// The metrics drawn, each with the Rust↔Rust goal as an advantage (1 / ratio for "lower is
/// better" metrics).
const ROWS: [(Metric, Option<f64>); 7] = [
    (Metric::StartMs, Some(2.0)),
    (Metric::UnaryP50, Some(2.0)),
    (Metric::CallsPerS, Some(2.0)),
    (Metric::DownloadMibS, Some(1.5)),
    (Metric::UploadMibS, None),
    (Metric::RssMib, Some(2.0)),
    (Metric::DialUs, None),
];

fn x_of(advantage: f64) -> f64 {
    let l = advantage.log2().clamp(-SPAN, SPAN);
    LABEL_W + (l + SPAN) / (2.0 * SPAN) * PLOT_W
}

pub fn svg(s: &Summary) -> String {
    let pairings = [
        (RUST_GO, "#d9822b"),
        (GO_RUST, "#2b83d9"),
        (RUST_RUST, "#b7410e"),
    ];
    let group_h = 6.0 * (BAR_H + GAP) + GROUP_GAP;
    let height = TOP + ROWS.len() as f64 * group_h + 70.0;
    let width = LABEL_W + PLOT_W + 50.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">Times better than Go↔Go (same run, log scale)</text>"#
    );
    // Axis ticks.
    let bottom = TOP + ROWS.len() as f64 * group_h - GROUP_GAP + 6.0;
    for k in -3..=3 {
        let v = 2f64.powi(k);
        let x = x_of(v);
        let label = if k < 0 {
            format!("1/{}×", 1 << -k)
        } else {
            format!("{}×", 1 << k)
        };
        let stroke = if k == 0 { "#000" } else { "#ddd" };
        let _ = writeln!(
            out,
            r#"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{bottom:.1}" stroke="{stroke}"/><text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            TOP - 14.0,
            TOP - 18.0
        );
    }
    for (i, (metric, goal)) in ROWS.iter().enumerate() {
        let y0 = TOP + i as f64 * group_h;
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{:.1}" text-anchor="end" font-weight="bold">{}</text>"#,
            LABEL_W - 8.0,
            y0 + 3.0 * (BAR_H + GAP) + 4.0,
            escape(metric.label())
        );
        let mut row = 0.0;
        for (pairing, color) in pairings {
            for mtls in [false, true] {
                let y = y0 + row * (BAR_H + GAP);
                row += 1.0;
                let a = s.advantage(pairing, mtls, *metric);
                if !a.is_finite() {
                    continue;
                }
                let (x1, x2) = (x_of(1.0), x_of(a));
                let opacity = if mtls { 0.45 } else { 1.0 };
                let _ = writeln!(
                    out,
                    r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{BAR_H}" fill="{color}" fill-opacity="{opacity}"><title>{} {}: {:.2}×</title></rect>"#,
                    x1.min(x2),
                    (x2 - x1).abs().max(1.0),
                    escape(&pairing.title()),
                    if mtls { "AutoMTLS on" } else { "AutoMTLS off" },
                    a
                );
                let (tx, anchor) = if a >= 1.0 {
                    (x2 + 3.0, "start")
                } else {
                    (x2 - 3.0, "end")
                };
                let _ = writeln!(
                    out,
                    r#"<text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" font-size="9">{a:.2}</text>"#,
                    y + BAR_H - 2.0
                );
            }
        }
        if let Some(goal) = goal {
            let x = x_of(*goal);
            let y = y0 + 4.0 * (BAR_H + GAP);
            let _ = writeln!(
                out,
                r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="black" stroke-dasharray="3,2"/>"#,
                y - 2.0,
                y + 2.0 * (BAR_H + GAP)
            );
        }
    }
    // Legend.
    let mut lx = 10.0;
    let ly = height - 52.0;
    for (pairing, color) in pairings {
        for mtls in [false, true] {
            let opacity = if mtls { 0.45 } else { 1.0 };
            let ly = if mtls { ly + 14.0 } else { ly };
            let text = format!(
                "{}{}",
                pairing.title(),
                if mtls { ", AutoMTLS" } else { "" }
            );
            let _ = writeln!(
                out,
                r#"<rect x="{lx:.1}" y="{ly:.1}" width="12" height="10" fill="{color}" fill-opacity="{opacity}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                lx + 16.0,
                ly + 9.0,
                escape(&text)
            );
            if mtls {
                lx += 250.0;
            }
        }
    }
    let _ = writeln!(
        out,
        r#"<text x="10" y="{:.1}" fill="dimgray">Each pairing has two bars: AutoMTLS off (solid) and on (pale). Dashed: the Rust↔Rust goal.</text>"#,
        height - 12.0
    );
    let _ = writeln!(out, "</svg>");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
