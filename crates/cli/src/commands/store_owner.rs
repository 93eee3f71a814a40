//! Root must not write into a store that belongs to the service's user: the database files it
//! creates (the database itself, its WAL) would be root's, and the service could no longer write
//! them. Such a command is refused with the command line that works.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The effective user of this process: /proc/self belongs to it.
fn effective_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// The login name of `uid` from /etc/passwd, if it is there.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.parse::<u32>().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

/// Refuses root when the SQLite store's directory belongs to another user.
pub fn refuse_root_in_others_store(database: &Path) -> anyhow::Result<()> {
    if effective_uid() != Some(0) {
        return Ok(());
    }
    let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    let Ok(metadata) = std::fs::metadata(dir) else {
        return Ok(());
    };
    let owner = metadata.uid();
    if owner == 0 {
        return Ok(());
    }
    let who = user_name(owner).unwrap_or_else(|| owner.to_string());
    anyhow::bail!(
        "the store in {dir} belongs to the user {who}, and files root created in it would lock \
         that user out of them; run the command as {who}: sudo -u {who} signpost {args}",
        dir = dir.display(),
        args = std::env::args()
            .skip(1)
            .map(|arg| shell_quoted(&arg))
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// `arg` as a POSIX shell reads it back: bare when it is plain, else in single quotes.
fn shell_quoted(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quoted;

    #[test]
    fn arguments_are_quoted_for_the_shell() {
        assert_eq!(shell_quoted("domain"), "domain");
        assert_eq!(
            shell_quoted("/etc/signpost/signpost.toml"),
            "/etc/signpost/signpost.toml"
        );
        assert_eq!(shell_quoted("John Doe"), "'John Doe'");
        assert_eq!(shell_quoted("it's"), r"'it'\''s'");
        assert_eq!(shell_quoted(""), "''");
    }
}
