//! Opening the mail servers an answer advertises, with the advertised encryption (implicit TLS
//! or STARTTLS), checking their certificates, and logging in when a password is given: the proof
//! that an answer actually works.

use std::time::Duration;

use base64::Engine;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::Status;
use crate::dns::Dns;
use crate::tls::{self, Roots};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum MailProtocol {
    #[serde(rename = "IMAP")]
    Imap,
    #[serde(rename = "POP3")]
    Pop3,
    #[serde(rename = "SMTP")]
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Implicit TLS.
    Ssl,
    Starttls,
    Plain,
}

/// What happened when connecting to one endpoint.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Connection {
    pub protocol: MailProtocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub status: Status,
    pub detail: String,
}

const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest server line read.
const MAX_LINE: usize = 8192;

/// Connects, secures the connection as advertised, and logs in when `credentials` are given.
pub async fn connect(
    protocol: MailProtocol,
    host: &str,
    port: u16,
    security: Security,
    dns: &Dns,
    roots: &Roots,
    credentials: Option<(&str, &str)>,
) -> Connection {
    let credentials = credentials.map(|(user, password)| Credentials {
        user,
        password,
        origin: None,
    });
    let outcome = tokio::time::timeout(
        STEP_TIMEOUT * 4,
        session(protocol, host, port, security, dns, roots, credentials),
    )
    .await
    .unwrap_or_else(|_| Err("timed out".to_string().into()));
    let (status, detail) = match outcome {
        Ok(detail) => (Status::Pass, detail),
        Err(why) => (Status::Fail, why.message),
    };
    Connection {
        protocol,
        host: host.to_string(),
        port,
        security,
        status,
        detail,
    }
}

/// Why a connection or a login did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The server answered and refused the login (as opposed to not being reachable, or its
    /// certificate not being trusted).
    pub refused: bool,
    pub message: String,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self {
            refused: false,
            message,
        }
    }
}

/// A login to make, for someone who reached Signpost from `origin`.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub user: &'a str,
    pub password: &'a str,
    /// The address of the person whose password this is: an IMAP server that trusts Signpost
    /// (Dovecot's `login_trusted_networks`) logs it, and slows down failed logins by it rather
    /// than by Signpost's own address (RFC 2971 ID, `x-originating-ip`).
    pub origin: Option<std::net::IpAddr>,
}

/// Logs in over TLS (implicit or STARTTLS, the certificate checked for `host`): whether the
/// server takes this password.
pub async fn log_in(
    protocol: MailProtocol,
    (host, port, security): (&str, u16, Security),
    dns: &Dns,
    roots: &Roots,
    credentials: Credentials<'_>,
) -> Result<(), Failure> {
    if security == Security::Plain {
        return Err("passwords are only sent over TLS".to_string().into());
    }
    tokio::time::timeout(
        STEP_TIMEOUT,
        session(
            protocol,
            host,
            port,
            security,
            dns,
            roots,
            Some(credentials),
        ),
    )
    .await
    .unwrap_or_else(|_| Err(format!("{host}:{port} did not answer in time").into()))
    .map(|_| ())
}

async fn session(
    protocol: MailProtocol,
    host: &str,
    port: u16,
    security: Security,
    dns: &Dns,
    roots: &Roots,
    credentials: Option<Credentials<'_>>,
) -> Result<String, Failure> {
    let ip = *dns
        .addresses(host)
        .await
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .first()
        .ok_or_else(|| format!("{host} has no address"))?;
    let tcp = TcpStream::connect((ip, port))
        .await
        .map_err(|e| format!("cannot connect to {ip}:{port}: {e}"))?;
    match security {
        Security::Plain => {
            let mut line = Lines::new(tcp);
            line.greeting(protocol).await?;
            let login = login(&mut line, protocol, credentials).await?;
            Ok(format!("connected without encryption{login}"))
        }
        Security::Ssl => {
            let (tls, verdict) = tls::handshake(tcp, host, roots, &[]).await?;
            verdict.verified?;
            let mut line = Lines::new(tls);
            line.greeting(protocol).await?;
            let login = login(&mut line, protocol, credentials).await?;
            Ok(format!("implicit TLS, certificate valid for {host}{login}"))
        }
        Security::Starttls => {
            let mut plain = Lines::new(tcp);
            plain.greeting(protocol).await?;
            plain.start_tls(protocol).await?;
            let tcp = plain.into_inner()?;
            let (tls, verdict) = tls::handshake(tcp, host, roots, &[]).await?;
            verdict.verified?;
            let mut line = Lines::new(tls);
            if protocol == MailProtocol::Smtp {
                line.ehlo().await?;
            }
            let login = login(&mut line, protocol, credentials).await?;
            Ok(format!("STARTTLS, certificate valid for {host}{login}"))
        }
    }
}

