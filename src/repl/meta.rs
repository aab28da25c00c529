//! Meta commands: `:`-prefixed lines the REPL handles itself (settings,
//! parameters, time travel for the session, transactions, scripts, help).
//! A mistyped name gets a "did you mean" hint.

use super::help;
use super::shell::{Io, Outcome, Shell};
use crate::model::{Date, DayRange, Timestamp, closest};
use crate::query::{AsOf, QueryResult, Value};
use crate::render::{self, Expanded, Format, Shape};

/// A meta command: its name, arguments and one line of help.
pub struct Command {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
    /// Left out of `:help` (synonyms).
    pub hidden: bool,
}

const fn cmd(name: &'static str, args: &'static str, help: &'static str) -> Command {
    Command { name, args, help, hidden: false }
}

const fn alias(name: &'static str) -> Command {
    Command { name, args: "", help: "", hidden: true }
}

/// Every meta command.
pub const COMMANDS: &[Command] = &[
    cmd("help", "[topic]", "this help, or help on a statement kind"),
    cmd("format", "[table|csv|json|jsonl|markdown|line|dot]", "how results are written"),
    cmd("timing", "[on|off]", "show how long each statement took"),
    cmd("expanded", "[on|off|auto]", "one field per line, like psql's \\x"),
    cmd("max_rows", "[N|off]", "the most rows a table shows"),
    cmd("max_width", "[N|auto]", "the width tables fit (auto: the terminal's)"),
    cmd("pager", "[on|off]", "page long results through $PAGER"),
    cmd("explain", "<query>", "how a query runs"),
    cmd("source", "<file.cg>", "run a script of ;-separated statements"),
    cmd("param", "<name> => <value>", "set $name for the statements that follow"),
    cmd("params", "[clear]", "list (or drop) the parameters"),
    cmd("begin", "[message]", "open a transaction"),
    cmd("commit", "", "commit the open transaction"),
    cmd("rollback", "", "drop the open transaction"),
    cmd("author", "[name]", "who your writes are recorded as (show, or set)"),
    cmd("asof", "[TX|timestamp|off]", "read the store as it stood then"),
    cmd("valid", "[DATE|DATE .. DATE|off]", "keep only claims valid then"),
    cmd("schema", "", "kinds and predicates, with counts"),
    cmd("stats", "", "counts of what the store holds"),
    cmd("quit", "", "leave (also :exit, \\q and Ctrl-D)"),
    alias("exit"),
    alias("q"),
];

/// The command a name means, or a hint at the one meant.
fn lookup(name: &str) -> Result<&'static Command, String> {
    let lower = name.to_ascii_lowercase();
    if let Some(c) = COMMANDS.iter().find(|c| c.name == lower) {
        return Ok(c);
    }
    let starts: Vec<&Command> = COMMANDS.iter().filter(|c| c.name.starts_with(&lower)).collect();
    let hint = match starts.as_slice() {
        [one] => Some(one.name),
        _ => closest(&lower, COMMANDS.iter().map(|c| c.name)),
    };
    Err(match hint {
        Some(h) => format!("unknown command `:{name}`, did you mean `:{h}`?"),
        None => format!("unknown command `:{name}` (:help lists the commands)"),
    })
}

/// Runs one meta command line (`:name args`, or `\q`).
pub fn run(shell: &mut Shell, line: &str, io: &mut Io<'_>) -> Outcome {
    let line = line.trim();
    if line == "\\q" {
        return Outcome::Quit;
    }
    let Some(body) = line.strip_prefix(':') else {
        return shell.complain(&format!("unknown command `{line}` (commands start with `:`)"), io);
    };
    let (name, args) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let args = args.trim();
    let command = match lookup(name) {
        Ok(c) => c,
        Err(message) => return shell.complain(&message, io),
    };
    match command.name {
        "quit" | "exit" | "q" => Outcome::Quit,
        "help" => help_command(shell, args, io),
        "format" => format(shell, args, io),
        "timing" => switch(shell, args, io, "timing", |s| &mut s.settings.timing),
        "pager" => switch(shell, args, io, "pager", |s| &mut s.settings.pager),
        "expanded" => expanded(shell, args, io),
        "max_rows" => limit(shell, args, io, "max_rows", "off"),
        "max_width" => limit(shell, args, io, "max_width", "auto"),
        "explain" if args.is_empty() => shell.complain(":explain needs a query", io),
        "explain" => shell.statements(&format!("EXPLAIN {}", args.trim_end_matches(';')), io),
        "source" => source(shell, args, io),
        "param" => param(shell, args, io),
        "params" => params(shell, args, io),
        "begin" if args.is_empty() => shell.statement("BEGIN", io),
        "begin" => shell.statement(&format!("BEGIN MESSAGE {}", quote(args)), io),
        "commit" => shell.statement("COMMIT", io),
        "rollback" => shell.statement("ROLLBACK", io),
        "author" if args.is_empty() => say(io, &format!("writes are recorded as {}", shell.session.author)),
        "author" => {
            shell.session.set_author(args);
            say(io, &format!("writes are now recorded as {args}"))
        }
        "asof" => asof(shell, args, io),
        "valid" => valid(shell, args, io),
        "schema" => schema(shell, io),
        "stats" => shell.statement("STATS", io),
        _ => shell.complain(&format!("`:{name}` is not available"), io),
    }
}

