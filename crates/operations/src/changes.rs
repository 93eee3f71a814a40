//! Short before/after summaries of a change, for the audit log: the fields that differ between
//! two JSON forms of a thing, secrets named but never shown.

use serde::Serialize;
use serde_json::Value;

/// Longest value shown; longer ones are cut with `…`.
const MAX_VALUE_CHARS: usize = 60;
/// Most differences listed; the rest are counted.
const MAX_DIFFERENCES: usize = 12;

/// Whether a field holds a secret (its value is never written anywhere).
pub fn is_secret(field: &str) -> bool {
    let field = field.to_ascii_lowercase();
    [
        "password",
        "secret",
        "hash",
        "token",
        "credential",
        "private",
        "key_pem",
    ]
    .iter()
    .any(|word| field.contains(word))
}

/// `path: before → after; ...` for every field that differs; secrets as `path changed`.
pub fn between(before: &impl Serialize, after: &impl Serialize) -> String {
    let (Ok(before), Ok(after)) = (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return "changed".to_string();
    };
    let mut old = Vec::new();
    let mut new = Vec::new();
    flatten("", &before, &mut old);
    flatten("", &after, &mut new);
    let old: std::collections::BTreeMap<String, String> = old.into_iter().collect();
    let new: std::collections::BTreeMap<String, String> = new.into_iter().collect();
    let mut paths: Vec<&String> = old.keys().chain(new.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut differences = Vec::new();
    for path in paths {
        let (was, is) = (old.get(path), new.get(path));
        if was == is {
            continue;
        }
        differences.push(if is_secret(path) {
            format!("{path} changed")
        } else {
            format!("{path}: {} → {}", shown(was), shown(is))
        });
    }
    summarise(differences)
}

/// `path: value; ...` for the fields of something new (or removed); secrets left out, empty
/// values skipped.
pub fn fields(thing: &impl Serialize) -> String {
    let Ok(value) = serde_json::to_value(thing) else {
        return String::new();
    };
    let mut all = Vec::new();
    flatten("", &value, &mut all);
    summarise(
        all.into_iter()
            .filter(|(path, value)| !is_secret(path) && !value.is_empty() && value != "null")
            .map(|(path, value)| format!("{path}: {}", shown(Some(&value))))
            .collect(),
    )
}

fn summarise(differences: Vec<String>) -> String {
    if differences.is_empty() {
        return "no change".to_string();
    }
    let more = differences.len().saturating_sub(MAX_DIFFERENCES);
    let mut summary = differences
        .into_iter()
        .take(MAX_DIFFERENCES)
        .collect::<Vec<_>>()
        .join("; ");
    if more > 0 {
        summary.push_str(&format!("; and {more} more"));
    }
    summary
}

fn shown(value: Option<&String>) -> String {
    match value {
        None => "(none)".to_string(),
        Some(v) if v.chars().count() > MAX_VALUE_CHARS => {
            let cut: String = v.chars().take(MAX_VALUE_CHARS).collect();
            format!("{cut}…")
        }
        Some(v) => v.clone(),
    }
}

/// Every scalar of `value` by its path (`protocols.imap.port`, `aliases[1]`).
fn flatten(path: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten(&child, value, out);
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                out.push((path.to_string(), "[]".to_string()));
            }
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), item, out);
            }
        }
        Value::String(s) => out.push((
            path.to_string(),
            s.chars().filter(|c| !c.is_control()).collect(),
        )),
        other => out.push((path.to_string(), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_are_listed_and_secrets_only_named() {
        let before = json!({"port": 993, "host": "mail", "bind_password": "s3cret", "aliases": []});
        let after = json!({"port": 143, "host": "mail", "bind_password": "other", "aliases": ["a.example"]});
        let summary = between(&before, &after);
        assert_eq!(
            summary,
            "aliases: [] → (none); aliases[0]: (none) → a.example; bind_password changed; port: 993 → 143"
        );
        assert!(!summary.contains("s3cret") && !summary.contains("other"));
        assert_eq!(between(&before, &before), "no change");
    }

    #[test]
    fn new_things_are_described_without_secrets_or_blanks() {
        let user = json!({"address": "jo@example.com", "password_hash": "$argon2id$x", "display_name": ""});
        assert_eq!(fields(&user), "address: jo@example.com");
    }

    #[test]
    fn long_values_and_long_lists_are_cut() {
        let before = json!({"text": "a".repeat(100)});
        let after = json!({"text": "b"});
        assert!(between(&before, &after).contains(&format!("{}… → b", "a".repeat(60))));
        let many: serde_json::Map<String, Value> =
            (0..20).map(|i| (format!("f{i:02}"), json!(i))).collect();
        let summary = fields(&Value::Object(many));
        assert!(summary.ends_with("; and 8 more"), "{summary}");
    }
}
