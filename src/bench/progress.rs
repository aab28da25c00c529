//! A tiny progress bar on stderr: redrawn in place at most ten times a second
//! when stderr is a terminal, a line per quarter otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// A progress bar for `total` units of work.
pub struct Bar {
    label: String,
    total: u64,
    done: u64,
    started: Instant,
    last_draw: Option<Instant>,
    tty: bool,
    quarter: u64,
    hidden: bool,
}

impl Bar {
    pub fn new(label: &str, total: u64) -> Bar {
        Bar {
            label: label.to_string(),
            total: total.max(1),
            done: 0,
            started: Instant::now(),
            last_draw: None,
            tty: std::io::stderr().is_terminal(),
            quarter: 0,
            hidden: false,
        }
    }

    /// A bar that draws nothing (tests, benches).
    pub fn hidden() -> Bar {
        Bar { hidden: true, ..Bar::new("", 1) }
    }

    /// Sets the units done so far.
    pub fn set(&mut self, done: u64) {
        self.done = done.min(self.total);
        if self.hidden {
            return;
        }
        if self.tty {
            let due = self.last_draw.is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
            if due {
                self.draw();
            }
        } else {
            let q = self.done * 4 / self.total;
            if q > self.quarter {
                self.quarter = q;
                self.line();
            }
        }
    }

    fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }

    fn draw(&mut self) {
        const WIDTH: u64 = 30;
        let filled = (self.done * WIDTH / self.total) as usize;
        let bar = format!("{}{}", "#".repeat(filled), " ".repeat(WIDTH as usize - filled));
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{:<12} [{bar}] {:>3}% {}/{} ({:.0}/s)   ",
            self.label,
            self.done * 100 / self.total,
            self.done,
            self.total,
            self.rate()
        );
        let _ = err.flush();
        self.last_draw = Some(Instant::now());
    }

    fn line(&self) {
        eprintln!(
            "{}: {}% ({}/{}, {:.0}/s)",
            self.label,
            self.done * 100 / self.total,
            self.done,
            self.total,
            self.rate()
        );
    }

    /// Draws the final state and ends the line.
    pub fn finish(&mut self) {
        if self.hidden {
            return;
        }
        if self.tty {
            self.draw();
            eprintln!();
        } else if self.quarter < 4 {
            self.line();
        }
    }
}