fn say(io: &mut Io<'_>, text: &str) -> Outcome {
    let _ = writeln!(io.out, "{text}");
    Outcome::Ok
}

/// A string literal of the query language.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn help_command(shell: &Shell, args: &str, io: &mut Io<'_>) -> Outcome {
    if args.is_empty() {
        return say(io, help::overview().trim_end());
    }
    if let Some(t) = help::find(args) {
        return say(io, help::topic(t).trim_end());
    }
    if let Ok(c) = lookup(args.trim_start_matches(':')) {
        return say(io, &format!(":{} {}\n  {}", c.name, c.args, c.help));
    }
    let names: Vec<&str> = help::TOPICS.iter().map(|t| t.name).collect();
    shell.complain(&format!("no help on `{args}`; topics: {}", names.join(", ")), io)
}

fn format(shell: &mut Shell, args: &str, io: &mut Io<'_>) -> Outcome {
    if args.is_empty() {
        return say(io, &format!("format is {}", shell.settings.format.name()));
    }
    match Format::parse(args) {
        Some(f) => {
            shell.settings.format = f;
            say(io, &format!("format is {}", f.name()))
        }
        None => shell.complain(&format!("unknown format `{args}`: use {}", Format::names()), io),
    }
}

fn on_off(word: &str) -> Option<bool> {
    match word.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// `:timing`, `:pager`: on, off, or (no argument) toggle.
fn switch(
    shell: &mut Shell,
    args: &str,
    io: &mut Io<'_>,
    name: &str,
    field: fn(&mut Shell) -> &mut bool,
) -> Outcome {
    let value = if args.is_empty() { Some(!*field(shell)) } else { on_off(args) };
    match value {
        Some(v) => {
            *field(shell) = v;
            say(io, &format!("{name} is {}", if v { "on" } else { "off" }))
        }
        None => shell.complain(&format!(":{name} takes on or off, not `{args}`"), io),
    }
}

fn expanded(shell: &mut Shell, args: &str, io: &mut Io<'_>) -> Outcome {
    let value = match args.to_ascii_lowercase().as_str() {
        "" if shell.settings.expanded == Expanded::On => Expanded::Off,
        "" => Expanded::On,
        "auto" => Expanded::Auto,
        other => match on_off(other) {
            Some(true) => Expanded::On,
            Some(false) => Expanded::Off,
            None => return shell.complain(&format!(":expanded takes on, off or auto, not `{args}`"), io),
        },
    };
    shell.settings.expanded = value;
    let name = match value {
        Expanded::On => "on",
        Expanded::Off => "off",
        Expanded::Auto => "auto",
    };
    say(io, &format!("expanded is {name}"))
}

/// `:max_rows N|off` and `:max_width N|auto` (0 means no limit / auto).
fn limit(shell: &mut Shell, args: &str, io: &mut Io<'_>, name: &str, none: &str) -> Outcome {
    let current = if name == "max_rows" { shell.settings.max_rows } else { shell.settings.max_width };
    let describe = |v: Option<usize>| v.map_or(none.to_string(), |n| n.to_string());
    if args.is_empty() {
        return say(io, &format!("{name} is {}", describe(current)));
    }
    let value = if args.eq_ignore_ascii_case(none) || args == "0" || args.eq_ignore_ascii_case("all") {
        None
    } else {
        match args.parse::<usize>() {
            Ok(n) if name == "max_width" && n < 20 => {
                return shell.complain(":max_width needs at least 20 columns", io);
            }
            Ok(n) => Some(n),
            Err(_) => return shell.complain(&format!(":{name} takes a number or {none}, not `{args}`"), io),
        }
    };
    if name == "max_rows" {
        shell.settings.max_rows = value;
    } else {
        shell.settings.max_width = value;
    }
    say(io, &format!("{name} is {}", describe(value)))
}

fn source(shell: &mut Shell, args: &str, io: &mut Io<'_>) -> Outcome {
    if args.is_empty() {
        return shell.complain(":source needs a file", io);
    }
    let path = args.trim_matches(|c| c == '"' || c == '\'');
    let src = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => return shell.complain(&format!("cannot read {path}: {e}"), io),
    };
    match shell.script(&src, path, io) {
        Ok(s) => say(
            io,
            &format!(
                "{path}: {} statements, {} transactions committed (head is tx {})",
                s.statements,
                s.committed,
                shell.session.store().head()
            ),
        ),
        Err(_) => Outcome::Failed,
    }
}

