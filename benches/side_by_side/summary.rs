//! What is measured, and how rounds become one number per configuration and metric: the median
//! over rounds (start-up and broker dial: the median over all launches/dials of all rounds), then
//! the ratio to Go↔Go with the same AutoMTLS setting, and the goals of the benchmark issue checked
//! against those ratios.

use std::collections::BTreeMap;

use crate::floor::Floor;

/// The language of a host or plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Go,
    Rust,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Go => "Go",
            Side::Rust => "Rust",
        }
    }
}

/// A host and a plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pairing {
    pub host: Side,
    pub plugin: Side,
}

pub const GO_GO: Pairing = Pairing {
    host: Side::Go,
    plugin: Side::Go,
};
pub const RUST_GO: Pairing = Pairing {
    host: Side::Rust,
    plugin: Side::Go,
};
pub const GO_RUST: Pairing = Pairing {
    host: Side::Go,
    plugin: Side::Rust,
};
pub const RUST_RUST: Pairing = Pairing {
    host: Side::Rust,
    plugin: Side::Rust,
};
pub const PAIRINGS: [Pairing; 4] = [GO_GO, RUST_GO, GO_RUST, RUST_RUST];

impl Pairing {
    /// "Go↔Go", "Rust host → Go plugin", …
    pub fn title(self) -> String {
        if self.host == self.plugin {
            format!("{0}↔{0}", self.host.name())
        } else {
            format!("{} host → {} plugin", self.host.name(), self.plugin.name())
        }
    }

    /// "go-rust": host first; keys of results.json.
    pub fn key(self) -> String {
        format!(
            "{}-{}",
            self.host.name().to_lowercase(),
            self.plugin.name().to_lowercase()
        )
    }

    /// "Go→Rust", for narrow places.
    pub fn short(self) -> String {
        format!("{}→{}", self.host.name(), self.plugin.name())
    }
}

/// One configuration: a pairing with AutoMTLS off or on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Config {
    pub pairing: Pairing,
    pub mtls: bool,
}

/// The eight configurations, in the order a round runs them (before rotation).
pub const CONFIGS: [Config; 8] = {
    let mut all = [Config {
        pairing: GO_GO,
        mtls: false,
    }; 8];
    let mut i = 0;
    while i < 8 {
        all[i] = Config {
            pairing: PAIRINGS[i % 4],
            mtls: i >= 4,
        };
        i += 1;
    }
    all
};

/// What one bench host run reports (the JSON object both hosts print).
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub start_ms: Vec<f64>,
    pub unary_p50_us: f64,
    pub unary_p99_us: f64,
    pub calls_per_s: f64,
    pub download_mib_s: f64,
    pub upload_mib_s: f64,
    pub dial_us: Vec<f64>,
    pub rss_kib: f64,
}

/// One round: every configuration once, and the floor.
#[derive(Debug, Default)]
pub struct Round {
    pub samples: BTreeMap<Config, Sample>,
    pub floor: Option<Floor>,
    /// The tuned build's AutoMTLS start-up times per pairing ([`crate::tuned`]).
    pub tuned_start_ms: BTreeMap<Pairing, Vec<f64>>,
}

/// The metrics of the tables, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    StartMs,
    UnaryP50,
    UnaryP99,
    CallsPerS,
    DownloadMibS,
    UploadMibS,
    RssMib,
    DialUs,
}

pub const METRICS: [Metric; 8] = [
    Metric::StartMs,
    Metric::UnaryP50,
    Metric::UnaryP99,
    Metric::CallsPerS,
    Metric::DownloadMibS,
    Metric::UploadMibS,
    Metric::RssMib,
    Metric::DialUs,
];

impl Metric {
    pub fn label(self) -> &'static str {
        match self {
            Metric::StartMs => "start → first call (ms)",
            Metric::UnaryP50 => "unary p50, 1 in flight (µs)",
            Metric::UnaryP99 => "unary p99, 1 in flight (µs)",
            Metric::CallsPerS => "calls/s, 32 in flight",
            Metric::DownloadMibS => "server stream (MiB/s)",
            Metric::UploadMibS => "client stream (MiB/s)",
            Metric::RssMib => "plugin peak RSS (MiB)",
            Metric::DialUs => "broker dial + first call (µs)",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Metric::StartMs => "start_ms",
            Metric::UnaryP50 => "unary_p50_us",
            Metric::UnaryP99 => "unary_p99_us",
            Metric::CallsPerS => "calls_per_s",
            Metric::DownloadMibS => "download_mib_s",
            Metric::UploadMibS => "upload_mib_s",
            Metric::RssMib => "rss_mib",
            Metric::DialUs => "dial_us",
        }
    }

    /// Throughputs are better high; times and memory low.
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Metric::CallsPerS | Metric::DownloadMibS | Metric::UploadMibS
        )
    }

    /// This metric's values in one round's sample (several for per-launch/per-dial metrics).
    fn values(self, s: &Sample) -> Vec<f64> {
        match self {
            Metric::StartMs => s.start_ms.clone(),
            Metric::UnaryP50 => vec![s.unary_p50_us],
            Metric::UnaryP99 => vec![s.unary_p99_us],
            Metric::CallsPerS => vec![s.calls_per_s],
            Metric::DownloadMibS => vec![s.download_mib_s],
            Metric::UploadMibS => vec![s.upload_mib_s],
            Metric::RssMib => vec![s.rss_kib / 1024.0],
            Metric::DialUs => s.dial_us.clone(),
        }
    }
}

