//! The body of `POST /autodiscover/autodiscover.xml`, straight from the Internet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signpost_protocol::pox;

fuzz_target!(|body: &[u8]| {
    if let Ok(request) = pox::parse_request(body) {
        // Whatever was accepted is usable without a panic.
        let _ = request.response_schema();
    }
});
