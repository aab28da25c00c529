//! The shell behind every way of talking to claimgraph interactively: it owns
//! the [`Session`] and the display settings, runs statements (streaming their
//! rows into a [`Renderer`]), meta commands and sourced scripts, and renders
//! errors with the caret display. The terminal loop, piped input, `:source`
//! and the README tour test all go through [`Shell::input`].

use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::input::{self, Gather, Input};
use super::meta;
use crate::query::{ParseError, QueryError, Session, Span, Statement, parse_statement};
use crate::render::text::{self, Style};
use crate::render::{Expanded, Format, Lookup, Options, Renderer, Shape};

/// How results are shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub format: Format,
    /// Print the elapsed time after each statement.
    pub timing: bool,
    /// The most rows a table shows; `None` for all.
    pub max_rows: Option<usize>,
    /// The width tables fit; `None` for the terminal's (or no limit).
    pub max_width: Option<usize>,
    pub expanded: Expanded,
    pub color: bool,
    /// Colour in error messages (they may go to another stream than results).
    pub error_color: bool,
    /// Page results longer than the screen (interactive only).
    pub pager: bool,
}

impl Settings {
    /// For a person at a terminal.
    pub fn interactive(color: bool) -> Settings {
        Settings {
            format: Format::Table,
            timing: true,
            max_rows: Some(100),
            max_width: None,
            expanded: Expanded::Auto,
            color,
            error_color: color,
            pager: true,
        }
    }

    /// For piped input and output: plain, complete, undecorated.
    pub fn plain() -> Settings {
        Settings {
            format: Format::Table,
            timing: false,
            max_rows: None,
            max_width: None,
            expanded: Expanded::Off,
            color: false,
            error_color: false,
            pager: false,
        }
    }
}

/// Where a command writes: results to `out`, errors and notes to `err`.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// Whether a command went well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    /// The user asked to leave.
    Quit,
}

/// The REPL's state: a session and how to show things.
pub struct Shell {
    pub session: Session,
    pub settings: Settings,
    /// The terminal's width, when there is one (updated by the loop).
    pub terminal_width: Option<usize>,
    /// Statements and commands that failed so far.
    pub failures: usize,
    /// The session's `:valid` setting as the user wrote it.
    pub valid_label: Option<String>,
    gather: Gather,
    /// The script being run (`run FILE`, `:source`), so errors name
    /// `FILE:LINE:COL` in it rather than a spot in one statement.
    origin: Option<Origin>,
}

/// A script and where in it the running statement starts.
struct Origin {
    name: String,
    src: String,
    start: usize,
}

impl Shell {
    pub fn new(session: Session, settings: Settings) -> Shell {
        Shell {
            session,
            settings,
            terminal_width: None,
            failures: 0,
            valid_label: None,
            gather: Gather::default(),
            origin: None,
        }
    }

    /// `claimgraph> `, with the session's time settings and an open
    /// transaction shown: `claimgraph[as of tx 3, valid 2025-02-12]> `.
    pub fn prompt(&self) -> String {
        let mut tags = Vec::new();
        if let Some(a) = meta::describe_asof(self.session.as_of) {
            tags.push(format!("as of {a}"));
        }
        if let Some(v) = &self.valid_label {
            tags.push(format!("valid {v}"));
        }
        if self.session.transaction_aborted() {
            tags.push("transaction aborted".to_string());
        } else if self.session.in_transaction() {
            tags.push("in transaction".to_string());
        }
        if tags.is_empty() {
            "claimgraph> ".to_string()
        } else {
            format!("claimgraph[{}]> ", tags.join(", "))
        }
    }

    /// `..> `, right-aligned under the prompt; inside an unclosed string,
    /// quoted name or comment, its quote shows instead (`"..> `, `*..> `), as
    /// psql does, so Enter leaving the user there says why.
    pub fn continuation_prompt(&self) -> String {
        let width = text::width(&self.prompt());
        match input::open_quote(self.gather.pending()) {
            Some(q) => format!("{}{q}..> ", " ".repeat(width.saturating_sub(5))),
            None => format!("{}..> ", " ".repeat(width.saturating_sub(4))),
        }
    }

