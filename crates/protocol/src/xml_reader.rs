//! A hardened XML reader for request bodies from strangers.
//!
//! It builds a small element tree keyed by local names (clients disagree about namespaces), and
//! refuses anything an autodiscover request never needs: document type declarations (and with
//! them every entity trick), processing instructions, unknown entity references, non-UTF-8
//! input, and documents deeper, wider or bigger than the limits.

use crate::xml_writer::is_forbidden_in_xml;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Bounds on what a request document may contain.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_attributes: usize,
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 16,
            max_elements: 256,
            max_attributes: 16,
            max_text_bytes: 4096,
        }
    }
}

/// Why a document was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    #[error("the body is not UTF-8")]
    NotUtf8,
    #[error("document type declarations are not accepted")]
    DocType,
    #[error("processing instructions are not accepted")]
    ProcessingInstruction,
    #[error("unknown entity reference &{0};")]
    UnknownEntity(String),
    #[error("the document is nested deeper than {0} elements")]
    TooDeep(usize),
    #[error("the document has more than {0} elements")]
    TooManyElements(usize),
    #[error("an element has more than {0} attributes")]
    TooManyAttributes(usize),
    #[error("an element's text is longer than {0} bytes")]
    TextTooLong(usize),
    #[error("the document contains U+{0:04X}, a character XML does not allow")]
    ForbiddenCharacter(u32),
    #[error("the document has no root element")]
    Empty,
    #[error("the document has content after its root element")]
    TrailingContent,
    #[error("malformed XML: {0}")]
    Malformed(String),
}

/// An element with its local name, its text and its child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    /// Attributes by local name, values unescaped.
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child whose local name equals `name`, ignoring ASCII case.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Every child whose local name equals `name`, ignoring ASCII case.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children
            .iter()
            .filter(move |c| c.name.eq_ignore_ascii_case(name))
    }

    /// The value of attribute `name` (local name, ignoring ASCII case).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The trimmed text of the first child named `name`, if it has any.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }
}

/// Parses `input` into an element tree within `limits`.
pub fn parse(input: &[u8], limits: Limits) -> Result<Element, XmlError> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|_| XmlError::NotUtf8)?;
    refuse_forbidden_characters(text)?;
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;

    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        match event {
            Event::Decl(decl) => {
                if let Some(Ok(encoding)) = decl.encoding() {
                    let encoding = encoding.to_ascii_lowercase();
                    if encoding != "utf-8" && encoding != "utf8" && encoding != "us-ascii" {
                        return Err(XmlError::NotUtf8);
                    }
                }
            }
            Event::DocType(_) => return Err(XmlError::DocType),
            Event::PI(_) => return Err(XmlError::ProcessingInstruction),
            Event::Comment(_) => {}
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(XmlError::TrailingContent);
            }
            Event::Start(start) => {
                elements += 1;
                let element = open_element(&start, elements, stack.len() + 1, &limits)?;
                stack.push(element);
            }
            Event::Empty(start) => {
                elements += 1;
                let element = open_element(&start, elements, stack.len() + 1, &limits)?;
                close_element(element, &mut stack, &mut root);
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| XmlError::Malformed("unexpected end tag".into()))?;
                close_element(element, &mut stack, &mut root);
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                match stack.last_mut() {
                    Some(current) => push_text(current, &content, &limits)?,
                    None if content.trim().is_empty() => {}
                    None => return Err(XmlError::TrailingContent),
                }
            }
            Event::CData(data) => {
                let content = data.into_inner();
                match stack.last_mut() {
                    Some(current) => push_text(current, &content, &limits)?,
                    None => return Err(XmlError::TrailingContent),
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference)?;
                match stack.last_mut() {
                    Some(current) => {
                        let mut buf = [0u8; 4];
                        push_text(current, resolved.encode_utf8(&mut buf), &limits)?
                    }
                    None => return Err(XmlError::TrailingContent),
                }
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed(
            "the document ends inside an element".into(),
        ));
    }
    root.ok_or(XmlError::Empty)
}

fn open_element(
    start: &BytesStart<'_>,
    count: usize,
    depth: usize,
    limits: &Limits,
) -> Result<Element, XmlError> {
    if count > limits.max_elements {
        return Err(XmlError::TooManyElements(limits.max_elements));
    }
    if depth > limits.max_depth {
        return Err(XmlError::TooDeep(limits.max_depth));
    }
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| XmlError::Malformed(e.to_string()))?;
        if attributes.len() == limits.max_attributes {
            return Err(XmlError::TooManyAttributes(limits.max_attributes));
        }
        let key = attribute.key.local_name().as_ref().to_string();
        // Namespace declarations are not data.
        if attribute.key.as_ref().starts_with("xmlns") {
            continue;
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        // Character references may spell what the text itself could not hold.
        refuse_forbidden_characters(&value)?;
        if value.len() > limits.max_text_bytes {
            return Err(XmlError::TextTooLong(limits.max_text_bytes));
        }
        attributes.push((key, value.into_owned()));
    }
    let name = start.local_name().as_ref().to_string();
    Ok(Element {
        name,
        attributes,
        ..Element::default()
    })
}

