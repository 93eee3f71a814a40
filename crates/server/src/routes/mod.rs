//! One module per family of endpoints.

pub mod autodiscover_json;
pub mod autodiscover_xml;
pub mod health;

/// The first value of any of `names` in a query string, names matched ignoring ASCII case.
pub fn query_value(query: Option<&str>, names: &[&str]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    pairs
        .into_iter()
        .find(|(key, _)| names.iter().any(|n| n.eq_ignore_ascii_case(key)))
        .map(|(_, value)| value)
        .filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_ignore_case_and_decode() {
        let q = Some("protocol=ActiveSync&EMAIL=jo%40x.y&x=1");
        assert_eq!(query_value(q, &["Email"]).as_deref(), Some("jo@x.y"));
        assert_eq!(query_value(q, &["Protocol"]).as_deref(), Some("ActiveSync"));
        assert_eq!(query_value(q, &["missing"]), None);
        assert_eq!(query_value(None, &["Email"]), None);
        assert_eq!(query_value(Some("email="), &["Email"]), None);
    }
}