    /// The lines of an unfinished statement.
    pub fn pending(&self) -> &str {
        self.gather.pending()
    }

    /// Drops an unfinished statement (Ctrl-C).
    pub fn clear_pending(&mut self) {
        self.gather.clear();
    }

    /// Takes one line of input; returns what it completes, if anything.
    pub fn gather(&mut self, line: &str) -> Option<Input> {
        self.gather.line(line)
    }

    /// The end of the input: an unfinished statement, to run as it is.
    pub fn finish_input(&mut self) -> Option<Input> {
        self.gather.finish()
    }

    /// Takes one line of input and runs what it completes.
    pub fn line(&mut self, line: &str, io: &mut Io<'_>) -> Outcome {
        match self.gather.line(line) {
            None => Outcome::Ok,
            Some(input) => self.dispatch(input, io),
        }
    }

    /// Takes a chunk of text line by line (piped input, the README tour),
    /// stopping at `:quit`; an unfinished last statement runs as it is.
    pub fn input(&mut self, text: &str, io: &mut Io<'_>) -> Outcome {
        let mut outcome = Outcome::Ok;
        for line in text.lines() {
            match self.line(line, io) {
                Outcome::Quit => return Outcome::Quit,
                Outcome::Failed => outcome = Outcome::Failed,
                Outcome::Ok => {}
            }
        }
        if let Some(Outcome::Failed) = self.gather.finish().map(|i| self.dispatch(i, io)) {
            outcome = Outcome::Failed;
        }
        outcome
    }

    /// The input ended: a block still open is discarded, never committed, and
    /// that is an error naming how many queued statements went. (Not part of
    /// [`Shell::input`], whose chunks may continue one session.)
    pub fn end_of_input(&mut self, io: &mut Io<'_>) -> Outcome {
        match self.session.discard_transaction() {
            None => Outcome::Ok,
            Some(n) => {
                self.failures += 1;
                self.complain(
                    &format!(
                        "the input ended inside an open transaction: discarded {n} queued statement(s) \
                         (end the block with COMMIT or ROLLBACK)"
                    ),
                    io,
                )
            }
        }
    }

    /// Runs a finished input.
    pub fn dispatch(&mut self, input: Input, io: &mut Io<'_>) -> Outcome {
        let outcome = match input {
            Input::Meta(line) => meta::run(self, &line, io),
            Input::Statements(src) => self.statements(&src, io),
        };
        if outcome == Outcome::Failed {
            self.failures += 1;
        }
        outcome
    }

    /// Runs `;`-separated statements, stopping at the first that fails.
    pub fn statements(&mut self, src: &str, io: &mut Io<'_>) -> Outcome {
        let chunks = input::split(src);
        for (i, chunk) in chunks.iter().enumerate() {
            if self.statement(chunk.text, io) == Outcome::Failed {
                let rest = chunks.len() - i - 1;
                if rest > 0 {
                    let _ = writeln!(io.err, "({rest} statement(s) after it were not run)");
                }
                return Outcome::Failed;
            }
        }
        Outcome::Ok
    }

    /// The render options for a result of `shape`.
    pub fn render_options(&self, shape: Shape) -> Options {
        Options {
            format: self.settings.format,
            max_rows: self.settings.max_rows,
            max_width: self.settings.max_width.or(self.terminal_width),
            expanded: self.settings.expanded,
            color: self.settings.color,
            shape,
        }
    }

    /// Parses and runs one statement, writing its result.
    pub fn statement(&mut self, src: &str, io: &mut Io<'_>) -> Outcome {
        let stmt = match parse_statement(src) {
            Ok(s) => s,
            Err(e) => {
                self.error(&QueryError::Parse(e), src, io);
                return Outcome::Failed;
            }
        };
        self.run_parsed(&stmt, src, io)
    }

