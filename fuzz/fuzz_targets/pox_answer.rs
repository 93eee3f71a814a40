//! Another server's POX answer, as `signpost probe` reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = signpost_protocol::pox::parse_answer(body);
});
