//! Output for a person at a terminal: a result goes straight to the screen
//! unless it grows taller than the screen, in which case it goes through a
//! pager (`$PAGER`, else `less` with `LESS=FRX` unless `LESS` is set). Lines
//! are held only until that is decided, so large results still stream. A
//! pager that cannot be started (a `$PAGER` naming no program) leaves the
//! output on the screen.

use std::io::{self, Write};
use std::process::{Child, Command, Stdio};

enum State {
    /// Holding output until it is known whether it fits.
    Holding {
        buf: Vec<u8>,
        lines: usize,
    },
    Direct,
    Paging(Child),
}

/// A writer that pages output taller than `height` lines.
pub struct Pager {
    height: Option<usize>,
    state: State,
}

/// The pager to run: `$PAGER` (none when empty or `cat`), else `less` if it
/// is on the `PATH`. A `$PAGER` whose program cannot be found is not run
/// (the shell would start, fail, and take the output with it): output goes
/// to the screen, with a note the first time.
fn pager_command() -> Option<String> {
    match std::env::var("PAGER") {
        Ok(p) if p.trim().is_empty() || p.trim() == "cat" => None,
        Ok(p) if runnable(&p) => Some(p),
        Ok(p) => {
            static NOTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
            if !NOTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                eprintln!("note: the pager `{p}` ($PAGER) was not found; output is not paged");
            }
            None
        }
        Err(_) => on_path("less").then(|| "less".to_string()),
    }
}

/// Whether the program a pager command starts with exists: a path to a
/// file, or a name on the `PATH`.
fn runnable(command: &str) -> bool {
    let Some(program) = command.split_whitespace().next() else {
        return false;
    };
    if program.contains('/') { std::path::Path::new(program).is_file() } else { on_path(program) }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
}

impl Pager {
    /// Pages output taller than `height` lines; `None` never pages.
    pub fn new(height: Option<usize>) -> Pager {
        let height = height.filter(|h| *h >= 5).filter(|_| pager_command().is_some());
        let state =
            if height.is_some() { State::Holding { buf: Vec::new(), lines: 0 } } else { State::Direct };
        Pager { height, state }
    }

    fn spawn(&mut self, held: &[u8]) -> io::Result<()> {
        let mut cmd = match pager_command() {
            Some(p) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(p);
                c
            }
            None => return self.direct(held),
        };
        if std::env::var_os("LESS").is_none() {
            cmd.env("LESS", "FRX");
        }
        match cmd.stdin(Stdio::piped()).spawn() {
            Ok(mut child) => {
                if let Some(stdin) = child.stdin.as_mut() {
                    stdin.write_all(held)?;
                }
                self.state = State::Paging(child);
                Ok(())
            }
            Err(_) => self.direct(held),
        }
    }

    fn direct(&mut self, held: &[u8]) -> io::Result<()> {
        self.state = State::Direct;
        io::stdout().write_all(held)
    }

    /// Ends the output: shows what was held, or waits for the pager to quit.
    pub fn finish(mut self) -> io::Result<()> {
        match std::mem::replace(&mut self.state, State::Direct) {
            State::Holding { buf, .. } => {
                let mut out = io::stdout();
                out.write_all(&buf)?;
                out.flush()
            }
            State::Direct => io::stdout().flush(),
            State::Paging(mut child) => {
                drop(child.stdin.take());
                child.wait().map(|_| ())
            }
        }
    }
}

impl Write for Pager {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match &mut self.state {
            State::Direct => io::stdout().write(data),
            State::Paging(child) => match child.stdin.as_mut() {
                Some(stdin) => stdin.write(data),
                None => Err(io::ErrorKind::BrokenPipe.into()),
            },
            State::Holding { buf, lines } => {
                buf.extend_from_slice(data);
                *lines += data.iter().filter(|b| **b == b'\n').count();
                if self.height.is_some_and(|h| *lines > h.saturating_sub(2)) {
                    let held = std::mem::take(buf);
                    self.spawn(&held)?;
                }
                Ok(data.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Direct => io::stdout().flush(),
            State::Paging(child) => child.stdin.as_mut().map_or(Ok(()), |s| s.flush()),
            State::Holding { .. } => Ok(()),
        }
    }
}
