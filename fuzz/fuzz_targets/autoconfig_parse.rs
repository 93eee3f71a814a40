//! config-v1.1.xml files: `signpost import ispdb` and `signpost probe` read them. Whatever is
//! read must write back as a document that reads the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signpost_protocol::autoconfig;

fuzz_target!(|body: &[u8]| {
    if let Ok(parsed) = autoconfig::parse(body) {
        let written = autoconfig::write(&parsed.config);
        let again = autoconfig::parse(written.as_bytes()).expect("a written document reads back");
        assert_eq!(again.config, parsed.config);
    }
});
