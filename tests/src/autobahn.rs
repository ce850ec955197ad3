//! Reads the Autobahn report that kosoku writes (`index.json`) into a verdict table per case
//! group, the table `cargo xtask autobahn` prints and `docs/conformance.md` shows.

use std::{collections::BTreeMap, fmt::Write as _, io, path::Path};

use serde_json::Value;

/// The agent name the driver reports to the fuzzing server.
pub const AGENT: &str = "zen-websocket";

/// One case's verdict, combining its message behaviour and its closing behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Exactly as the case requires.
    Ok,
    /// Acceptable, but a SHOULD was not followed (e.g. invalid UTF-8 noticed at the end of a
    /// fragmented message rather than at the first bad byte).
    NonStrict,
    /// The case probes behaviour the RFC leaves open; any answer is acceptable.
    Informational,
    /// A MUST was broken, in the message exchange or in the closing handshake (or the case
    /// could not be run at all).
    Failed,
    /// The feature the case exercises is missing.
    Unimplemented,
}

impl Verdict {
    /// Every verdict, in table order.
    pub const ALL: [Verdict; 5] = [
        Verdict::Ok,
        Verdict::NonStrict,
        Verdict::Informational,
        Verdict::Failed,
        Verdict::Unimplemented,
    ];

    /// The verdict as Autobahn spells it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Informational => "INFORMATIONAL",
            Verdict::Failed => "FAILED",
            Verdict::Unimplemented => "UNIMPLEMENTED",
        }
    }

    /// The case's verdict from its report's `behavior` and `behaviorClose`: a closing
    /// handshake other than `OK` or `INFORMATIONAL` fails a case whose messages were fine.
    #[must_use]
    pub fn of(behavior: &str, behavior_close: &str) -> Verdict {
        let messages = match behavior {
            "OK" => Verdict::Ok,
            "NON-STRICT" => Verdict::NonStrict,
            "INFORMATIONAL" => Verdict::Informational,
            "UNIMPLEMENTED" => Verdict::Unimplemented,
            // FAILED, and ERROR (the case could not be run to a verdict).
            _ => Verdict::Failed,
        };
        let close_ok = matches!(behavior_close, "OK" | "INFORMATIONAL");
        if messages.is_failure() || close_ok { messages } else { Verdict::Failed }
    }

    /// Whether this verdict fails the run.
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(self, Verdict::Failed | Verdict::Unimplemented)
    }

    fn column(self) -> usize {
        self as usize
    }
}

/// One case of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOutcome {
    /// The case id, e.g. `6.4.1`.
    pub id: String,
    /// The report's `behavior` (message exchange).
    pub behavior: String,
    /// The report's `behaviorClose` (closing handshake).
    pub behavior_close: String,
    /// The two combined.
    pub verdict: Verdict,
}

/// Verdict counts per case group (the case id's first number), and every case.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Counts per group, indexed by [`Verdict`] order.
    pub groups: BTreeMap<u32, [usize; 5]>,
    /// Every case, in case order.
    pub cases: Vec<CaseOutcome>,
}

impl Summary {
    /// Reads `outdir/index.json` and summarises the cases of `agent`.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not the report kosoku writes, or has no cases for `agent`.
    pub fn read(outdir: &Path, agent: &str) -> io::Result<Summary> {
        let text = std::fs::read_to_string(outdir.join("index.json"))?;
        Summary::parse(&text, agent)
    }

    /// Summarises the cases of `agent` in the text of an `index.json`.
    ///
    /// # Errors
    ///
    /// The text is not the report kosoku writes, or has no cases for `agent`.
    pub fn parse(index: &str, agent: &str) -> io::Result<Summary> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let index: Value = serde_json::from_str(index).map_err(io::Error::other)?;
        let Some(cases) = index.get(agent).and_then(Value::as_object) else {
            return Err(invalid(format!("the report has no cases for agent {agent}")));
        };
        let mut summary = Summary::default();
        for (id, case) in cases {
            let field = |name: &str| case.get(name).and_then(Value::as_str).unwrap_or("ERROR");
            let (behavior, behavior_close) = (field("behavior"), field("behaviorClose"));
            let group = group_of(id).ok_or_else(|| invalid(format!("bad case id {id:?}")))?;
            let verdict = Verdict::of(behavior, behavior_close);
            summary.groups.entry(group).or_default()[verdict.column()] += 1;
            summary.cases.push(CaseOutcome {
                id: id.clone(),
                behavior: behavior.to_owned(),
                behavior_close: behavior_close.to_owned(),
                verdict,
            });
        }
        summary.cases.sort_by_key(|case| sort_key(&case.id));
        Ok(summary)
    }

    /// Counts over every group.
    #[must_use]
    pub fn total(&self) -> [usize; 5] {
        let mut total = [0; 5];
        for counts in self.groups.values() {
            for (sum, count) in total.iter_mut().zip(counts) {
                *sum += count;
            }
        }
        total
    }

    /// Whether no case is `FAILED` or `UNIMPLEMENTED`.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|case| !case.verdict.is_failure())
    }

    /// The cases whose verdict or closing behaviour is anything but `OK`.
    pub fn notable(&self) -> impl Iterator<Item = &CaseOutcome> {
        self.cases.iter().filter(|case| case.verdict != Verdict::Ok || case.behavior_close != "OK")
    }

    /// The verdict table as Markdown: one row per group, then the total.
    #[must_use]
    pub fn table(&self) -> String {
        let mut text = String::from("| group | cases |");
        for verdict in Verdict::ALL {
            let _ = write!(text, " {} |", verdict.label());
        }
        text.push_str("\n|---|---:|");
        text.push_str(&"---:|".repeat(Verdict::ALL.len()));
        text.push('\n');
        for (group, counts) in &self.groups {
            let name = format!("{group} {}", group_name(*group));
            push_row(&mut text, &name, counts);
        }
        push_row(&mut text, "total", &self.total());
        text
    }
}

