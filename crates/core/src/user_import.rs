//! Users brought with their existing password hashes: a Dovecot passwd-file, or a CSV file.
//! Parsing only; every line is checked, and a file with any bad line is refused whole.

use crate::model::{ProtocolKind, ServiceAccess, User};
use crate::password::{self, SchemeError};
use crate::validate::{self, ValidationError};

/// The users of one file, and what was noticed on the way.
#[derive(Debug, Default)]
pub struct ImportedUsers {
    pub users: Vec<User>,
    pub warnings: Vec<String>,
}

/// Why a file cannot be imported: the first line that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ImportError {
    pub line: usize,
    pub message: String,
}

fn error(line: usize, message: impl Into<String>) -> ImportError {
    ImportError {
        line,
        message: message.into(),
    }
}

/// The address of `user` in `domain`: a bare local part gets the domain; an address must be in
/// the domain (or one of its aliases, given in `names`).
fn address_in(user: &str, names: &[&str], line: usize) -> Result<String, ImportError> {
    let user = user.trim();
    let full = if user.contains('@') {
        user.to_string()
    } else {
        format!("{user}@{}", names.first().copied().unwrap_or_default())
    };
    let address = validate::address("address", &full)
        .map_err(|e: ValidationError| error(line, e.to_string()))?;
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if !names.contains(&domain) {
        return Err(error(
            line,
            format!(
                "{address} is not an address of {}",
                names.first().copied().unwrap_or("the domain")
            ),
        ));
    }
    Ok(address)
}

fn checked_hash(
    hash: &str,
    allow_weak: bool,
    line: usize,
    warnings: &mut Vec<String>,
) -> Result<String, ImportError> {
    let hash = hash.trim();
    match password::check_usable(hash, allow_weak) {
        Ok(scheme) => {
            if scheme.is_weak() {
                warnings.push(format!(
                    "line {line}: {} is a weak scheme, accepted because weak schemes are allowed; ask the user for a new password",
                    scheme.name()
                ));
            }
            Ok(hash.to_string())
        }
        Err(SchemeError::Weak(scheme)) => Err(error(
            line,
            format!(
                "{} is a weak password scheme; give --allow-weak to import it anyway",
                scheme.name()
            ),
        )),
        Err(e) => Err(error(line, e.to_string())),
    }
}

fn user(address: String, password_hash: String) -> User {
    User {
        address,
        password_hash,
        display_name: String::new(),
        login_name: None,
        legacy_dn: None,
        access: ServiceAccess::ALL,
    }
}

/// A Dovecot passwd-file: `user:{SCHEME}hash:uid:gid:gecos:home:shell:extra`, `#` comments.
/// The GECOS field, when set, becomes the display name.
pub fn from_passwd_file(
    text: &str,
    names: &[&str],
    allow_weak: bool,
) -> Result<ImportedUsers, ImportError> {
    let mut imported = ImportedUsers::default();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed.split(':').collect();
        let (name, hash) = match fields.as_slice() {
            [name, hash, ..] => (*name, *hash),
            _ => {
                return Err(error(
                    line,
                    "expected user:password[:uid:gid:gecos:home:shell:extra]",
                ));
            }
        };
        if hash.is_empty() {
            return Err(error(line, format!("{name} has no password hash")));
        }
        let address = address_in(name, names, line)?;
        let hash = checked_hash(hash, allow_weak, line, &mut imported.warnings)?;
        let mut user = user(address, hash);
        if let Some(gecos) = fields.get(4).map(|g| g.trim()).filter(|g| !g.is_empty()) {
            user.display_name = validate::display_name("display_name", gecos)
                .map_err(|e| error(line, e.to_string()))?;
        }
        imported.users.push(user);
    }
    refuse_duplicates(&imported.users)?;
    Ok(imported)
}

