//! A custom answer's variables: whatever the values, a template that is well-formed XML with
//! probe values stays well-formed after substitution. The probes hold a space, so variables
//! placed inside a tag name (an administrator's mistake no value could survive) are not tested;
//! values are never empty, as in Signpost (names fall back to the address).
#![no_main]

use libfuzzer_sys::fuzz_target;
use signpost_protocol::override_template::{self, TemplateValues};
use signpost_protocol::xml_reader::{self, Limits};

fuzz_target!(|input: &str| {
    // Template, then three values, separated by NUL.
    let mut parts = input.splitn(4, '\0');
    let template = parts.next().unwrap_or_default();
    let email_address = parts.next().unwrap_or_default();
    let display_name = parts.next().unwrap_or_default();
    let legacy_dn = parts.next().unwrap_or_default();
    if email_address.is_empty() || display_name.is_empty() || legacy_dn.is_empty() {
        return;
    }
    let values = TemplateValues {
        email_address,
        display_name,
        legacy_dn,
    };
    let harmless = TemplateValues {
        email_address: "a b",
        display_name: "c d",
        legacy_dn: "e f",
    };
    let limits = Limits::default();
    if xml_reader::parse(
        override_template::substitute(template, &harmless).as_bytes(),
        limits,
    )
    .is_ok()
    {
        let substituted = override_template::substitute(template, &values);
        if let Err(e) = xml_reader::parse(substituted.as_bytes(), limits) {
            // Only limits may refuse it now (values are longer); never the syntax.
            assert!(
                matches!(e, xml_reader::XmlError::TextTooLong(_)),
                "values broke the document: {e}\n{substituted}"
            );
        }
    }
});