fn param(shell: &mut Shell, args: &str, io: &mut Io<'_>) -> Outcome {
    let args = args.trim_start_matches('$');
    let (name, rest) = match args.split_once("=>").or_else(|| args.split_once('=')) {
        Some((n, v)) => (n.trim(), v.trim()),
        None => args.split_once(char::is_whitespace).map_or((args, ""), |(n, v)| (n.trim(), v.trim())),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return shell.complain("usage: :param name => value", io);
    }
    if rest.is_empty() {
        return match shell.session.params.get(name) {
            Some(v) => say(io, &format!("${name} = {}", show_value(v))),
            None => shell.complain(&format!("no parameter `${name}`"), io),
        };
    }
    match parse_value(shell, rest) {
        Ok(v) => {
            let shown = show_value(&v);
            shell.session.params.insert(name.to_string(), v);
            say(io, &format!("${name} = {shown}"))
        }
        Err(e) => shell.complain(&e, io),
    }
}

fn params(shell: &mut Shell, args: &str, io: &mut Io<'_>) -> Outcome {
    if args.eq_ignore_ascii_case("clear") {
        shell.session.params.clear();
        return say(io, "parameters cleared");
    }
    if !args.is_empty() {
        return shell.complain(":params takes nothing or `clear`", io);
    }
    let mut names: Vec<&String> = shell.session.params.keys().collect();
    names.sort();
    let rows = names
        .iter()
        .map(|n| vec![Value::String(format!("${n}")), shell.session.params[*n].clone()])
        .collect();
    let result = QueryResult { columns: vec!["name".into(), "value".into()], rows, ..QueryResult::default() };
    show(shell, &result, io)
}

fn show(shell: &Shell, result: &QueryResult, io: &mut Io<'_>) -> Outcome {
    let opts = shell.render_options(Shape::Rows);
    match render::write_result(io.out, result, &opts, None) {
        Ok(()) => Outcome::Ok,
        Err(e) => shell.complain(&format!("cannot write: {e}"), io),
    }
}

fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// A parameter value: 'text', 42, 0.5, true, null, a date or timestamp,
/// @entity, or a [list].
fn parse_value(shell: &Shell, text: &str) -> Result<Value, String> {
    let text = text.trim().trim_end_matches(';').trim();
    let bad =
        || format!("cannot read `{text}` as a value ('text', 42, 0.5, true, 2025-03-04, @entity, [..])");
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let mut items = Vec::new();
        for part in split_top(inner) {
            items.push(parse_value(shell, part)?);
        }
        return Ok(Value::List(items));
    }
    if let Some(q) = text.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let body = text[1..].strip_suffix(q).ok_or_else(bad)?;
        return unescape(body).ok_or_else(bad).map(Value::String);
    }
    if let Some(r) = text.strip_prefix('@') {
        let key = r.trim_matches(|c| c == '"' || c == '\'');
        let view = shell.session.store().snapshot();
        return match view.entity(key) {
            Ok(Some(e)) => Ok(Value::Entity { key: e.key, name: e.name, kind: e.kind }),
            Ok(None) => Err(format!("no entity `@{key}`")),
            Err(e) => Err(e.to_string()),
        };
    }
    match text.to_ascii_lowercase().as_str() {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        "null" => return Ok(Value::Null),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Value::Int(i));
    }
    if let Ok(f) = text.parse::<f64>()
        && f.is_finite()
    {
        return Ok(Value::Float(f));
    }
    if text.contains('T')
        && let Ok(t) = text.parse::<Timestamp>()
    {
        return Ok(Value::Timestamp(t));
    }
    text.parse::<Date>().map(Value::Date).map_err(|_| bad())
}

/// Splits list items at top-level commas (outside quotes and brackets).
fn split_top(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut quote, mut start) = (Vec::new(), 0i32, None, 0);
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        escaped = false;
    }
    let last = s[start..].trim();
    if !last.is_empty() || !parts.is_empty() {
        parts.push(last);
    }
    parts
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            other @ ('\\' | '\'' | '"') => other,
            _ => return None,
        });
    }
    Some(out)
}