/// A CSV file with a header naming its columns: `address` and `password_hash`, and optionally
/// `display_name`, `login_name` and `deny` (protocols separated by spaces or `;`).
pub fn from_csv(
    text: &str,
    names: &[&str],
    allow_weak: bool,
) -> Result<ImportedUsers, ImportError> {
    const KNOWN: [&str; 5] = [
        "address",
        "password_hash",
        "display_name",
        "login_name",
        "deny",
    ];
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| error(1, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    if let Some(unknown) = headers.iter().find(|h| !KNOWN.contains(&h.as_str())) {
        return Err(error(
            1,
            format!("unknown column '{unknown}': use {}", KNOWN.join(", ")),
        ));
    }
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(address_at), Some(hash_at)) = (column("address"), column("password_hash")) else {
        return Err(error(
            1,
            "the header must name the columns address and password_hash",
        ));
    };
    let mut imported = ImportedUsers::default();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| error(line, e.to_string()))?;
        let field = |at: Option<usize>| at.and_then(|i| record.get(i)).unwrap_or_default();
        let address = address_in(field(Some(address_at)), names, line)?;
        let hash = checked_hash(
            field(Some(hash_at)),
            allow_weak,
            line,
            &mut imported.warnings,
        )?;
        let mut user = user(address, hash);
        let display_name = field(column("display_name"));
        if !display_name.is_empty() {
            user.display_name = validate::display_name("display_name", display_name)
                .map_err(|e| error(line, e.to_string()))?;
        }
        let login_name = field(column("login_name"));
        if !login_name.is_empty() {
            user.login_name = Some(
                validate::login_name("login_name", login_name)
                    .map_err(|e| error(line, e.to_string()))?,
            );
        }
        for denied in field(column("deny"))
            .split([' ', ';', ','])
            .filter(|p| !p.is_empty())
        {
            let kind = ProtocolKind::parse(denied).map_err(|e| error(line, e.to_string()))?;
            user.access.set(kind, false);
        }
        imported.users.push(user);
    }
    refuse_duplicates(&imported.users)?;
    Ok(imported)
}

fn refuse_duplicates(users: &[User]) -> Result<(), ImportError> {
    let mut seen = std::collections::HashMap::new();
    for (index, user) in users.iter().enumerate() {
        if let Some(first) = seen.insert(user.address.as_str(), index) {
            return Err(error(
                index + 1,
                format!(
                    "{} appears twice (entries {} and {})",
                    user.address,
                    first + 1,
                    index + 1
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA512: &str = "{SHA512-CRYPT}$6$0ZdxKyr0EXRm1nEm$UPit/JGdwbe6XCnknd3r2tTs5pd.AR/cOV4ZfZp3KyOtnJJ1uCSiVnis8vS1dVo.35lQrPXXjpF2ljjJBh2oB/";

    #[test]
    fn reads_a_dovecot_passwd_file() {
        let text = format!(
            "# users\njo:{SHA512}:1000:1000:Jo Doe::\nann@example.com:{{BLF-CRYPT}}$2y$05$abc:::::\n\n"
        );
        let imported = from_passwd_file(&text, &["example.com"], false).unwrap();
        assert_eq!(imported.users.len(), 2);
        assert_eq!(imported.users[0].address, "jo@example.com");
        assert_eq!(imported.users[0].display_name, "Jo Doe");
        assert_eq!(imported.users[0].password_hash, SHA512);
        assert_eq!(imported.users[1].address, "ann@example.com");
    }

    #[test]
    fn refuses_bad_lines_by_number() {
        let names = ["example.com"];
        let weak = from_passwd_file("jo:{PLAIN}x\n", &names, false).unwrap_err();
        assert_eq!(weak.line, 1);
        assert!(weak.message.contains("--allow-weak"), "{weak}");
        let allowed = from_passwd_file("jo:{PLAIN}x\n", &names, true).unwrap();
        assert_eq!(allowed.warnings.len(), 1);
        let other =
            from_passwd_file(&format!("\nx@other.example:{SHA512}\n"), &names, false).unwrap_err();
        assert_eq!(other.line, 2);
        let unknown = from_passwd_file("jo:$1$md5$x\n", &names, false).unwrap_err();
        assert!(unknown.message.contains("unknown"), "{unknown}");
        let twice =
            from_passwd_file(&format!("jo:{SHA512}\njo:{SHA512}\n"), &names, false).unwrap_err();
        assert!(twice.message.contains("twice"), "{twice}");
    }

    #[test]
    fn reads_csv_with_named_columns() {
        let text = format!(
            "address,password_hash,display_name,deny\njo@example.com,\"{SHA512}\",\"Doe, Jo\",pop eas\n"
        );
        let imported = from_csv(&text, &["example.com"], false).unwrap();
        let jo = &imported.users[0];
        assert_eq!(jo.display_name, "Doe, Jo");
        assert!(!jo.access.pop && !jo.access.eas && jo.access.imap);
        let bad = from_csv("address,password,x\n", &["example.com"], false).unwrap_err();
        assert!(bad.message.contains("unknown column 'password'"), "{bad}");
        let missing = from_csv("address\njo@example.com\n", &["example.com"], false).unwrap_err();
        assert!(missing.message.contains("password_hash"), "{missing}");
    }
}
