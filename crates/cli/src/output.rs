//! Printing results: aligned tables for people, JSON for scripts; a reader that goes away
//! (`signpost dns --all | head -n 1`) ends the command quietly, as Unix tools do.

use clap::ValueEnum;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON for scripts.
    Json,
}

/// A failure the command has already described in its output (a report with its reason): the
/// command exits with status 1 and no second message.
#[derive(Debug)]
pub struct AlreadySaid;

impl std::fmt::Display for AlreadySaid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the command failed, as its output says")
    }
}

impl std::error::Error for AlreadySaid {}

/// Writes to standard output. When the reader has gone (a closed pipe), the command has said
/// all anyone will read: it ends at once, successfully and without a word. Any other failure
/// to write (a full disk) is an error, said on standard error.
pub fn write_stdout(text: std::fmt::Arguments) {
    use std::io::Write;
    let written = {
        let mut out = std::io::stdout().lock();
        out.write_fmt(text).and_then(|()| out.flush())
    };
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("signpost: cannot write to standard output: {e}");
            std::process::exit(1);
        }
    }
}

/// `print!` that ends quietly on a closed pipe (see [`write_stdout`]).
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_stdout(format_args!($($arg)*)) };
}

/// `println!` that ends quietly on a closed pipe (see [`write_stdout`]).
macro_rules! outln {
    () => { $crate::output::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};

/// Says on standard error how a long write is coming along (`import: users 250000 of
/// 1000000`).
pub fn progress_line(
    command: &'static str,
) -> impl Fn(signpost_store::bulk::Progress) + Send + Sync {
    move |p| eprintln!("{command}: {} {} of {}", p.what, p.done, p.total)
}

/// A table with a header row; columns are padded to their widest cell.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.into_iter().map(|c| printable(&c)).collect());
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let mut out = String::new();
        let header: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&header).chain(self.rows.iter()) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let width = widths.get(i).copied().unwrap_or(0);
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(width - cell.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    pub fn print(&self) {
        out!("{}", self.render());
    }
}

/// Key/value lines (`Hostname:  mail.example.com`).
pub fn print_fields(fields: &[(&str, String)]) {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    for (key, value) in fields {
        outln!("{:<width$}  {}", format!("{key}:"), printable(value));
    }
}

pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Terminal output never carries control characters from stored values.
fn printable(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// The calendar date (UTC) of Unix seconds.
pub fn unix_date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| unix.to_string())
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of Unix seconds.
pub fn unix_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            format!(
                "{} {:02}:{:02}:{:02}",
                t.date(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_else(|_| unix.to_string())
}

/// A point in time as a person gives it: Unix seconds, `2026-11-01`, `2026-11-01T12:00:00Z`,
/// or an age (`30m`, `12h`, `7d`) before now.
pub fn parse_since(value: &str) -> Result<i64, String> {
    let value = value.trim();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if let Ok(seconds) = value.parse::<i64>() {
        return Ok(seconds);
    }
    if let Some((number, unit)) = value
        .char_indices()
        .last()
        .map(|(i, unit)| (&value[..i], unit))
        .filter(|(number, _)| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
    {
        let seconds_per = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(format!("'{value}': the unit of an age is s, m, h, d or w")),
        };
        let amount: i64 = number
            .parse()
            .map_err(|_| format!("'{value}' is too large"))?;
        return Ok(now - amount.saturating_mul(seconds_per));
    }
    let (date, clock) = match value.split_once(['T', ' ']) {
        Some((date, clock)) => (date, Some(clock.trim_end_matches('Z'))),
        None => (value, None),
    };
    let numbers = |text: &str, separator: char, count: usize| -> Option<Vec<i64>> {
        let parts: Vec<i64> = text
            .split(separator)
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        (parts.len() == count).then_some(parts)
    };
    let invalid = || {
        format!(
            "'{value}' is not a time: give 2026-11-01, 2026-11-01T12:00:00Z, Unix seconds, or an age such as 7d"
        )
    };
    let day = numbers(date, '-', 3).ok_or_else(invalid)?;
    let month = u8::try_from(day[1])
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or_else(invalid)?;
    let date = time::Date::from_calendar_date(
        i32::try_from(day[0]).map_err(|_| invalid())?,
        month,
        u8::try_from(day[2]).map_err(|_| invalid())?,
    )
    .map_err(|_| invalid())?;
    let (hour, minute, second) = match clock {
        None => (0, 0, 0),
        Some(clock) => {
            let parts = numbers(clock, ':', 3)
                .or_else(|| {
                    numbers(clock, ':', 2).map(|mut p| {
                        p.push(0);
                        p
                    })
                })
                .ok_or_else(invalid)?;
            (parts[0], parts[1], parts[2])
        }
    };
    let time = time::Time::from_hms(
        u8::try_from(hour).map_err(|_| invalid())?,
        u8::try_from(minute).map_err(|_| invalid())?,
        u8::try_from(second).map_err(|_| invalid())?,
    )
    .map_err(|_| invalid())?;
    Ok(date.with_time(time).assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_people_write_them() {
        assert_eq!(parse_since("1796050936"), Ok(1_796_050_936));
        assert_eq!(parse_since("2026-11-30"), Ok(1_795_996_800));
        assert_eq!(parse_since("2026-11-30T15:02:16Z"), Ok(1_796_050_936));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let week = parse_since("7d").unwrap();
        assert!((now - 7 * 86_400 - week).abs() <= 2, "{week}");
        assert!(parse_since("7y").unwrap_err().contains("unit"));
        assert!(
            parse_since("2026-13-01")
                .unwrap_err()
                .contains("not a time")
        );
        assert!(parse_since("yesterday").unwrap_err().contains("not a time"));
    }

    #[test]
    fn pads_columns() {
        let mut t = Table::new(&["A", "LONGER"]);
        t.row(vec!["xyz".into(), "1".into()]);
        t.row(vec!["\u{1b}[31m".into(), "2".into()]);
        assert_eq!(t.render(), "A      LONGER\nxyz    1\n\u{FFFD}[31m  2\n");
    }
}
