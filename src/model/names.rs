//! Naming rules: entity keys, predicate names, case-insensitive name lookup, and
//! "did you mean" suggestions.

/// Folds an entity key to its stored form (keys are case-insensitive).
pub fn fold_key(key: &str) -> String {
    key.to_lowercase()
}

/// Folds a name or alias for case-insensitive lookup.
pub fn fold_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Checks a folded entity key: `[a-z0-9_]+`.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("an entity key cannot be empty".into());
    }
    if let Some(c) = key.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')) {
        return Err(format!("entity key `{key}` may only hold a-z, 0-9 and `_`, found `{c}`"));
    }
    if key.len() > 200 {
        return Err(format!("entity key `{}…` is longer than 200 bytes", &key[..40]));
    }
    Ok(())
}

/// Checks a predicate name: snake_case, `[a-z][a-z0-9_]*`.
pub fn check_predicate(p: &str) -> Result<(), String> {
    let ok = p.len() <= 200
        && p.starts_with(|c: char| c.is_ascii_lowercase())
        && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("predicate `{p}` must be snake_case: a-z first, then a-z, 0-9 or `_`"))
    }
}

/// An entity as a statement refers to it: `@key`, or `@"Name"` when the
/// text is not a key.
pub fn entity_text(key_or_name: &str) -> String {
    if check_key(key_or_name).is_ok() { format!("@{key_or_name}") } else { format!("@{key_or_name:?}") }
}

/// The one wording of a suggestion, appended to an "unknown …" message:
/// `", did you mean `@russia`?"` (entities carry their `@`), or nothing.
pub fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map(|s| format!(", did you mean `{s}`?")).unwrap_or_default()
}

/// The candidate nearest to `word` by edit distance, if it is near enough to be
/// a plausible typo (at most a third of the word's length), else the shortest
/// candidate that `word` begins (an abbreviation). Words under three
/// characters get no suggestion: every short name is "near" them.
pub fn closest<'a, I: IntoIterator<Item = &'a str>>(word: &str, candidates: I) -> Option<&'a str> {
    let len = word.chars().count();
    if len < 3 {
        return None;
    }
    let limit = (len / 3).max(1);
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    let near = candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c);
    near.or_else(|| candidates.iter().filter(|c| c.starts_with(word)).min_by_key(|c| (c.len(), **c)).copied())
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(cur) };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_predicates() {
        assert!(check_key("us_state_department").is_ok());
        assert!(check_key("").is_err());
        assert_eq!(
            check_key("u-s").unwrap_err(),
            "entity key `u-s` may only hold a-z, 0-9 and `_`, found `-`"
        );
        assert!(check_predicate("may_ease_sanctions_on").is_ok());
        assert!(check_predicate("MayEase").is_err());
        assert!(check_predicate("1x").is_err());
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest("rusia", ["russia", "us", "ukraine"]), Some("russia"));
        assert_eq!(closest("zzzzzz", ["russia", "us"]), None);
        assert_eq!(closest("may_ease", ["may_ease_sanctions_on", "made"]), Some("may_ease_sanctions_on"));
        assert_eq!(closest("y", ["a", "b"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}

/// The natural order of identifiers: runs of ASCII digits compare as numbers,
/// so claim ids sort `c3 < c11 < c11_1 < c20`. Every sort of ids (and of
/// strings in ORDER BY) uses this one order. Equal only for identical
/// strings: a tie in numbers (`c01`, `c1`) falls back to the bytes.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        if x[i].is_ascii_digit() && y[j].is_ascii_digit() {
            let run = |s: &[u8], k: usize| k + s[k..].iter().take_while(|c| c.is_ascii_digit()).count();
            let (ie, je) = (run(x, i), run(y, j));
            // Compare the runs as numbers without parsing: strip leading
            // zeros, then the longer run is the bigger number.
            let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
            let (xs, ys) =
                (&x[i + strip(&x[i..ie]).min(ie - i)..ie], &y[j + strip(&y[j..je]).min(je - j)..je]);
            let o = xs.len().cmp(&ys.len()).then_with(|| xs.cmp(ys));
            if o != Ordering::Equal {
                return o;
            }
            (i, j) = (ie, je);
        } else {
            // Compare whole characters (UTF-8 byte order is code point order).
            if x[i] != y[j] {
                return x[i].cmp(&y[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (x.len() - i).cmp(&(y.len() - j)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod natural_tests {
    use super::natural_cmp;
    use std::cmp::Ordering;

    #[test]
    fn digit_runs_compare_as_numbers() {
        let mut ids =
            vec!["c11", "c12", "c18", "c3", "c4", "c46", "c5", "c11_1", "c11_10", "c11_2", "oil1", "c"];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            ids,
            ["c", "c3", "c4", "c5", "c11", "c11_1", "c11_2", "c11_10", "c12", "c18", "c46", "oil1"]
        );
        assert_eq!(natural_cmp("c01", "c1"), "c01".cmp("c1"), "a numeric tie falls back to the bytes");
        assert_ne!(natural_cmp("c01", "c1"), Ordering::Equal);
        assert_eq!(natural_cmp("abc", "abc"), Ordering::Equal);
        assert_eq!(natural_cmp("a99999999999999999999999", "a100000000000000000000000"), Ordering::Less);
        assert_eq!(natural_cmp("Émile", "Zoe"), "Émile".cmp("Zoe"));
    }
}
