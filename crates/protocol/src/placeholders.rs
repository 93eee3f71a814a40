//! `%NAME%` placeholders, as autoconfig patterns and custom answers use them.

use std::borrow::Cow;

/// Replaces each `%NAME%` for which `value_of(NAME)` gives a value, in one left-to-right pass:
/// a value that itself contains a placeholder is not expanded again, and text that merely looks
/// like one is left alone.
///
/// Text without a `%` is returned as it is, without a copy (most host names and patterns).
pub fn replace<'t, 'v>(
    text: &'t str,
    value_of: impl Fn(&str) -> Option<Cow<'v, str>>,
) -> Cow<'t, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let replaced = after
            .find('%')
            .and_then(|end| value_of(&after[..end]).map(|value| (value, end)));
        match replaced {
            Some((value, end)) => {
                out.push_str(&value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_only_known_names() {
        let value_of = |name: &str| (name == "A").then_some(Cow::Borrowed("%A%!"));
        assert_eq!(replace("x%A%y%B%z%", value_of), "x%A%!y%B%z%");
        assert_eq!(replace("%%A%", value_of), "%%A%!");
        assert_eq!(replace("", value_of), "");
    }
}
