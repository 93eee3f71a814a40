//! A small XML writer that escapes every value it is given.
//!
//! Element and attribute names are `&'static str`: they come from code, never from a request or a
//! record, so only values need escaping, and the writer does that itself.

/// Builds an indented UTF-8 XML document.
#[derive(Debug)]
pub struct XmlWriter {
    out: String,
    open: Vec<&'static str>,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    /// Starts a document with the XML declaration.
    pub fn new() -> Self {
        // Most answers fit; growing the buffer would copy it.
        let mut out = String::with_capacity(4096);
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        Self {
            out,
            open: Vec::with_capacity(8),
        }
    }

    /// Starts a document with the XML declaration and a fixed document type declaration (Apple
    /// property lists carry one).
    pub fn with_doctype(doctype: &'static str) -> Self {
        let mut writer = Self::new();
        writer.out.push_str(doctype);
        writer.out.push('\n');
        writer
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }

    fn write_tag_start(&mut self, name: &'static str, attributes: &[(&'static str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value, Context::Attribute);
            self.out.push('"');
        }
    }

    /// Opens an element that will hold child elements.
    pub fn open(&mut self, name: &'static str) -> &mut Self {
        self.open_with(name, &[])
    }

    /// Opens an element with attributes that will hold child elements.
    pub fn open_with(
        &mut self,
        name: &'static str,
        attributes: &[(&'static str, &str)],
    ) -> &mut Self {
        self.write_tag_start(name, attributes);
        self.out.push_str(">\n");
        self.open.push(name);
        self
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            self.indent();
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push_str(">\n");
        }
        self
    }

    /// Writes `<name>value</name>`.
    pub fn text(&mut self, name: &'static str, value: &str) -> &mut Self {
        self.text_with(name, &[], value)
    }

    /// Writes `<name attr="...">value</name>`.
    pub fn text_with(
        &mut self,
        name: &'static str,
        attributes: &[(&'static str, &str)],
        value: &str,
    ) -> &mut Self {
        self.write_tag_start(name, attributes);
        self.out.push('>');
        escape_into(&mut self.out, value, Context::Text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
        self
    }

    /// Writes `<name>number</name>`.
    pub fn number(&mut self, name: &'static str, value: i64) -> &mut Self {
        use std::fmt::Write;
        self.write_tag_start(name, &[]);
        // Writing into a String cannot fail.
        let _ = writeln!(self.out, ">{value}</{name}>");
        self
    }

    /// Writes `<name attr="..." />`.
    pub fn empty(&mut self, name: &'static str, attributes: &[(&'static str, &str)]) -> &mut Self {
        self.write_tag_start(name, attributes);
        self.out.push_str(" />\n");
        self
    }

    /// Closes every open element and returns the document.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Text,
    Attribute,
}

/// Escapes `value` for a double- or single-quoted attribute value; the result is also correct
/// character data, for text whose context is not known (a variable in an administrator's
/// template may sit in either).
pub fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    escape_into(&mut out, value, Context::Attribute);
    out
}

/// Appends `value` escaped for `context`.
///
/// Characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) become U+FFFD, so a
/// hostile record can never make the document ill-formed. Runs of ordinary characters are copied
/// whole: this is on every answer's path.
fn escape_into(out: &mut String, value: &str, context: Context) {
    let bytes = value.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip ahead over bytes that never need attention (nearly all of them).
        if !NEEDS_LOOK[usize::from(bytes[i])] {
            i += 1;
            continue;
        }
        let replacement: Option<&str> = match bytes[i] {
            b'&' => Some("&amp;"),
            b'<' => Some("&lt;"),
            b'>' => Some("&gt;"),
            b'"' if context == Context::Attribute => Some("&quot;"),
            b'\'' if context == Context::Attribute => Some("&apos;"),
            // Attribute values would have these normalised to spaces; keep them as written.
            b'\t' if context == Context::Attribute => Some("&#9;"),
            b'\n' if context == Context::Attribute => Some("&#10;"),
            // A bare CR is folded into LF by every parser; a reference keeps it.
            b'\r' => Some("&#13;"),
            b'\t' | b'\n' | b'"' | b'\'' => None,
            0..=0x1F => Some("\u{FFFD}"),
            // U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8.
            0xEF if matches!(bytes.get(i + 1..i + 3), Some([0xBF, 0xBE | 0xBF])) => {
                out.push_str(&value[copied..i]);
                out.push('\u{FFFD}');
                i += 3;
                copied = i;
                continue;
            }
            _ => None,
        };
        if let Some(replacement) = replacement {
            out.push_str(&value[copied..i]);
            out.push_str(replacement);
            copied = i + 1;
        }
        i += 1;
    }
    out.push_str(&value[copied..]);
}

/// Bytes [`escape_into`] must look at: markup, quotes, controls, and the first byte of U+FFFE and
/// U+FFFF.
const NEEDS_LOOK: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'"' as usize] = true;
    table[b'\'' as usize] = true;
    table[0xEF] = true;
    table
};

/// Whether XML 1.0's `Char` production leaves `c` out (so no document may contain it, not even
/// as a character reference).
pub(crate) fn is_forbidden_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let mut w = XmlWriter::new();
        w.open_with("Root", &[("a", "\"x\" & 'y' <z>")]);
        w.text("V", "a]]>b & <c> \u{1}");
        let doc = w.finish();
        assert!(doc.contains(r#"<Root a="&quot;x&quot; &amp; &apos;y&apos; &lt;z&gt;">"#));
        assert!(doc.contains("<V>a]]&gt;b &amp; &lt;c&gt; \u{FFFD}</V>"));
        assert!(doc.ends_with("</Root>\n"));
    }

    #[test]
    fn nests_and_indents() {
        let mut w = XmlWriter::new();
        w.open("A").open("B").text("C", "1").close().empty("D", &[]);
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<A>\n  <B>\n    <C>1</C>\n  </B>\n  <D />\n</A>\n"
        );
    }
}
