//! `Authorization: Basic` as Outlook and Thunderbird send it.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;

/// A user name and password from a request. `Debug` never shows the password.
pub struct BasicCredentials {
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("login", &self.login)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// What the `Authorization` header held.
#[derive(Debug)]
pub enum Presented {
    Nothing,
    Basic(BasicCredentials),
    /// A header that is not valid Basic credentials: treated as a failed login.
    Unreadable,
}

const MAX_HEADER_LEN: usize = 4096;

pub fn from_headers(headers: &HeaderMap) -> Presented {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Presented::Nothing;
    };
    let Ok(value) = value.to_str() else {
        return Presented::Unreadable;
    };
    if value.len() > MAX_HEADER_LEN {
        return Presented::Unreadable;
    }
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Presented::Unreadable;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Presented::Unreadable;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return Presented::Unreadable;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return Presented::Unreadable;
    };
    match decoded.split_once(':') {
        // No login name holds a control character (and the credential cache relies on it).
        Some((login, password)) if !login.is_empty() && !login.contains(char::is_control) => {
            Presented::Basic(BasicCredentials {
                login: login.to_string(),
                password: password.to_string(),
            })
        }
        _ => Presented::Unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn reads_basic_and_refuses_the_rest() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("jo@x.y:p:w");
        match from_headers(&with(&format!("basic {encoded}"))) {
            Presented::Basic(c) => {
                assert_eq!(c.login, "jo@x.y");
                assert_eq!(c.password, "p:w");
                assert!(!format!("{c:?}").contains("p:w"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_headers(&HeaderMap::new()),
            Presented::Nothing
        ));
        assert!(matches!(
            from_headers(&with("Bearer x")),
            Presented::Unreadable
        ));
        assert!(matches!(
            from_headers(&with("Basic !!!")),
            Presented::Unreadable
        ));
        let control = base64::engine::general_purpose::STANDARD.encode("jo\0x.y:pw");
        assert!(matches!(
            from_headers(&with(&format!("Basic {control}"))),
            Presented::Unreadable
        ));
        let no_colon = base64::engine::general_purpose::STANDARD.encode("jo");
        assert!(matches!(
            from_headers(&with(&format!("Basic {no_colon}"))),
            Presented::Unreadable
        ));
    }
}
