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