    /// Runs a parsed statement; `src` is the text its spans point into.
    pub fn run_parsed(&mut self, stmt: &Statement, src: &str, io: &mut Io<'_>) -> Outcome {
        let store = self.session.store().clone();
        let view = store.snapshot();
        let lookup: &dyn Lookup = &view;
        let opts = self.render_options(Shape::of(stmt));
        let started = Instant::now();
        let mut renderer = Renderer::new(&mut *io.out, opts, Some(lookup));
        let mut write_error: Option<io::Error> = None;
        // A Ctrl-C that reached the handler while the prompt was up was for
        // the prompt (or a statement already over), not for this statement.
        self.session.cancel.reset();
        let result =
            self.session.run_streaming(stmt, src, &mut |columns, row| match renderer.row(columns, row) {
                Ok(()) => Ok(true),
                Err(e) => {
                    write_error = Some(e);
                    Ok(false)
                }
            });
        let elapsed = started.elapsed();
        let finished = match (result, write_error) {
            (Err(e), _) => {
                // Rows already streamed stay a well-formed document.
                let _ = renderer.abort();
                self.error(&e, src, io);
                return Outcome::Failed;
            }
            // A reader that went away (a pager that was quit) is not an error.
            (Ok(_), Some(e)) if e.kind() == io::ErrorKind::BrokenPipe => return Outcome::Ok,
            (Ok(_), Some(e)) => Err(e),
            (Ok(r), None) => renderer.finish(&r),
        };
        match finished {
            Ok(()) => {
                self.timing(elapsed, io);
                Outcome::Ok
            }
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Ok,
            Err(e) => {
                let _ = writeln!(io.err, "error: cannot write the result: {e}");
                Outcome::Failed
            }
        }
    }

    /// `Time: 1.234 ms`, when timing is on.
    pub fn timing(&self, elapsed: Duration, io: &mut Io<'_>) {
        if self.settings.timing {
            let ms = elapsed.as_secs_f64() * 1e3;
            let line = text::paint(&format!("Time: {ms:.3} ms"), Style::Dim, self.settings.color);
            let _ = writeln!(io.out, "{line}");
        }
    }

    /// Writes an error with the caret display (inside a script, located
    /// in the script: `--> FILE:LINE:COL`).
    pub fn error(&self, e: &QueryError, src: &str, io: &mut Io<'_>) {
        let _ = io.out.flush();
        let text = match (e, self.located(e)) {
            (_, Some(text)) => paint_error(&text, self.settings.error_color),
            (QueryError::Cancelled, None) => "cancelled".to_string(),
            (other, None) => paint_error(&other.render(src), self.settings.error_color),
        };
        let _ = writeln!(io.err, "{text}");
    }

    /// `e` rendered against the whole script, its location as `FILE:LINE:COL`
    /// (a runtime error gets the statement's start); `None` outside a script.
    fn located(&self, e: &QueryError) -> Option<String> {
        let o = self.origin.as_ref()?;
        let at = |offset: usize| ParseError::at(&o.src, offset, String::new(), Vec::new(), String::new());
        let (rendered, spot) = match e {
            QueryError::Parse(p) => {
                let q = ParseError::at(
                    &o.src,
                    o.start + p.offset,
                    p.found.clone(),
                    p.expected.clone(),
                    p.message.clone(),
                );
                (q.render(&o.src), q)
            }
            QueryError::Semantic { span, message } => {
                let shifted = Span::new(span.start + o.start, span.end + o.start);
                let e = QueryError::Semantic { span: shifted, message: message.clone() };
                (e.render(&o.src), at(shifted.start))
            }
            QueryError::Cancelled => ("cancelled".to_string(), at(o.start)),
            other => (format!("error: {other}"), at(o.start)),
        };
        let place = format!("{}:{}:{}", o.name, spot.line, spot.column);
        let old = format!("--> line {}, column {}", spot.line, spot.column);
        Some(if rendered.contains(&old) {
            rendered.replacen(&old, &format!("--> {place}"), 1)
        } else {
            format!("{rendered}\n --> {place}")
        })
    }

