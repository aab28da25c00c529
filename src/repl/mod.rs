//! The analyst's REPL (`claimgraph repl`): a line editor with history,
//! completion, hints and highlighting over a [`Shell`].
//!
//! A line flows as follows:
//! 1. rustyline reads it (`claimgraph> `, or `..> ` while a statement is
//!    unfinished) with [`helper::ReplHelper`] completing and highlighting.
//! 2. [`input::Gather`] decides what it completes: a `:` command (one line)
//!    or statements (ending at `;`, possibly over several lines).
//! 3. [`Shell`] runs it: meta commands in [`meta`], statements through the
//!    session, their rows streamed into the renderer, through a pager
//!    ([`pager`]) when taller than the screen.
//!
//! Ctrl-C while a query runs cancels it (a signal handler sets the session's
//! cancel flag; the engine checks it as it works); at the prompt it clears
//! the line (one that lands just as a statement ends was meant for it and does
//! not count toward leaving); a second Ctrl-C on an empty line, or Ctrl-D, leaves (asking
//! first when a transaction block is open). Input that
//! is not a terminal is read as a script (ending it inside an open block is
//! an error that discards the block), and output that is not a terminal
//! is plain (no colour, timing, pager or row cap).

pub mod demo;
pub mod help;
pub mod helper;
pub mod input;
pub mod meta;
pub mod pager;
pub mod shell;

use std::io::{self, BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{
    Cmd, ColorMode, CompletionType, ConditionalEventHandler, Config, Editor, Event, EventContext,
    EventHandler, KeyEvent, RepeatCount,
};

pub use shell::{Io, Outcome, Settings, Shell};

/// Why the REPL stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplError {
    #[error("the line editor failed: {0}")]
    Editor(#[from] ReadlineError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Whether to colour output going to a terminal: not with `NO_COLOR` set
/// (to anything but the empty string), nor on a `dumb` terminal.
pub fn color_wanted(terminal: bool) -> bool {
    terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Where history is kept: `$CLAIMGRAPH_HISTORY` (empty: nowhere), else
/// `$XDG_DATA_HOME/claimgraph/history`, else `~/.local/share/claimgraph/history`
/// — never the store or the working directory.
pub fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CLAIMGRAPH_HISTORY") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let data = match std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".local/share"),
    };
    Some(data.join("claimgraph").join("history"))
}

/// Remembers whether Ctrl-C was pressed on an empty line.
struct CtrlC(Arc<AtomicBool>);

impl ConditionalEventHandler for CtrlC {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext<'_>) -> Option<Cmd> {
        self.0.store(ctx.line().is_empty(), Ordering::Release);
        Some(Cmd::Interrupt)
    }
}

/// How soon after a statement's prompt a Ctrl-C is taken as meant for the
/// statement rather than as a first step toward leaving.
const CARRY_OVER: std::time::Duration = std::time::Duration::from_millis(750);