async fn login<S: AsyncRead + AsyncWrite + Unpin>(
    line: &mut Lines<S>,
    protocol: MailProtocol,
    credentials: Option<Credentials<'_>>,
) -> Result<String, Failure> {
    let Some(Credentials {
        user,
        password,
        origin,
    }) = credentials
    else {
        return Ok(String::new());
    };
    // Only a verdict on the password is a refusal; a server saying it cannot check now
    // (RFC 5530's UNAVAILABLE, RFC 3206's SYS/TEMP, SMTP's 454...) is an outage.
    let refused = |reply: &str| Failure {
        refused: !is_temporary(protocol, reply),
        message: format!("login as {user} refused: {}", printable(reply.trim())),
    };
    // A line break would end the command early and start another one with the rest.
    if [user, password]
        .iter()
        .any(|s| s.contains(['\r', '\n', '\0']))
    {
        return Err(Failure {
            refused: true,
            message: "a line break or NUL in the user name or password".into(),
        });
    }
    match protocol {
        MailProtocol::Imap => {
            let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
            if let Some(origin) = origin {
                // Whatever the answer (a server without ID says BAD), the login goes on.
                line.send(&format!("a1 ID (\"x-originating-ip\" \"{origin}\")"))
                    .await?;
                line.tagged("a1").await?;
            }
            line.send(&format!("a2 LOGIN {} {}", quote(user), quote(password)))
                .await?;
            let reply = line.tagged("a2").await?;
            if !reply.starts_with("a2 OK") {
                return Err(refused(&reply));
            }
        }
        MailProtocol::Pop3 => {
            line.send(&format!("USER {user}")).await?;
            let reply = line.read().await?;
            if !reply.starts_with("+OK") {
                return Err(refused(&reply));
            }
            line.send(&format!("PASS {password}")).await?;
            let reply = line.read().await?;
            if !reply.starts_with("+OK") {
                return Err(refused(&reply));
            }
        }
        MailProtocol::Smtp => {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
            line.send(&format!("AUTH PLAIN {token}")).await?;
            let reply = line.smtp_reply().await?;
            if !reply.starts_with("235") {
                return Err(refused(&reply));
            }
        }
    }
    Ok(format!("; logged in as {user}"))
}

/// Whether a failed login's reply says the server could not decide now, rather than that the
/// password is wrong.
fn is_temporary(protocol: MailProtocol, reply: &str) -> bool {
    let upper = reply.to_ascii_uppercase();
    match protocol {
        MailProtocol::Imap => {
            upper.split_whitespace().nth(1) == Some("BAD")
                || [
                    "[UNAVAILABLE]",
                    "[SERVERBUG]",
                    "[INUSE]",
                    "[LIMIT]",
                    "[CORRUPTION]",
                ]
                .iter()
                .any(|code| upper.contains(code))
        }
        MailProtocol::Pop3 => ["[SYS/TEMP]", "[SYS/PERM]", "[IN-USE]", "[LOGIN-DELAY]"]
            .iter()
            .any(|code| upper.contains(code)),
        MailProtocol::Smtp => !upper.starts_with("535"),
    }
}

