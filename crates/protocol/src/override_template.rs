//! The variables of a domain's custom desktop or mobile XML, as the seed names them:
//! `%EmailAddress%`, `%Base64EmailAddress%`, `%DisplayName%` and `%LegacyDN%`.

use std::borrow::Cow;

use base64::Engine;

use crate::xml_writer::escape_attribute;

/// The values a custom answer may refer to. None is ever empty (a display name falls back to the
/// address, a LegacyDN to the derived one): an empty value would let the template's own
/// characters on either side of a variable join (`-` and `--` into `--->` inside a comment).
#[derive(Debug, Clone, Copy)]
pub struct TemplateValues<'a> {
    pub email_address: &'a str,
    pub display_name: &'a str,
    pub legacy_dn: &'a str,
}

/// Replaces each variable (names matched ignoring ASCII case) with its XML-escaped value, in one
/// pass (see [`crate::placeholders::replace`]). Values are escaped for attributes, quotes
/// included, since a template may put a variable inside one.
pub fn substitute(template: &str, values: &TemplateValues<'_>) -> String {
    crate::placeholders::replace(template, |name| {
        value_of(name, values).map(|value| Cow::Owned(guard_hyphens(&escape_attribute(&value))))
    })
    .into_owned()
}

/// Writes as `&#45;` each hyphen that could make `--` with a neighbour (in the value, or in the
/// template around it): inside an XML comment that would end the document's well-formedness.
/// Everywhere else the reference reads as the same hyphen.
fn guard_hyphens(value: &str) -> String {
    let characters: Vec<char> = value.chars().collect();
    let last = characters.len().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (i, &c) in characters.iter().enumerate() {
        let risky = c == '-'
            && (i == 0
                || i == last
                || characters[i - 1] == '-'
                || characters.get(i + 1) == Some(&'-'));
        if risky {
            out.push_str("&#45;");
        } else {
            out.push(c);
        }
    }
    out
}

fn value_of(name: &str, values: &TemplateValues<'_>) -> Option<String> {
    let known = [
        ("EmailAddress", values.email_address.to_string()),
        (
            "Base64EmailAddress",
            base64::engine::general_purpose::STANDARD.encode(values.email_address),
        ),
        ("DisplayName", values.display_name.to_string()),
        ("LegacyDN", values.legacy_dn.to_string()),
    ];
    known
        .into_iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: TemplateValues<'static> = TemplateValues {
        email_address: "j@x.y",
        display_name: "A <&> %EmailAddress%",
        legacy_dn: "/o=x/cn=j",
    };

    #[test]
    fn values_cannot_end_a_comment_early() {
        let values = TemplateValues {
            email_address: "-a--b-c-",
            ..VALUES
        };
        assert_eq!(
            substitute("<!--%EmailAddress%-->", &values),
            "<!--&#45;a&#45;&#45;b-c&#45;-->"
        );
    }

    #[test]
    fn replaces_every_variable_once_and_escapes() {
        let out = substitute(
            "<a>%EmailAddress%|%base64emailaddress%|%DisplayName%|%LegacyDN%</a>",
            &VALUES,
        );
        assert_eq!(
            out,
            "<a>j@x.y|akB4Lnk=|A &lt;&amp;&gt; %EmailAddress%|/o=x/cn=j</a>"
        );
    }

    #[test]
    fn leaves_unknown_and_unpaired_percent_signs() {
        assert_eq!(substitute("100% %Other% %", &VALUES), "100% %Other% %");
        assert_eq!(substitute("%%EmailAddress%", &VALUES), "%j@x.y");
        assert_eq!(substitute("", &VALUES), "");
    }
}
