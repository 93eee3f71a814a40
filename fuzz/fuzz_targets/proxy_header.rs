//! A PROXY protocol header (v1 line or v2 block) from a load balancer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signpost_protocol::proxy_protocol;

fuzz_target!(|data: &[u8]| {
    let _ = proxy_protocol::parse_v1(data);
    if let Some((fixed, block)) = data.split_first_chunk::<16>() {
        if let Ok(length) = proxy_protocol::v2_block_length(fixed) {
            assert!(length <= proxy_protocol::V2_MAX_LEN);
            let block = &block[..block.len().min(length)];
            let _ = proxy_protocol::parse_v2(fixed, block);
        }
    }
});