fn push_row(text: &mut String, name: &str, counts: &[usize; 5]) {
    let _ = write!(text, "| {name} | {} |", counts.iter().sum::<usize>());
    for count in counts {
        let _ = write!(text, " {count} |");
    }
    text.push('\n');
}

/// The group a case id belongs to: its first number.
fn group_of(id: &str) -> Option<u32> {
    id.split('.').next()?.parse().ok()
}

/// Numeric order of case ids: 1.2.10 after 1.2.9.
fn sort_key(id: &str) -> Vec<u32> {
    id.split('.').filter_map(|part| part.parse().ok()).collect()
}

/// Autobahn's name for a case group.
#[must_use]
pub fn group_name(group: u32) -> &'static str {
    match group {
        1 => "Framing",
        2 => "Pings/Pongs",
        3 => "Reserved Bits",
        4 => "Opcodes",
        5 => "Fragmentation",
        6 => "UTF-8 Handling",
        7 => "Close Handling",
        9 => "Limits/Performance",
        10 => "Misc",
        12 => "WebSocket Compression (different payloads)",
        13 => "WebSocket Compression (different parameters)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"{"zen-websocket": {
        "1.1.1": {"behavior": "OK", "behaviorClose": "OK"},
        "1.1.10": {"behavior": "OK", "behaviorClose": "OK"},
        "1.1.2": {"behavior": "OK", "behaviorClose": "OK"},
        "6.4.1": {"behavior": "NON-STRICT", "behaviorClose": "OK"},
        "7.1.6": {"behavior": "INFORMATIONAL", "behaviorClose": "INFORMATIONAL"},
        "7.3.1": {"behavior": "OK", "behaviorClose": "WRONG CODE"},
        "9.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "OK"}
    }}"#;

    #[test]
    fn verdicts_combine_messages_and_close() {
        assert_eq!(Verdict::of("OK", "OK"), Verdict::Ok);
        assert_eq!(Verdict::of("NON-STRICT", "INFORMATIONAL"), Verdict::NonStrict);
        assert_eq!(Verdict::of("OK", "UNCLEAN"), Verdict::Failed);
        assert_eq!(Verdict::of("ERROR", "OK"), Verdict::Failed);
        assert_eq!(Verdict::of("UNIMPLEMENTED", "FAILED"), Verdict::Unimplemented);
    }

    #[test]
    fn counts_per_group_in_case_order() {
        let summary = Summary::parse(INDEX, AGENT).unwrap();
        assert_eq!(summary.groups[&1], [3, 0, 0, 0, 0]);
        assert_eq!(summary.groups[&7], [0, 0, 1, 1, 0]);
        assert_eq!(summary.total(), [3, 1, 1, 1, 1]);
        let ids: Vec<&str> = summary.cases.iter().map(|case| case.id.as_str()).collect();
        assert_eq!(ids[..3], ["1.1.1", "1.1.2", "1.1.10"]);
        assert!(!summary.passed());
        assert_eq!(summary.notable().count(), 4);
    }

    #[test]
    fn the_table_has_a_row_per_group_and_a_total() {
        let table = Summary::parse(INDEX, AGENT).unwrap().table();
        assert!(table.starts_with("| group | cases | OK | NON-STRICT |"));
        assert!(table.contains("| 1 Framing | 3 | 3 | 0 | 0 | 0 | 0 |"));
        assert!(table.ends_with("| total | 7 | 3 | 1 | 1 | 1 | 1 |\n"));
    }

    #[test]
    fn a_report_without_the_agent_is_an_error() {
        assert!(Summary::parse(r#"{"other": {}}"#, AGENT).is_err());
        assert!(Summary::parse("not json", AGENT).is_err());
    }
}