fn asof(shell: &mut Shell, args: &str, io: &mut Io<'_>) -> Outcome {
    let head = shell.session.store().head();
    if args.is_empty() {
        return say(
            io,
            &format!("as of: {}", describe_asof(shell.session.as_of).unwrap_or("the head".into())),
        );
    }
    let value = if args.eq_ignore_ascii_case("off") || args.eq_ignore_ascii_case("head") {
        None
    } else {
        let n = args.strip_prefix("tx").or_else(|| args.strip_prefix("TX")).unwrap_or(args).trim();
        if let Ok(tx) = n.parse::<u64>() {
            if tx > head {
                return shell.complain(&format!("tx {tx} is beyond the last transaction (tx {head})"), io);
            }
            Some(AsOf::Tx(tx))
        } else {
            match (args.parse::<Timestamp>(), args.parse::<crate::model::Date>()) {
                (Ok(t), _) => Some(AsOf::Time(t)),
                // A date means the end of that day (or month), UTC, as in `AS OF`.
                (_, Ok(d)) if d.month().is_some() => {
                    Some(AsOf::Time(Timestamp(i64::from(d.end_day()) * 86_400_000_000 - 1)))
                }
                _ => {
                    return shell.complain(
                        &format!(":asof takes a tx number, a date, a timestamp or off, not `{args}`"),
                        io,
                    );
                }
            }
        }
    };
    shell.session.as_of = value;
    say(io, &format!("as of: {}", describe_asof(value).unwrap_or("the head".into())))
}

/// `tx 3` or the timestamp, for the prompt.
pub fn describe_asof(a: Option<AsOf>) -> Option<String> {
    match a? {
        AsOf::Tx(n) => Some(format!("tx {n}")),
        AsOf::Time(t) => Some(t.to_string()),
    }
}

fn valid(shell: &mut Shell, args: &str, io: &mut Io<'_>) -> Outcome {
    if args.is_empty() {
        let now = shell.valid_label.clone().unwrap_or_else(|| "all valid times".into());
        return say(io, &format!("valid: {now}"));
    }
    if args.eq_ignore_ascii_case("off") {
        shell.session.valid = None;
        shell.valid_label = None;
        return say(io, "valid: all valid times");
    }
    let parse = |s: &str| s.trim().parse::<Date>().map_err(|e| e.to_string());
    let range = match args.split_once("..") {
        Some((a, b)) => parse(a).and_then(|a| {
            let b = parse(b)?;
            if a.first_day() >= b.end_day() {
                return Err(format!("{a} .. {b} runs backwards"));
            }
            Ok((DayRange { start: a.first_day(), end: b.end_day() }, format!("{a} .. {b}")))
        }),
        None => parse(args).map(|d| (DayRange::of(d), d.to_string())),
    };
    match range {
        Ok((r, label)) => {
            shell.session.valid = Some(r);
            shell.valid_label = Some(label.clone());
            say(io, &format!("valid: {label}"))
        }
        Err(e) => shell.complain(&format!(":valid takes a date, a range DATE .. DATE, or off: {e}"), io),
    }
}

/// Kinds with their entity counts, then the predicates with claim counts.
fn schema(shell: &mut Shell, io: &mut Io<'_>) -> Outcome {
    let entities = match shell.session.execute("SHOW ENTITIES") {
        Ok(r) => r,
        Err(e) => {
            shell.error(&e, "SHOW ENTITIES", io);
            return Outcome::Failed;
        }
    };
    let mut kinds: std::collections::BTreeMap<String, i64> = Default::default();
    for row in &entities.rows {
        if let (Some(Value::String(kind)), Some(Value::Null)) = (row.get(2), row.get(4)) {
            *kinds.entry(kind.clone()).or_default() += 1;
        }
    }
    let rows = kinds.into_iter().map(|(k, n)| vec![Value::String(k), Value::Int(n)]).collect();
    let result =
        QueryResult { columns: vec!["kind".into(), "entities".into()], rows, ..QueryResult::default() };
    if show(shell, &result, io) == Outcome::Failed {
        return Outcome::Failed;
    }
    shell.statement("SHOW PREDICATES", io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistyped_commands_get_a_hint() {
        assert_eq!(lookup("timng").err().unwrap(), "unknown command `:timng`, did you mean `:timing`?");
        assert_eq!(lookup("tim").err().unwrap(), "unknown command `:tim`, did you mean `:timing`?");
        assert!(lookup("zzzzzz").err().unwrap().contains(":help lists"));
        assert_eq!(lookup("EXIT").ok().map(|c| c.name), Some("exit"));
    }

    #[test]
    fn list_items_split_at_top_level_commas() {
        assert_eq!(split_top("1, 'a,b', [2, 3]"), ["1", "'a,b'", "[2, 3]"]);
        assert_eq!(split_top(""), Vec::<&str>::new());
        assert_eq!(unescape(r"it\'s\n"), Some("it's\n".into()));
    }
}
