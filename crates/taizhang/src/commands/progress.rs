//! Progress of long commands on standard error: events done of the total, and the rate.
//!
//! On a terminal one line is rewritten at most four times a second; otherwise (a log file, a CI
//! job) a plain line is written at most every 10 seconds, so small runs print nothing and large
//! ones do not flood the log.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    label: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    last_shown: Instant,
    every: Duration,
    terminal: bool,
    shown: bool,
}

impl Progress {
    pub fn new(label: &'static str, total: u64) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let now = Instant::now();
        Progress {
            label,
            total,
            done: 0,
            started: now,
            last_shown: now,
            every: if terminal {
                Duration::from_millis(250)
            } else {
                Duration::from_secs(10)
            },
            terminal,
            shown: false,
        }
    }

    pub fn advance(&mut self, events: u64) {
        self.done += events;
        if self.last_shown.elapsed() >= self.every {
            self.show();
        }
    }

    /// Ends the progress line (if one was shown) with the final figures.
    pub fn finish(mut self) {
        if self.shown {
            self.show();
            if self.terminal {
                eprintln!();
            }
        }
    }

    fn show(&mut self) {
        self.last_shown = Instant::now();
        self.shown = true;
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let percent = if self.total == 0 {
            100.0
        } else {
            self.done as f64 * 100.0 / self.total as f64
        };
        let text = format!(
            "{}: {}/{} events ({percent:.0}%), {:.0} events/s",
            self.label,
            self.done,
            self.total,
            self.done as f64 / seconds
        );
        let mut err = std::io::stderr().lock();
        // Progress is best effort: a closed stderr must not fail the command.
        let _ = if self.terminal {
            write!(err, "\r{text}\x1b[K")
        } else {
            writeln!(err, "{text}")
        };
        let _ = err.flush();
    }
}