/// Reads statements from a terminal until `:quit`, Ctrl-D or two Ctrl-Cs.
pub fn interactive(shell: &mut Shell, welcome: &str) -> Result<(), ReplError> {
    let color = shell.settings.color;
    let config = Config::builder()
        .max_history_size(10_000)?
        .history_ignore_space(true)
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .color_mode(if color { ColorMode::Enabled } else { ColorMode::Disabled })
        .build();
    let mut rl: Editor<helper::ReplHelper, FileHistory> = Editor::with_config(config)?;
    rl.set_helper(Some(helper::ReplHelper::new(shell.session.store().clone(), color)));
    let empty_line = Arc::new(AtomicBool::new(false));
    rl.bind_sequence(KeyEvent::ctrl('C'), EventHandler::Conditional(Box::new(CtrlC(empty_line.clone()))));
    let history = history_path();
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = rl.load_history(path);
    }
    // Ctrl-C while a query runs: the terminal is not in raw mode then, so the
    // key arrives as SIGINT; cancel the query instead of dying.
    let cancel = shell.session.cancel.clone();
    let _ = ctrlc::set_handler(move || cancel.cancel());

    print!("{welcome}");
    let mut armed = false;
    // When the prompt after a statement appeared: a Ctrl-C within a moment
    // of it was meant for the statement (it landed as the statement ended),
    // so it does not count toward leaving.
    let mut after_statement: Option<std::time::Instant> = None;
    loop {
        let prompt = if shell.pending().is_empty() { shell.prompt() } else { shell.continuation_prompt() };
        if let Some(h) = rl.helper_mut() {
            h.pending = shell.pending().to_string();
            h.params = shell.session.params.keys().cloned().collect();
        }
        let (columns, rows) = rl.dimensions().map_or((80, 24), |(c, r)| (usize::from(c), usize::from(r)));
        shell.terminal_width = Some(if columns < 20 { 80 } else { columns });
        let result = rl.readline(&prompt);
        let carried_over = after_statement.take().is_some_and(|t| t.elapsed() < CARRY_OVER);
        match result {
            Ok(text) => {
                armed = false;
                // A paste or a recalled entry may hold several lines.
                for line in text.split('\n') {
                    let Some(input) = shell.gather(line) else { continue };
                    let entry = match &input {
                        input::Input::Meta(m) => m.clone(),
                        input::Input::Statements(s) => s.trim_end().to_string(),
                    };
                    if rl.add_history_entry(entry.as_str()).unwrap_or(false)
                        && let Some(path) = &history
                    {
                        let _ = rl.append_history(path);
                    }
                    let stdout_terminal = io::stdout().is_terminal();
                    let height = (shell.settings.pager && stdout_terminal).then_some(rows);
                    let mut out = pager::Pager::new(height);
                    let stderr = io::stderr();
                    let mut err = stderr.lock();
                    let outcome = shell.dispatch(input, &mut Io { out: &mut out, err: &mut err });
                    out.finish()?;
                    after_statement = Some(std::time::Instant::now());
                    if outcome == Outcome::Quit && may_leave(&mut rl, shell)? {
                        return Ok(());
                    }
                }
            }
            Err(ReadlineError::Interrupted) => {
                let was_empty = empty_line.swap(false, Ordering::AcqRel) && shell.pending().is_empty();
                shell.clear_pending();
                if carried_over || !was_empty {
                    armed = false;
                } else if armed {
                    if may_leave(&mut rl, shell)? {
                        break;
                    }
                    armed = false;
                } else {
                    armed = true;
                    eprintln!("(Ctrl-C again or Ctrl-D to leave)");
                }
            }
            Err(ReadlineError::Eof) => {
                if may_leave(&mut rl, shell)? {
                    break;
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Whether to leave: yes, unless a transaction block is open and the user
/// does not confirm discarding it. A second end of input at the question
/// leaves too (the terminal may be gone), saying what was discarded.
fn may_leave(rl: &mut Editor<helper::ReplHelper, FileHistory>, shell: &mut Shell) -> Result<bool, ReplError> {
    if !shell.session.in_transaction() {
        return Ok(true);
    }
    let n = shell.session.queued_statements();
    let question =
        format!("The open transaction holds {n} queued statement(s). Leave and discard them? [y/N] ");
    let leave = match rl.readline(&question) {
        Ok(answer) => matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"),
        Err(ReadlineError::Eof) => true,
        Err(ReadlineError::Interrupted) => false,
        Err(e) => return Err(e.into()),
    };
    if leave {
        shell.session.discard_transaction();
        eprintln!("discarded {n} queued statement(s); nothing was committed");
    } else {
        eprintln!("(still in the transaction: COMMIT or ROLLBACK it)");
    }
    Ok(leave)
}

/// Reads statements and commands from `input` (not a terminal) until its end
/// or `:quit`; results go to stdout, errors to stderr.
pub fn piped(shell: &mut Shell, input: impl BufRead) -> Result<Outcome, ReplError> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let stderr = io::stderr();
    let mut err = stderr.lock();
    let mut io = Io { out: &mut out, err: &mut err };
    let mut outcome = Outcome::Ok;
    for line in input.lines() {
        match shell.line(&line?, &mut io) {
            Outcome::Quit => return Ok(Outcome::Quit),
            Outcome::Failed => outcome = Outcome::Failed,
            Outcome::Ok => {}
        }
        io.out.flush()?;
    }
    if let Some(rest) = shell.finish_input()
        && shell.dispatch(rest, &mut io) == Outcome::Failed
    {
        outcome = Outcome::Failed;
    }
    if shell.end_of_input(&mut io) == Outcome::Failed {
        outcome = Outcome::Failed;
    }
    io.out.flush()?;
    Ok(outcome)
}