/// A server's reply as it may be shown: printable characters only, at most 200.
fn printable(reply: &str) -> String {
    reply
        .chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A line-oriented conversation, each read bounded in time and length.
struct Lines<S> {
    reader: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Lines<S> {
    fn new(stream: S) -> Self {
        Self {
            reader: BufReader::new(stream),
        }
    }

    async fn read(&mut self) -> Result<String, String> {
        let mut line = Vec::new();
        let read = tokio::time::timeout(STEP_TIMEOUT, async {
            loop {
                let buffer = self.reader.fill_buf().await.map_err(|e| e.to_string())?;
                if buffer.is_empty() {
                    return Err("the server closed the connection".to_string());
                }
                let (chunk, done) = match buffer.iter().position(|b| *b == b'\n') {
                    Some(end) => (&buffer[..=end], true),
                    None => (buffer, false),
                };
                line.extend_from_slice(chunk);
                let used = chunk.len();
                self.reader.consume(used);
                if line.len() > MAX_LINE {
                    return Err("the server sent an overlong line".to_string());
                }
                if done {
                    return Ok(());
                }
            }
        })
        .await;
        match read {
            Ok(Ok(())) => Ok(String::from_utf8_lossy(&line).trim_end().to_string()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the server did not answer in time".to_string()),
        }
    }

    async fn send(&mut self, line: &str) -> Result<(), String> {
        let stream = self.reader.get_mut();
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        stream.flush().await.map_err(|e| e.to_string())
    }

    /// Reads until the line tagged `tag` (IMAP).
    async fn tagged(&mut self, tag: &str) -> Result<String, String> {
        for _ in 0..100 {
            let line = self.read().await?;
            if line.starts_with(tag) {
                return Ok(line);
            }
        }
        Err("no tagged answer".into())
    }

    /// Reads a whole (possibly multi-line) SMTP reply; returns its last line.
    async fn smtp_reply(&mut self) -> Result<String, String> {
        for _ in 0..100 {
            let line = self.read().await?;
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return Ok(line);
            }
        }
        Err("overlong SMTP reply".into())
    }

    async fn greeting(&mut self, protocol: MailProtocol) -> Result<(), String> {
        let (reply, expected) = match protocol {
            MailProtocol::Imap => (self.read().await?, "* OK"),
            MailProtocol::Pop3 => (self.read().await?, "+OK"),
            MailProtocol::Smtp => (self.smtp_reply().await?, "220"),
        };
        if !reply.starts_with(expected) {
            return Err(format!("unexpected greeting: {reply}"));
        }
        if protocol == MailProtocol::Smtp {
            self.ehlo().await?;
        }
        Ok(())
    }

    async fn ehlo(&mut self) -> Result<(), String> {
        self.send("EHLO signpost.probe").await?;
        let reply = self.smtp_reply().await?;
        if !reply.starts_with("250") {
            return Err(format!("EHLO refused: {reply}"));
        }
        Ok(())
    }

    async fn start_tls(&mut self, protocol: MailProtocol) -> Result<(), String> {
        let (reply, expected) = match protocol {
            MailProtocol::Imap => {
                self.send("a1 STARTTLS").await?;
                (self.tagged("a1").await?, "a1 OK")
            }
            MailProtocol::Pop3 => {
                self.send("STLS").await?;
                (self.read().await?, "+OK")
            }
            MailProtocol::Smtp => {
                self.send("STARTTLS").await?;
                (self.smtp_reply().await?, "220")
            }
        };
        if !reply.starts_with(expected) {
            return Err(format!("STARTTLS refused: {reply}"));
        }
        Ok(())
    }

    /// The stream back, for a TLS upgrade; refused if the server already sent more.
    fn into_inner(self) -> Result<S, String> {
        if !self.reader.buffer().is_empty() {
            return Err(
                "the server sent data before the TLS handshake (STARTTLS injection?)".into(),
            );
        }
        Ok(self.reader.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_verdict_on_the_password_is_a_refusal() {
        use MailProtocol::*;
        let temporary = |protocol, reply| is_temporary(protocol, reply);
        assert!(!temporary(
            Imap,
            "a2 NO [AUTHENTICATIONFAILED] Authentication failed."
        ));
        assert!(!temporary(Imap, "a2 NO [AUTHORIZATIONFAILED] disabled"));
        assert!(temporary(
            Imap,
            "a2 NO [UNAVAILABLE] Temporary authentication failure."
        ));
        assert!(temporary(Imap, "a2 BAD Error in IMAP command"));
        assert!(!temporary(Pop3, "-ERR [AUTH] Authentication failed."));
        assert!(temporary(Pop3, "-ERR [IN-USE] Mailbox is locked"));
        assert!(temporary(
            Pop3,
            "-ERR [SYS/TEMP] Temporary authentication failure."
        ));
        assert!(!temporary(Smtp, "535 5.7.8 Error: authentication failed"));
        assert!(temporary(
            Smtp,
            "454 4.7.0 Temporary authentication failure"
        ));
    }
}
