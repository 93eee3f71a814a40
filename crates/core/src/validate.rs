//! The one place where names, addresses and numbers from people and requests are checked.
//! The CLI, the API and the request path all call these.

/// A value that was refused, with the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// The longest address RFC 5321 lets through a path (256 octets less the angle brackets).
pub const MAX_ADDRESS_LEN: usize = 254;
/// RFC 5321's limit on a local part.
pub const MAX_LOCAL_PART_LEN: usize = 64;
/// Longest display name or login name accepted.
pub const MAX_NAME_LEN: usize = 256;

/// Normalises a domain or host name: trims, lowercases, converts an IDN to punycode, drops a
/// trailing dot, and checks hostname syntax (labels of 1-63 letters, digits and inner hyphens,
/// 253 characters at most).
pub fn domain_name(field: &'static str, value: &str) -> Result<String, ValidationError> {
    let trimmed = value.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "it is empty"));
    }
    if let Some(c) = trimmed
        .chars()
        .find(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ValidationError::new(
            field,
            format!("'{}' contains {}", shown(trimmed), describe_char(c)),
        ));
    }
    let ascii = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(trimmed).map_err(|_| {
            ValidationError::new(
                field,
                format!("'{}' is not a valid internationalised name", shown(trimmed)),
            )
        })?
    };
    if ascii.len() > 253 {
        return Err(ValidationError::new(
            field,
            "it is longer than 253 characters",
        ));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(ValidationError::new(
                field,
                format!("'{}' has an empty label", shown(&ascii)),
            ));
        }
        if label.len() > 63 {
            return Err(ValidationError::new(
                field,
                format!("'{}' has a label longer than 63 characters", shown(&ascii)),
            ));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ValidationError::new(
                field,
                format!(
                    "'{}' may only contain letters, digits, hyphens and dots",
                    shown(&ascii)
                ),
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(ValidationError::new(
                field,
                format!(
                    "'{}' has a label that starts or ends with a hyphen",
                    shown(&ascii)
                ),
            ));
        }
    }
    Ok(ascii)
}

/// Normalises an e-mail address: lowercase, domain in punycode, RFC 5321 lengths, no spaces or
/// control characters.
pub fn address(field: &'static str, value: &str) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    let Some((local, domain)) = trimmed.rsplit_once('@') else {
        return Err(ValidationError::new(
            field,
            format!("'{}' has no @", shown(trimmed)),
        ));
    };
    if local.is_empty() {
        return Err(ValidationError::new(
            field,
            format!("'{}' has nothing before the @", shown(trimmed)),
        ));
    }
    if local.len() > MAX_LOCAL_PART_LEN {
        return Err(ValidationError::new(
            field,
            format!("the part before the @ is longer than {MAX_LOCAL_PART_LEN} characters"),
        ));
    }
    if let Some(c) = local.chars().find(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '@' | '<' | '>' | '"' | '\\' | ',' | ';' | ':' | '(' | ')' | '[' | ']'
            )
    }) {
        return Err(ValidationError::new(
            field,
            format!("'{}' contains {}", shown(trimmed), describe_char(c)),
        ));
    }
    let domain = domain_name(field, domain)?;
    let mut address = String::with_capacity(local.len() + 1 + domain.len());
    if local.is_ascii() {
        address.extend(local.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        address.push_str(&local.to_lowercase());
    }
    address.push('@');
    address.push_str(&domain);
    if address.len() > MAX_ADDRESS_LEN {
        return Err(ValidationError::new(
            field,
            format!("it is longer than {MAX_ADDRESS_LEN} characters"),
        ));
    }
    Ok(address)
}

/// A host name that may contain the `%EMAILDOMAIN%` placeholder (hosting providers that run
/// `mail.<customer domain>`). The placeholder keeps its spelling; the rest is normalised.
pub fn host_pattern(field: &'static str, value: &str) -> Result<String, ValidationError> {
    const PLACEHOLDER: &str = "%EMAILDOMAIN%";
    let value = value.trim();
    if !value.contains('%') {
        return domain_name(field, value);
    }
    let parts: Vec<&str> = value.split(PLACEHOLDER).collect();
    if parts.iter().any(|p| p.contains('%')) {
        return Err(ValidationError::new(
            field,
            format!(
                "'{}' may only use the %EMAILDOMAIN% placeholder",
                shown(value)
            ),
        ));
    }
    // Check the syntax with a sample domain in place of the placeholder.
    domain_name(field, &value.replace(PLACEHOLDER, "example.org"))?;
    Ok(parts
        .iter()
        .map(|p| p.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(PLACEHOLDER))
}

/// A login name pattern such as `%EMAILADDRESS%` or `%EMAILLOCALPART%`: 1-256 characters with no
/// whitespace or control characters. Unknown placeholders are kept (clients use them literally).
pub fn username_pattern(field: &'static str, value: &str) -> Result<String, ValidationError> {
    login_name(field, value)
}

/// An absolute https URL.
pub fn https_url(field: &'static str, value: &str) -> Result<String, ValidationError> {
    let url = web_url(field, value)?;
    if !url.starts_with("https://") {
        return Err(ValidationError::new(
            field,
            format!("'{}' must be an https URL", shown(value)),
        ));
    }
    Ok(url)
}

/// An absolute http or https URL with a host (documentation pages may still be plain http).
pub fn web_url(field: &'static str, value: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    let url = url::Url::parse(value).map_err(|e| {
        ValidationError::new(field, format!("'{}' is not a URL: {e}", shown(value)))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ValidationError::new(
            field,
            format!(
                "'{}' must be an http or https URL with a host",
                shown(value)
            ),
        ));
    }
    if value.len() > 2048 {
        return Err(ValidationError::new(
            field,
            "it is longer than 2048 characters",
        ));
    }
    Ok(url.to_string())
}