fn close_element(element: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn push_text(element: &mut Element, text: &str, limits: &Limits) -> Result<(), XmlError> {
    if element.text.len() + text.len() > limits.max_text_bytes {
        return Err(XmlError::TextTooLong(limits.max_text_bytes));
    }
    element.text.push_str(text);
    Ok(())
}

fn refuse_forbidden_characters(text: &str) -> Result<(), XmlError> {
    // Byte by byte: the forbidden characters are C0 controls (one byte) and U+FFFE/U+FFFF
    // (EF BF BE/BF), so there is no need to decode.
    let bytes = text.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        match byte {
            b'\t' | b'\n' | b'\r' => {}
            0..=0x1F => return Err(XmlError::ForbiddenCharacter(u32::from(byte))),
            0xEF => {
                if let Some([0xBF, last @ (0xBE | 0xBF)]) = bytes.get(i + 1..i + 3) {
                    let character = if *last == 0xBE { 0xFFFE } else { 0xFFFF };
                    return Err(XmlError::ForbiddenCharacter(character));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Result<char, XmlError> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(c)) if is_forbidden_in_xml(c) => Err(XmlError::ForbiddenCharacter(c.into())),
            Ok(Some(c)) => Ok(c),
            _ => Err(XmlError::UnknownEntity(reference.to_string())),
        };
    }
    match &**reference {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(XmlError::UnknownEntity(other.chars().take(32).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Element, XmlError> {
        parse(s.as_bytes(), Limits::default())
    }

    #[test]
    fn reads_nested_text_with_references() {
        let root = parse_str(
            "<?xml version=\"1.0\"?><a:Root xmlns:a=\"x\"><a:B>x &amp; y &#65;<![CDATA[<z>]]></a:B><C k=\"v&lt;\"/></a:Root>",
        )
        .unwrap();
        assert_eq!(root.child("c").and_then(|c| c.attribute("K")), Some("v<"));
        assert!(
            root.attributes.is_empty(),
            "namespace declarations are not attributes"
        );
        assert_eq!(root.name, "Root");
        assert_eq!(root.child_text("b"), Some("x & y A<z>"));
        assert!(root.child("C").is_some());
    }

    #[test]
    fn refuses_doctype_entities_and_pis() {
        assert_eq!(
            parse_str("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"),
            Err(XmlError::DocType)
        );
        assert_eq!(
            parse_str("<a>&x;</a>"),
            Err(XmlError::UnknownEntity("x".into()))
        );
        assert_eq!(
            parse_str("<?xml-stylesheet href=\"x\"?><a/>"),
            Err(XmlError::ProcessingInstruction)
        );
    }

    #[test]
    fn enforces_limits() {
        let deep = "<a>".repeat(20) + &"</a>".repeat(20);
        assert_eq!(parse_str(&deep), Err(XmlError::TooDeep(16)));
        let wide = format!("<a>{}</a>", "<b/>".repeat(300));
        assert_eq!(parse_str(&wide), Err(XmlError::TooManyElements(256)));
        let attrs: String = (0..20).map(|i| format!(" a{i}=\"1\"")).collect();
        assert_eq!(
            parse_str(&format!("<a{attrs}/>")),
            Err(XmlError::TooManyAttributes(16))
        );
        assert_eq!(
            parse_str(&format!("<a>{}</a>", "x".repeat(5000))),
            Err(XmlError::TextTooLong(4096))
        );
    }

    #[test]
    fn refuses_bad_encodings_and_shapes() {
        assert_eq!(
            parse(b"<a>\xff</a>", Limits::default()),
            Err(XmlError::NotUtf8)
        );
        assert_eq!(
            parse_str("<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>"),
            Err(XmlError::NotUtf8)
        );
        assert_eq!(parse_str(""), Err(XmlError::Empty));
        assert_eq!(parse_str("<a/><b/>"), Err(XmlError::TrailingContent));
        assert!(matches!(
            parse_str("<a><b></a>"),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(parse_str("<a>"), Err(XmlError::Malformed(_))));
    }

    #[test]
    fn refuses_characters_xml_does_not_allow() {
        assert_eq!(
            parse_str("<a>\u{FFFF}</a>"),
            Err(XmlError::ForbiddenCharacter(0xFFFF))
        );
        for document in [
            "<a>x\u{0}y</a>",
            "<a b=\"\u{1}\"/>",
            "<a b=\"&#x1;\"/>",
            "<a>\u{FFFE}</a>",
        ] {
            assert!(
                matches!(parse_str(document), Err(XmlError::ForbiddenCharacter(_))),
                "{document:?}"
            );
        }
        // quick-xml itself refuses a reference to NUL.
        assert!(parse_str("<a>&#0;</a>").is_err());
        let allowed = parse_str("<a b=\"&#x9;\">\t&#xD;\u{7f}\u{FFFD}</a>").unwrap();
        assert_eq!(allowed.attribute("b"), Some("\t"));
        assert_eq!(allowed.text, "\t\r\u{7f}\u{FFFD}");
    }
}
