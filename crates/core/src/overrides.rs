//! Checks on the text of a desktop or mobile override, shared by the CLI and the API.

use signpost_protocol::xml_reader::{self, Limits};

use crate::validate::ValidationError;

/// Custom answers are documents a person writes; a megabyte is far beyond any real one.
pub const MAX_OVERRIDE_BYTES: usize = 1024 * 1024;

/// Refuses text (of this many bytes) too large to be a real answer.
pub fn check_size(bytes: usize) -> Result<(), ValidationError> {
    if bytes > MAX_OVERRIDE_BYTES {
        return Err(ValidationError::new(
            "text",
            "it is larger than 1 MiB; a custom answer should be a few KiB",
        ));
    }
    Ok(())
}

/// Why the text would not parse as XML, if it would not. It is still saved (the seed lets an
/// administrator send anything), but clients may not read it. Empty text is a deliberate choice.
pub fn xml_problem(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        return None;
    }
    let limits = Limits {
        max_depth: 64,
        max_elements: 100_000,
        max_attributes: 64,
        max_text_bytes: MAX_OVERRIDE_BYTES,
    };
    // Variables are replaced by escaped text, so they never change well-formedness.
    xml_reader::parse(text.as_bytes(), limits)
        .err()
        .map(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_broken_xml_and_size() {
        assert_eq!(xml_problem(""), None);
        assert_eq!(xml_problem("<a>%EmailAddress%</a>"), None);
        assert!(xml_problem("<a>").is_some());
        assert!(xml_problem("<!DOCTYPE a><a/>").is_some());
        assert!(check_size(MAX_OVERRIDE_BYTES + 1).is_err());
        assert!(check_size(4).is_ok());
    }
}
