//! Apple's XML property lists, as configuration profiles carry them.

use crate::xml_reader::{self, Limits};
use crate::xml_writer::XmlWriter;

const PLIST_DOCTYPE: &str = "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">";

/// A property list value. Dictionary keys come from code, never from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    String(String),
    Integer(i64),
    Bool(bool),
    Array(Vec<Value>),
    Dict(Vec<(&'static str, Value)>),
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::String(value.to_string())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<u16> for Value {
    fn from(value: u16) -> Self {
        Self::Integer(i64::from(value))
    }
}

/// Writes `root` as an XML property list.
pub fn write(root: &Value) -> String {
    let mut w = XmlWriter::with_doctype(PLIST_DOCTYPE);
    w.open_with("plist", &[("version", "1.0")]);
    write_value(&mut w, root);
    w.finish()
}

fn write_value(w: &mut XmlWriter, value: &Value) {
    match value {
        Value::String(s) => {
            w.text("string", s);
        }
        Value::Integer(i) => {
            w.number("integer", *i);
        }
        Value::Bool(true) => {
            w.empty("true", &[]);
        }
        Value::Bool(false) => {
            w.empty("false", &[]);
        }
        Value::Array(items) => {
            w.open("array");
            for item in items {
                write_value(w, item);
            }
            w.close();
        }
        Value::Dict(entries) => {
            w.open("dict");
            for (key, item) in entries {
                w.text("key", key);
                write_value(w, item);
            }
            w.close();
        }
    }
}

/// Why `document` is not a property list as [`write`] makes them, if it is not: Apple's
/// document type (the only one accepted: the XML reader refuses every other), then a well-formed
/// `<plist>` element.
pub fn problem(document: &str) -> Option<String> {
    let Some(at) = document.find(PLIST_DOCTYPE) else {
        return Some("no Apple property list document type".into());
    };
    let body = format!(
        "{}{}",
        &document[..at],
        &document[at + PLIST_DOCTYPE.len()..]
    );
    let limits = Limits {
        max_depth: 64,
        max_elements: 100_000,
        max_attributes: 16,
        max_text_bytes: 1 << 20,
    };
    match xml_reader::parse(body.as_bytes(), limits) {
        Ok(root) if root.name == "plist" => None,
        Ok(root) => Some(format!("the root element is <{}>, not <plist>", root.name)),
        Err(e) => Some(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_values_escaped() {
        let doc = write(&Value::Dict(vec![
            ("Name", "a<b>&c".into()),
            ("Port", 993u16.into()),
            ("SSL", true.into()),
            (
                "List",
                Value::Array(vec![Value::Dict(vec![("X", false.into())])]),
            ),
        ]));
        assert!(doc.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE plist"));
        assert!(doc.contains("<key>Name</key>\n    <string>a&lt;b&gt;&amp;c</string>"));
        assert!(doc.contains("<integer>993</integer>"));
        assert!(doc.contains("<true />"));
        assert_eq!(problem(&doc), None, "{doc}");
    }

    #[test]
    fn only_a_well_formed_plist_with_apples_document_type_passes() {
        let doc = write(&Value::Dict(vec![("A", "b".into())]));
        assert!(problem(&doc.replace("</dict>", "")).is_some());
        assert!(problem(&doc.replace("-//Apple//DTD PLIST 1.0//EN", "x")).is_some());
        assert!(
            problem(
                &doc.replace("<plist version=\"1.0\">", "<other>")
                    .replace("</plist>", "</other>")
            )
            .is_some_and(|p| p.contains("<other>"))
        );
    }
}