/// The median (mean of the two middle values for an even count); NaN for no values.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Medians per configuration and metric, and of the floor.
#[derive(Debug)]
pub struct Summary {
    pub values: BTreeMap<(Config, Metric), f64>,
    pub floor_rtt_us: f64,
    pub floor_mib_s: f64,
    /// The tuned build's AutoMTLS start → first call (ms), median over all launches.
    pub tuned_start_ms: BTreeMap<Pairing, f64>,
}

impl Summary {
    pub fn of(rounds: &[Round]) -> Summary {
        let mut values = BTreeMap::new();
        for config in CONFIGS {
            for metric in METRICS {
                let pooled: Vec<f64> = rounds
                    .iter()
                    .filter_map(|r| r.samples.get(&config))
                    .flat_map(|s| metric.values(s))
                    .collect();
                values.insert((config, metric), median(&pooled));
            }
        }
        let floors: Vec<&Floor> = rounds.iter().filter_map(|r| r.floor.as_ref()).collect();
        Summary {
            values,
            floor_rtt_us: median(&floors.iter().map(|f| f.rtt_p50_us).collect::<Vec<_>>()),
            floor_mib_s: median(&floors.iter().map(|f| f.mib_s).collect::<Vec<_>>()),
            tuned_start_ms: crate::tuned::PAIRINGS
                .iter()
                .map(|&p| {
                    let pooled: Vec<f64> = rounds
                        .iter()
                        .filter_map(|r| r.tuned_start_ms.get(&p))
                        .flatten()
                        .copied()
                        .collect();
                    (p, median(&pooled))
                })
                .collect(),
        }
    }

    pub fn get(&self, pairing: Pairing, mtls: bool, metric: Metric) -> f64 {
        self.values[&(Config { pairing, mtls }, metric)]
    }

    /// The value of `pairing` divided by Go↔Go's, same AutoMTLS setting.
    pub fn ratio(&self, pairing: Pairing, mtls: bool, metric: Metric) -> f64 {
        self.get(pairing, mtls, metric) / self.get(GO_GO, mtls, metric)
    }

    /// How many times better than Go↔Go (> 1 is better, whatever the metric's direction).
    pub fn advantage(&self, pairing: Pairing, mtls: bool, metric: Metric) -> f64 {
        let r = self.ratio(pairing, mtls, metric);
        if metric.higher_is_better() {
            r
        } else {
            1.0 / r
        }
    }
}

/// A goal of the benchmark issue.
pub struct Goal {
    pub text: String,
    /// The measured ratio, per AutoMTLS setting (off, on).
    pub measured: [f64; 2],
    pub limit: f64,
    /// true: the measured ratio must be at most `limit`; false: at least.
    pub at_most: bool,
}

impl Goal {
    pub fn met(&self, mtls: bool) -> bool {
        let m = self.measured[mtls as usize];
        if self.at_most {
            m <= self.limit
        } else {
            m >= self.limit
        }
    }
}

/// The goals, with their measured ratios.
pub fn goals(s: &Summary) -> Vec<Goal> {
    let both = |f: &dyn Fn(bool) -> f64| [f(false), f(true)];
    let mut goals = vec![
        Goal {
            text: "Rust↔Rust start → first call ≤ 0.5× Go↔Go".into(),
            measured: both(&|m| s.ratio(RUST_RUST, m, Metric::StartMs)),
            limit: 0.5,
            at_most: true,
        },
        Goal {
            text: "Rust↔Rust unary p50 ≤ 0.5× Go↔Go".into(),
            measured: both(&|m| s.ratio(RUST_RUST, m, Metric::UnaryP50)),
            limit: 0.5,
            at_most: true,
        },
        Goal {
            text: "Rust↔Rust unary p50 ≤ 4× the raw Unix-socket ping-pong".into(),
            measured: both(&|m| s.get(RUST_RUST, m, Metric::UnaryP50) / s.floor_rtt_us),
            limit: 4.0,
            at_most: true,
        },
        Goal {
            text: "Rust↔Rust calls/s (32 in flight) ≥ 2× Go↔Go".into(),
            measured: both(&|m| s.ratio(RUST_RUST, m, Metric::CallsPerS)),
            limit: 2.0,
            at_most: false,
        },
        Goal {
            text: "Rust↔Rust server-stream MiB/s ≥ 1.5× Go↔Go".into(),
            measured: both(&|m| s.ratio(RUST_RUST, m, Metric::DownloadMibS)),
            limit: 1.5,
            at_most: false,
        },
        Goal {
            text: "Rust plugin peak RSS ≤ 0.5× Go plugin (Rust↔Rust / Go↔Go)".into(),
            measured: both(&|m| s.ratio(RUST_RUST, m, Metric::RssMib)),
            limit: 0.5,
            at_most: true,
        },
    ];
    for pairing in [RUST_GO, GO_RUST] {
        for metric in [
            Metric::StartMs,
            Metric::UnaryP50,
            Metric::CallsPerS,
            Metric::DownloadMibS,
        ] {
            let word = if metric.higher_is_better() {
                "≥"
            } else {
                "≤"
            };
            goals.push(Goal {
                text: format!(
                    "{} {} {word} 1× Go↔Go (no slower)",
                    pairing.title(),
                    metric.label()
                ),
                measured: both(&|m| s.ratio(pairing, m, metric)),
                limit: 1.0,
                at_most: !metric.higher_is_better(),
            });
        }
    }
    goals
}