/// Free text of at most `max` characters without control characters.
pub fn bounded_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("'{}' is longer than {max} characters", shown(value)),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(ValidationError::new(
            field,
            format!("it contains {}", describe_char(c)),
        ));
    }
    Ok(value.to_string())
}

/// A TCP port other than 0.
pub fn port(field: &'static str, value: u16) -> Result<u16, ValidationError> {
    if value == 0 {
        return Err(ValidationError::new(field, "port 0 is not a usable port"));
    }
    Ok(value)
}

/// A person's display name: at most 256 characters, no control characters (markup characters
/// are fine: every writer escapes them).
pub fn display_name(field: &'static str, value: &str) -> Result<String, ValidationError> {
    bounded_text(field, value, MAX_NAME_LEN)
}

/// A login name: 1-256 characters without whitespace, control characters or ':' (which HTTP
/// Basic authentication cannot carry in a user name).
pub fn login_name(field: &'static str, value: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "it is empty"));
    }
    if value.chars().count() > MAX_NAME_LEN {
        return Err(ValidationError::new(
            field,
            format!("it is longer than {MAX_NAME_LEN} characters"),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == ':')
    {
        return Err(ValidationError::new(
            field,
            format!("'{}' contains {}", shown(value), describe_char(c)),
        ));
    }
    Ok(value.to_string())
}

/// A password: not empty, at most 1024 bytes (argon2 would take longer ones, but nobody types
/// them, and a bound keeps hashing time bounded).
pub fn password(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new("password", "it is empty"));
    }
    if value.len() > 1024 {
        return Err(ValidationError::new(
            "password",
            "it is longer than 1024 bytes",
        ));
    }
    Ok(())
}

/// A value quoted back in an error, shortened so a hostile value cannot flood a log line.
fn shown(value: &str) -> String {
    let mut out: String = value.chars().take(80).collect();
    if value.chars().count() > 80 {
        out.push('…');
    }
    out
}

fn describe_char(c: char) -> String {
    if c == ' ' {
        "a space".into()
    } else if c.is_whitespace() || c.is_control() {
        format!("the control character U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}

/// The domain part of an address (everything after the last `@`; empty without one).
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_normalised() {
        assert_eq!(domain_name("d", " Example.COM. ").unwrap(), "example.com");
        assert_eq!(domain_name("d", "bücher.de").unwrap(), "xn--bcher-kva.de");
        let err = domain_name("hostname", "mail example.com").unwrap_err();
        assert_eq!(err.field, "hostname");
        assert!(err.to_string().contains("a space"), "{err}");
        assert!(domain_name("d", "a..b").is_err());
        assert!(domain_name("d", "-a.b").is_err());
        assert!(domain_name("d", "a_b.c").is_err());
        assert!(domain_name("d", &format!("{}.com", "a".repeat(64))).is_err());
        assert!(domain_name("d", "").is_err());
    }

    #[test]
    fn addresses_are_normalised_and_bounded() {
        assert_eq!(
            address("a", "John@Bücher.DE").unwrap(),
            "john@xn--bcher-kva.de"
        );
        assert!(address("a", "no-at-sign").is_err());
        assert!(address("a", "@example.com").is_err());
        assert!(address("a", "a b@example.com").is_err());
        assert!(address("a", "a\u{0}b@example.com").is_err());
        assert!(address("a", &format!("{}@example.com", "a".repeat(65))).is_err());
        let long_domain = format!("{}.com", vec!["b".repeat(50); 4].join("."));
        let err = address("a", &format!("{}@{long_domain}", "a".repeat(50))).unwrap_err();
        assert!(err.message.contains("longer than 254"), "{err}");
    }

    #[test]
    fn host_patterns_and_urls() {
        assert_eq!(
            host_pattern("h", "Mail.%EMAILDOMAIN%").unwrap(),
            "mail.%EMAILDOMAIN%"
        );
        assert_eq!(host_pattern("h", "%EMAILDOMAIN%").unwrap(), "%EMAILDOMAIN%");
        assert!(host_pattern("h", "mail.%EMAILLOCALPART%").is_err());
        assert!(host_pattern("h", "bad host.%EMAILDOMAIN%").is_err());
        assert_eq!(
            https_url("u", "https://Mail.Example.com/x").unwrap(),
            "https://mail.example.com/x"
        );
        assert!(https_url("u", "http://mail.example.com/").is_err());
        assert!(web_url("u", "http://help.example.com/").is_ok());
        assert!(web_url("u", "javascript:alert(1)").is_err());
        assert!(web_url("u", "not a url").is_err());
    }

    #[test]
    fn ports_names_and_passwords() {
        assert!(port("port", 0).is_err());
        assert_eq!(port("port", 993), Ok(993));
        assert!(login_name("login", "a:b").is_err());
        assert!(login_name("login", "").is_err());
        assert_eq!(display_name("d", " <Joe & Co> ").unwrap(), "<Joe & Co>");
        assert!(display_name("d", "a\nb").is_err());
        assert!(password("").is_err());
        assert!(password(&"x".repeat(1025)).is_err());
    }
}