    /// Runs a script file (`claimgraph run`): statement by statement, so a
    /// statement that does not parse fails alone; stops at the first failure
    /// unless `fail_at_end`. Returns how many statements failed.
    pub fn run_file(&mut self, src: &str, name: &str, fail_at_end: bool, io: &mut Io<'_>) -> usize {
        let previous = self.origin.replace(Origin { name: name.to_string(), src: src.to_string(), start: 0 });
        let mut failures = 0;
        for chunk in input::split(src) {
            if let Some(o) = &mut self.origin {
                o.start = chunk.start;
            }
            if self.statement(chunk.text, io) == Outcome::Failed {
                failures += 1;
                if !fail_at_end {
                    break;
                }
            }
        }
        self.origin = previous;
        failures
    }

    /// Writes a one-line error of a meta command.
    pub fn complain(&self, message: &str, io: &mut Io<'_>) -> Outcome {
        let _ = io.out.flush();
        let head = text::paint("error:", Style::Red, self.settings.error_color);
        let _ = writeln!(io.err, "{head} {message}");
        Outcome::Failed
    }

    /// Runs a script (`:source`): reads print their results, writes and
    /// notes stay quiet, the first failure stops it (rolling back a
    /// transaction the script opened) after its error was written.
    pub fn script(&mut self, src: &str, name: &str, io: &mut Io<'_>) -> Result<ScriptSummary, ScriptError> {
        let previous = self.origin.replace(Origin { name: name.to_string(), src: src.to_string(), start: 0 });
        let result = self.script_statements(src, name, io);
        self.origin = previous;
        result
    }

    fn script_statements(
        &mut self,
        src: &str,
        name: &str,
        io: &mut Io<'_>,
    ) -> Result<ScriptSummary, ScriptError> {
        let was_open = self.session.in_transaction();
        let head_before = self.session.store().head();
        let mut summary = ScriptSummary::default();
        for chunk in input::split(src) {
            if let Some(o) = &mut self.origin {
                o.start = chunk.start;
            }
            let ok = match parse_statement(chunk.text) {
                Err(e) => {
                    self.error(&QueryError::Parse(e), chunk.text, io);
                    false
                }
                Ok(stmt) if stmt.is_read() => self.run_parsed(&stmt, chunk.text, io) != Outcome::Failed,
                Ok(stmt) => match self.session.run(&stmt, chunk.text) {
                    Ok(_) => true,
                    Err(e) => {
                        self.error(&e, chunk.text, io);
                        false
                    }
                },
            };
            summary.statements += 1;
            if !ok {
                let line = input::line_of(src, chunk.start);
                let _ = writeln!(io.err, "(in {name}, statement {} at line {line})", summary.statements);
                if self.session.in_transaction() && !was_open {
                    let _ = self.session.execute("ROLLBACK");
                    let _ = writeln!(io.err, "rolled back the transaction the script opened");
                }
                return Err(ScriptError { statement: summary.statements, line });
            }
        }
        summary.committed = self.session.store().head() - head_before;
        Ok(summary)
    }
}

/// What a sourced script did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptSummary {
    pub statements: usize,
    pub committed: u64,
}

/// Where a script stopped (its error has been written already).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("statement {statement} (line {line}) failed")]
pub struct ScriptError {
    pub statement: usize,
    pub line: usize,
}

/// Colours the caret display: the `error:` headline and the caret in red.
pub fn paint_error(rendered: &str, color: bool) -> String {
    if !color {
        return rendered.to_string();
    }
    let mut out = Vec::new();
    for line in rendered.lines() {
        if let Some(rest) = line.strip_prefix("error:") {
            out.push(format!(
                "{}{}",
                text::paint("error:", Style::Red, true),
                text::paint(rest, Style::Bold, true)
            ));
        } else if let Some((gutter, caret)) = line.split_once(" | ")
            && caret.trim() == "^"
        {
            out.push(format!("{gutter} | {}", text::paint(caret, Style::Red, true)));
        } else {
            out.push(line.to_string());
        }
    }
    out.join("\n")
}
