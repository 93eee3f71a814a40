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
        let mut out = String::with_capacity(1024);
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
/// hostile record can never make the document ill-formed.
fn escape_into(out: &mut String, value: &str, context: Context) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if context == Context::Attribute => out.push_str("&quot;"),
            '\'' if context == Context::Attribute => out.push_str("&apos;"),
            // Attribute values would have these normalised to spaces; keep them as written.
            '\t' if context == Context::Attribute => out.push_str("&#9;"),
            '\n' if context == Context::Attribute => out.push_str("&#10;"),
            // A bare CR is folded into LF by every parser; a reference keeps it.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if is_forbidden_in_xml(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

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
