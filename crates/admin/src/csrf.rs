//! CSRF tokens as pages carry them: masked afresh for every page (a random pad, then the token
//! XORed with it), so a compressed page never repeats the session's secret bytes beside input
//! an attacker can reflect into it (BREACH). What comes back is unmasked and compared in
//! constant time; the unmasked token (as the API's sign-in returns it) is accepted too.

use signpost_operations::same_secret;

/// `token` under a fresh random pad, as hex: pad then masked token.
pub fn mask(token: &str) -> String {
    let pad: Vec<u8> = (0..token.len()).map(|_| rand::random::<u8>()).collect();
    let masked: Vec<u8> = token.bytes().zip(&pad).map(|(t, p)| t ^ p).collect();
    signpost_core::hex(&pad) + &signpost_core::hex(&masked)
}

/// Whether `sent` is `token`, masked or not.
pub fn matches(sent: &str, token: &str) -> bool {
    if token.is_empty() {
        return false;
    }
    same_secret(sent, token) || unmask(sent).is_some_and(|unmasked| same_secret(&unmasked, token))
}

fn unmask(sent: &str) -> Option<String> {
    let bytes = from_hex(sent)?;
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let (pad, masked) = bytes.split_at(bytes.len() / 2);
    String::from_utf8(masked.iter().zip(pad).map(|(m, p)| m ^ p).collect()).ok()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 1024 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_token_differs_every_time_and_still_matches() {
        let token = signpost_operations::random_secret();
        let first = mask(&token);
        let second = mask(&token);
        assert_ne!(first, second, "two pages carried the same masked token");
        assert!(!first.contains(&token));
        assert!(matches(&first, &token));
        assert!(matches(&second, &token));
        assert!(matches(&token, &token), "the unmasked token is refused");
        assert!(!matches(
            &mask("another token of the same size abcdefghijk"),
            &token
        ));
        assert!(!matches("", &token));
        assert!(!matches("zz", &token));
        assert!(!matches("", ""), "an empty token matched");
    }
}
