//! `emailaddress=` of every GET and the address of every POX request: normalising is
//! idempotent and its result is always acceptable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signpost_core::validate;

fuzz_target!(|input: &str| {
    if let Ok(address) = validate::address("address", input) {
        assert!(address.len() <= 254, "{address}");
        assert!(!address.chars().any(char::is_control), "{address:?}");
        let again = validate::address("address", &address).expect("a normalised address is valid");
        assert_eq!(again, address);
    }
});
