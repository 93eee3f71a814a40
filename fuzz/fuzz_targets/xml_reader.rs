//! The hardened XML reader under every parser, with tight limits so they are hit often.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signpost_protocol::xml_reader::{self, Element, Limits};

fn depth(element: &Element) -> usize {
    1 + element.children.iter().map(depth).max().unwrap_or(0)
}

fn count(element: &Element) -> usize {
    1 + element.children.iter().map(count).sum::<usize>()
}

fuzz_target!(|body: &[u8]| {
    let limits = Limits {
        max_depth: 8,
        max_elements: 64,
        max_attributes: 4,
        max_text_bytes: 256,
    };
    if let Ok(root) = xml_reader::parse(body, limits) {
        assert!(depth(&root) <= limits.max_depth);
        assert!(count(&root) <= limits.max_elements);
    }
});
