//! The command line: global options, then one subcommand per job.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use signpost_core::model::{AppleAccount, AuthMethod};
use signpost_core::{AuthPolicy, Encryption, OverrideKind, ProtocolKind};

use crate::output::Format;
use crate::settings::ServeArgs;

/// The version and the commit it was built from (build.rs; `unknown` outside a git checkout
/// unless SIGNPOST_GIT_COMMIT is set when building).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SIGNPOST_GIT_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "signpost",
    version = VERSION,
    propagate_version = true,
    about = "Mail client autodiscovery server: Outlook, ActiveSync, Thunderbird, Apple and more",
    long_about = "Signpost answers the autodiscovery requests of mail clients, so a person types an \
address and a password and the client finds its servers, ports and encryption by itself.",
    after_help = "Examples:\n  signpost serve\n  signpost domain add example.com --hostname mail.example.com\n  \
echo 'secret' | signpost user add john@example.com --display-name 'John Doe' --password-stdin"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalOptions {
    /// Data directory holding the embedded store [default: ./signpost-data]
    #[arg(long, global = true, env = "SIGNPOST_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Database URL instead of the embedded store in the data directory (sqlite://PATH)
    #[arg(long, global = true, env = "SIGNPOST_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// Server configuration file (TOML)
    #[arg(long, global = true, env = "SIGNPOST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format of listings and reports
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Log format
    #[arg(long, global = true, value_enum, env = "SIGNPOST_LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

// Parsed once per run; the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the autodiscover server
    #[command(
        after_help = "Examples:\n  signpost serve\n  signpost serve --listen 0.0.0.0:80 --listen [::]:80"
    )]
    Serve(ServeArgs),
    /// Add, list, show, change and remove hosted domains
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Change a domain's protocol settings (the seed's Autodiscover card)
    #[command(subcommand)]
    Protocol(ProtocolCommand),
    /// Add, list, change and remove users
    #[command(subcommand)]
    User(UserCommand),
    /// Replace a domain's generated desktop or mobile XML with custom text
    #[command(subcommand)]
    Override(OverrideCommand),
    /// Add, list, renew and remove TLS certificates
    #[command(subcommand)]
    Cert(CertCommand),
    /// Show the store: where it is, its configuration version, and how much it holds
    #[command(
        after_help = "Examples:\n  signpost status --format json\n  signpost status --verify"
    )]
    Status {
        /// Also check the store's integrity (reads all of it)
        #[arg(long)]
        verify: bool,
    },
    /// Copy the whole store, consistently, while it is in use
    #[command(after_help = "Example:\n  signpost backup /var/backups/signpost-$(date +%F).db")]
    Backup {
        /// The new file (must not exist yet)
        file: PathBuf,
    },
    /// Write the whole configuration as JSON (password hashes and private keys included)
    #[command(
        after_help = "Examples:\n  signpost export > signpost.json\n  signpost export --output signpost.json"
    )]
    Export {
        /// Write to FILE (created readable by its owner only) instead of standard output
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the DNS records a domain needs (zone lines or JSON)
    #[command(
        after_help = "Examples:\n  signpost dns example.com --public-address 192.0.2.10\n  \
signpost dns --all --format json\n  signpost dns example.com --cname signpost.example.net"
    )]
    Dns(DnsArgs),
    /// Check a domain's DNS, certificates, redirects and answers from the outside
    #[command(after_help = "Examples:\n  signpost check example.com\n  \
signpost check example.com --resolver 127.0.0.1:5353 --ca test-ca.pem --format json\n\n\
Each line is PASS, WARN or FAIL with what to do; the exit code is 1 when anything FAILs.")]
    Check(CheckArgs),
    /// Every domain's health in one row: DNS, TLS, answers, ACME (PASS, WARN or FAIL, with the fix)
    #[command(
        after_help = "Examples:\n  signpost health\n  signpost health --domain example.com --format json\n\n\
Exits with 1 when a check fails. The dashboard of the web interface shows the same, checked on a schedule."
    )]
    Health(HealthArgs),
    /// Play each client's discovery for an address and report every step
    #[command(after_help = "Examples:\n  signpost probe john@example.com\n  \
printf '%s\\n' \"$PASSWORD\" | signpost probe john@example.com --password-stdin --connect\n  \
signpost probe john@example.com --client thunderbird --format json")]
    Probe(ProbeArgs),
    /// Print the redirect for a company website hosted elsewhere (IIS, Apache, nginx, Caddy)
    #[command(
        after_help = "Examples:\n  signpost snippet example.com --for apache > .htaccess\n  \
signpost snippet example.com --for iis"
    )]
    Snippet(SnippetArgs),
    /// Import a configuration written by `signpost export`, or ISPDB files (`import ispdb`)
    #[command(
        after_help = "Examples:\n  signpost import signpost.json\n  signpost import --replace - < signpost.json\n  \
signpost import ispdb gmx.net.xml",
        args_conflicts_with_subcommands = true
    )]
    Import(ImportArgs),
    /// Copy everything from one store to another (SQLite to PostgreSQL, say), verified by counts
    /// and checksums; running it again changes nothing
    #[command(
        after_help = "Examples:\n  signpost migrate-store --from sqlite:///var/lib/signpost/signpost.db \\\n    --to postgres://signpost:PASSWORD@db.internal/signpost\n  \
signpost migrate-store --from sqlite://old.db --to postgres://... --replace   # overwrite what the target holds"
    )]
    MigrateStore {
        /// The store to copy from (sqlite://PATH or postgres://...)
        #[arg(long, value_name = "URL")]
        from: String,
        /// The store to copy to (created and migrated if needed)
        #[arg(long, value_name = "URL")]
        to: String,
        /// Replace what the target holds when it differs (otherwise a non-empty target is refused)
        #[arg(long)]
        replace: bool,
    },
    /// Add, list and remove administrators of the web interface and API, and their API tokens
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Who changed what, when and from where (newest first)
    #[command(
        after_help = "Examples:\n  signpost audit\n  signpost audit --domain example.com --since 7d\n  signpost audit --since 2026-11-01 --format json"
    )]
    Audit {
        /// Only changes of this domain
        #[arg(long)]
        domain: Option<String>,
        /// Only changes since then: a date (2026-11-01), a time (2026-11-01T12:00:00Z), Unix
        /// seconds, or an age (30m, 12h, 7d)
        #[arg(long, value_parser = crate::output::parse_since)]
        since: Option<i64>,
        /// At most this many entries
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Print the answer a client would get (the seed's Generate button)
    #[command(
        after_help = "Examples:\n  signpost generate example.com desktop --email john@example.com\n  \
signpost generate example.com mobile --email john@example.com --with-override"
    )]
    Generate(GenerateArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell
    #[command(
        after_help = "Examples:\n  signpost completions bash > /etc/bash_completion.d/signpost\n  \
signpost completions zsh > \"${fpath[1]}/_signpost\"\n  \
signpost completions fish > ~/.config/fish/completions/signpost.fish"
    )]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write the manual pages, signpost(1) and one per subcommand, into DIR (for packaging)
    #[command(hide = true)]
    Manpages {
        /// The directory (created if missing)
        dir: PathBuf,
    },
}

// Parsed once per run; the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Host a new domain
    #[command(
        after_help = "Example:\n  signpost domain add example.com --hostname mail.example.com"
    )]
    Add {
        /// The address domain (example.com)
        name: String,
        /// The mail server name clients are told to use (the seed's Options card Hostname)
        #[arg(long)]
        hostname: String,
        /// Provider name shown by clients
        #[arg(long)]
        display_name: Option<String>,
        /// Whether autodiscover asks for the password: required, optional or off
        #[arg(long, value_parser = parse_auth)]
        auth: Option<AuthPolicy>,
    },
    /// List hosted domains
    #[command(after_help = "Example:\n  signpost domain list --format json")]
    List,
    /// Show a domain's settings
    #[command(after_help = "Example:\n  signpost domain show example.com")]
    Show { name: String },
    /// Change a domain's settings
    #[command(
        after_help = "Examples:\n  signpost domain set example.com --hostname mail2.example.com\n  \
signpost domain set old.example --redirect-to new.example\n  signpost domain set example.com --auth optional"
    )]
    Set {
        name: String,
        #[arg(long)]
        hostname: Option<String>,
        /// Provider name clients show (at most 30 characters)
        #[arg(long)]
        display_name: Option<String>,
        /// Short provider name (at most 12 characters; autoconfig displayShortName)
        #[arg(long)]
        short_name: Option<String>,
        /// Whether autodiscover asks for the password: required, optional or off
        #[arg(long, value_parser = parse_auth)]
        auth: Option<AuthPolicy>,
        /// Send this domain's clients to the same local part at another domain
        #[arg(long, value_name = "DOMAIN", conflicts_with = "no_redirect")]
        redirect_to: Option<String>,
        /// Stop redirecting
        #[arg(long)]
        no_redirect: bool,
        /// Serve another address domain with these settings (repeatable)
        #[arg(long = "alias", value_name = "DOMAIN")]
        add_aliases: Vec<String>,
        /// Stop serving an alias (repeatable)
        #[arg(long = "remove-alias", value_name = "DOMAIN")]
        remove_aliases: Vec<String>,
        /// Help page for mail setup (repeatable; replaces the list; "" clears it)
        #[arg(long = "documentation-url", value_name = "URL")]
        documentation_urls: Vec<String>,
        /// Webmail address ("" clears it)
        #[arg(long, value_name = "URL")]
        webmail_url: Option<String>,
        /// CalDAV server URL, https ("" clears it)
        #[arg(long, value_name = "URL")]
        caldav_url: Option<String>,
        /// CardDAV server URL, https ("" clears it)
        #[arg(long, value_name = "URL")]
        carddav_url: Option<String>,
        /// OAuth2 issuer host name (with --oauth2-scope, --oauth2-auth-url, --oauth2-token-url)
        #[arg(long, value_name = "HOST")]
        oauth2_issuer: Option<String>,
        #[arg(long, value_name = "SCOPE")]
        oauth2_scope: Option<String>,
        #[arg(long, value_name = "URL")]
        oauth2_auth_url: Option<String>,
        #[arg(long, value_name = "URL")]
        oauth2_token_url: Option<String>,
        /// Remove the OAuth2 settings
        #[arg(long, conflicts_with_all = ["oauth2_issuer", "oauth2_scope", "oauth2_auth_url", "oauth2_token_url"])]
        no_oauth2: bool,
        /// What Apple profiles set up: mail (IMAP/POP with SMTP) or eas (ActiveSync)
        #[arg(long, value_parser = parse_apple_account)]
        apple_account: Option<AppleAccount>,
        /// Obtain certificates for autodiscover. and autoconfig. names by ACME: on or off
        #[arg(long, value_parser = parse_on_off, value_name = "on|off")]
        acme: Option<bool>,
        /// Include the mail hostname in the ACME certificate: on or off
        #[arg(long, value_parser = parse_on_off, value_name = "on|off")]
        acme_hostname: Option<bool>,
        /// Include ua-auto-config. names (PACC) in the ACME certificate: on or off
        #[arg(long, value_parser = parse_on_off, value_name = "on|off")]
        acme_pacc: Option<bool>,
    },
    /// Stop hosting a domain (its users are removed too)
    #[command(after_help = "Example:\n  signpost domain remove example.com")]
    Remove { name: String },
    /// Show or set where a domain's users are authenticated: built in, SQL, LDAP or IMAP login
    #[command(
        after_help = "Examples:\n  signpost domain user-source example.com\n  \
signpost domain user-source example.com --set ldap.json\n  \
signpost domain user-source example.com --builtin\n\n\
The file is JSON; secrets are shown as ******** and a ******** sent back keeps the stored one.\n\
SQL (PostfixAdmin):\n  \
{\"kind\": \"sql\", \"url\": \"mysql://reader:PASSWORD@db/postfix\",\n   \
\"query\": \"SELECT password, name AS display_name, active FROM mailbox WHERE username = '%u'\"}\n\
LDAP (search, then bind as the user):\n  \
{\"kind\": \"ldap\", \"url\": \"ldap://ldap.example.com\", \"starttls\": true,\n   \
\"lookup\": {\"mode\": \"search\", \"base\": \"ou=people,dc=example,dc=com\", \"filter\": \"(mail=%u)\",\n   \
\"bind_dn\": \"cn=reader,dc=example,dc=com\", \"bind_password\": \"PASSWORD\"}, \"display_name_attribute\": \"cn\"}\n\
IMAP login (the domain's IMAP server decides):\n  \
{\"kind\": \"imap\", \"check_pop\": true}\n\
See the README's \"Bring your own users\" for every setting."
    )]
    UserSource {
        name: String,
        /// A JSON file with the new source (- for standard input)
        #[arg(long, value_name = "FILE", conflicts_with = "builtin")]
        set: Option<PathBuf>,
        /// Go back to Signpost's own users
        #[arg(long)]
        builtin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProtocolCommand {
    /// Turn a protocol on or off and set its (primary) host, port and encryption
    #[command(
        after_help = "Examples:\n  signpost protocol set example.com imap --port 143 --encryption starttls\n  \
signpost protocol set example.com pop --disable\n  signpost protocol set example.com eas --enable --host eas.example.com\n  \
signpost protocol set example.com imap --username %EMAILLOCALPART% --auth password-cleartext"
    )]
    Set {
        domain: String,
        /// pop, imap, smtp, ews or eas
        #[arg(value_parser = parse_protocol)]
        protocol: ProtocolKind,
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        #[arg(long)]
        disable: bool,
        #[command(flatten)]
        endpoint: EndpointArgs,
    },
    /// Offer a protocol on one more endpoint (SMTP on 465 beside 587, say); autoconfig lists all
    #[command(
        after_help = "Example:\n  signpost protocol add-endpoint example.com smtp --port 465 --encryption ssl"
    )]
    AddEndpoint {
        domain: String,
        /// pop, imap or smtp
        #[arg(value_parser = parse_protocol)]
        protocol: ProtocolKind,
        #[command(flatten)]
        endpoint: EndpointArgs,
    },
    /// Remove an extra endpoint by its number in `signpost domain show` (1 is the first extra)
    #[command(after_help = "Example:\n  signpost protocol remove-endpoint example.com smtp 1")]
    RemoveEndpoint {
        domain: String,
        #[arg(value_parser = parse_protocol)]
        protocol: ProtocolKind,
        number: usize,
    },
}

#[derive(Debug, Args)]
pub struct EndpointArgs {
    /// Server for this endpoint ("" means the domain's hostname; %EMAILDOMAIN% allowed)
    #[arg(long)]
    pub host: Option<String>,
    #[arg(long)]
    pub port: Option<u16>,
    /// ssl (implicit TLS), starttls or none
    #[arg(long, value_parser = parse_encryption)]
    pub encryption: Option<Encryption>,
    /// Login name pattern: %EMAILADDRESS%, %EMAILLOCALPART%, ... ("" for none)
    #[arg(long)]
    pub username: Option<String>,
    /// Authentication method, in order of preference (repeatable): password-cleartext,
    /// password-encrypted, OAuth2, NTLM, client-IP-address, TLS-client-cert, none
    #[arg(long = "auth", value_parser = parse_auth_method, value_name = "METHOD")]
    pub authentication: Vec<AuthMethod>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input
    #[command(
        after_help = "Example:\n  printf '%s\\n' 'secret' | signpost user add john@example.com --display-name 'John Doe' --password-stdin"
    )]
    Add {
        address: String,
        #[arg(long)]
        display_name: Option<String>,
        /// The name the mail server expects at login [default: the address]
        #[arg(long)]
        login_name: Option<String>,
        /// Exchange-style LegacyDN [default: derived from the address]
        #[arg(long)]
        legacy_dn: Option<String>,
        /// Protocols this user may not use (repeatable)
        #[arg(long, value_parser = parse_protocol, value_name = "PROTOCOL")]
        deny: Vec<ProtocolKind>,
        /// Read the password from the first line of standard input
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users, of one domain or all
    #[command(
        after_help = "Examples:\n  signpost user list\n  signpost user list example.com --format json"
    )]
    List { domain: Option<String> },
    /// Show one user
    #[command(after_help = "Example:\n  signpost user show john@example.com")]
    Show { address: String },
    /// Change a user's names and service access
    #[command(
        after_help = "Examples:\n  signpost user set john@example.com --deny pop --allow eas\n  \
signpost user set john@example.com --login-name jdoe"
    )]
    Set {
        address: String,
        #[arg(long)]
        display_name: Option<String>,
        /// An empty value resets the login name to the address
        #[arg(long)]
        login_name: Option<String>,
        /// An empty value resets the LegacyDN to the derived one
        #[arg(long)]
        legacy_dn: Option<String>,
        /// Protocols to take away (repeatable)
        #[arg(long, value_parser = parse_protocol, value_name = "PROTOCOL")]
        deny: Vec<ProtocolKind>,
        /// Protocols to give back (repeatable)
        #[arg(long, value_parser = parse_protocol, value_name = "PROTOCOL")]
        allow: Vec<ProtocolKind>,
    },
    /// Set a user's password from standard input
    #[command(
        after_help = "Example:\n  printf '%s\\n' 'new secret' | signpost user passwd john@example.com --password-stdin"
    )]
    Passwd {
        address: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Remove a user
    #[command(after_help = "Example:\n  signpost user remove john@example.com")]
    Remove { address: String },
    /// Import users with their existing password hashes (all of the file, or none of it)
    #[command(
        after_help = "Examples:\n  signpost user import example.com --from passwd-file /etc/dovecot/users\n  \
signpost user import example.com --from csv users.csv\n\n\
passwd-file: Dovecot's user:{SCHEME}hash:uid:gid:gecos:home:shell:extra (GECOS becomes the display name).\n\
csv: a header naming address, password_hash and optionally display_name, login_name, deny.\n\
Hashes: argon2id/argon2i, bcrypt ($2a$/$2b$/$2y$), SHA512-CRYPT/SHA256-CRYPT ($6$/$5$),\n\
Dovecot's {ARGON2ID} {BLF-CRYPT} {SHA512-CRYPT} {SHA256-CRYPT} {SSHA512} {SSHA256}; weak ones\n\
({PLAIN} {SHA} {SSHA} ...) only with --allow-weak."
    )]
    Import {
        domain: String,
        /// The file's format
        #[arg(long = "from", value_enum)]
        file_format: UserFileFormat,
        /// The file (- for standard input)
        file: PathBuf,
        /// Accept weak hash schemes (plain text, unsalted digests, salted SHA-1), with a warning
        #[arg(long)]
        allow_weak: bool,
    },
    /// Check a password the way an autodiscover request would, and say what answered
    #[command(
        after_help = "Examples:\n  printf '%s\\n' \"$PASSWORD\" | signpost user test john@example.com --password-stdin\n  \
printf '%s\\n' \"$PASSWORD\" | signpost user test john --address john@example.com --password-stdin"
    )]
    Test {
        /// The address, or a bare login name (then give --address)
        #[arg(value_name = "LOGIN")]
        address: String,
        /// The address a client asks about, which a bare login name belongs to
        #[arg(long = "address", value_name = "ADDRESS")]
        asked: Option<String>,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UserFileFormat {
    /// Dovecot's passwd-file
    PasswdFile,
    /// Comma-separated values with a header
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum OverrideCommand {
    /// Save custom XML (from a file, or - for standard input); an empty file gives an empty answer
    #[command(
        after_help = "Example:\n  signpost override set example.com desktop --file custom.xml\n\n\
The text may use %EmailAddress%, %Base64EmailAddress%, %DisplayName% and %LegacyDN%.\n\
It is sent only while the override is on (signpost override on ...)."
    )]
    Set {
        domain: String,
        /// desktop (Outlook and the rest) or mobile (ActiveSync)
        #[arg(value_parser = parse_override)]
        kind: OverrideKind,
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Send the saved custom XML instead of the generated answer
    #[command(after_help = "Example:\n  signpost override on example.com desktop")]
    On {
        domain: String,
        /// desktop (Outlook and the rest) or mobile (ActiveSync)
        #[arg(value_parser = parse_override)]
        kind: OverrideKind,
    },
    /// Send the generated answer again (the saved text is kept)
    #[command(after_help = "Example:\n  signpost override off example.com desktop")]
    Off {
        domain: String,
        /// desktop (Outlook and the rest) or mobile (ActiveSync)
        #[arg(value_parser = parse_override)]
        kind: OverrideKind,
    },
    /// Forget the saved text (the generated answer is sent even while the override is on)
    #[command(after_help = "Example:\n  signpost override clear example.com mobile")]
    Clear {
        domain: String,
        /// desktop (Outlook and the rest) or mobile (ActiveSync)
        #[arg(value_parser = parse_override)]
        kind: OverrideKind,
    },
    /// Print the generated answer with the variables in place of a user's values: the text to
    /// start a custom answer from (the web interface's Generate button)
    #[command(
        after_help = "Example:\n  signpost override template example.com desktop > custom.xml\n  \
signpost override set example.com desktop --file custom.xml"
    )]
    Template {
        domain: String,
        /// desktop (Outlook and the rest) or mobile (ActiveSync)
        #[arg(value_parser = parse_override)]
        kind: OverrideKind,
    },
    /// Show the override's state and saved text
    #[command(after_help = "Example:\n  signpost override show example.com desktop")]
    Show {
        domain: String,
        /// desktop (Outlook and the rest) or mobile (ActiveSync)
        #[arg(value_parser = parse_override)]
        kind: OverrideKind,
    },
}

#[derive(Debug, Args)]
pub struct DnsTargetArgs {
    /// This server's public address for the A/AAAA records (repeatable) [config: dns.public_addresses]
    #[arg(long = "public-address", value_name = "IP")]
    pub public_addresses: Vec<std::net::IpAddr>,
    /// Alias the service names to this host (CNAME) instead of A/AAAA records [config: dns.cname]
    #[arg(long, value_name = "HOST")]
    pub cname: Option<String>,
    /// TTL of the records in seconds [default: 3600]
    #[arg(long)]
    pub ttl: Option<u32>,
}

#[derive(Debug, Args)]
pub struct DnsArgs {
    /// The domain (omit with --all)
    #[arg(required_unless_present = "all")]
    pub domain: Option<String>,
    /// Every hosted domain
    #[arg(long, conflicts_with = "domain")]
    pub all: bool,
    #[command(flatten)]
    pub target: DnsTargetArgs,
}

#[derive(Debug, Args)]
pub struct OutsideArgs {
    /// DNS server to ask instead of the system's
    #[arg(long, value_name = "IP:PORT")]
    pub resolver: Option<SocketAddr>,
    /// Extra CA certificate (PEM) to trust, besides the public ones (repeatable)
    #[arg(long, value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// Port to use where clients use 443 (a NAT or a test setup)
    #[arg(long, default_value_t = 443)]
    pub https_port: u16,
    /// Port to use where clients use 80
    #[arg(long, default_value_t = 80)]
    pub http_port: u16,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    pub domain: String,
    #[command(flatten)]
    pub outside: OutsideArgs,
    #[command(flatten)]
    pub target: DnsTargetArgs,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Only this domain
    #[arg(long)]
    pub domain: Option<String>,
    #[command(flatten)]
    pub outside: OutsideArgs,
    #[command(flatten)]
    pub target: DnsTargetArgs,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    pub address: String,
    /// Read the password from standard input (to authenticate, and to log in with --connect)
    #[arg(long)]
    pub password_stdin: bool,
    /// Which client to play: outlook, activesync, thunderbird, apple, v2 or all
    #[arg(long, default_value = "all")]
    pub client: String,
    /// Also open every advertised IMAP, POP3 and SMTP endpoint (and log in with the password)
    #[arg(long)]
    pub connect: bool,
    #[command(flatten)]
    pub outside: OutsideArgs,
}

#[derive(Debug, Args)]
pub struct SnippetArgs {
    pub domain: String,
    /// iis, apache, nginx or caddy
    #[arg(long = "for", value_name = "SERVER")]
    pub server: String,
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Store a certificate chain and key; it is served for every name its SANs cover
    #[command(after_help = "Example:\n  signpost cert add --cert fullchain.pem --key privkey.pem")]
    Add {
        /// PEM chain, leaf first
        #[arg(long, value_name = "CHAIN.pem")]
        cert: PathBuf,
        /// PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)
        #[arg(long, value_name = "KEY.pem")]
        key: PathBuf,
    },
    /// List every name Signpost serves, its certificate, issuer, expiry and source
    #[command(after_help = "Examples:\n  signpost cert list\n  signpost cert list --format json")]
    List,
    /// Remove the stored certificate(s) covering NAME (or with this id)
    #[command(
        after_help = "Examples:\n  signpost cert remove autodiscover.example.com\n  signpost cert remove 3"
    )]
    Remove { name: String },
    /// Order the ACME certificate covering NAME again now
    #[command(after_help = "Example:\n  signpost cert renew autodiscover.example.com")]
    Renew { name: String },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub command: Option<ImportCommand>,
    /// A `signpost export` file, or - for standard input
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Replace everything in the store (otherwise the store must hold no domains)
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import Thunderbird ISPDB files (config-v1.1.xml) as domains
    #[command(
        after_help = "Examples:\n  signpost import ispdb gmx.net.xml web.de.xml\n  signpost import ispdb --replace isp/*.xml\n\n\
Each file becomes one domain (its first <domain>; the others become aliases). What Signpost\n\
cannot represent is dropped with a warning naming it."
    )]
    Ispdb {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Replace domains that already exist instead of skipping them
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AnswerKind {
    /// Outlook's POX answer
    Desktop,
    /// The ActiveSync answer
    Mobile,
    /// Thunderbird's config-v1.1.xml
    Autoconfig,
    /// The Apple configuration profile (unsigned)
    Mobileconfig,
    /// The PACC user-agent-configuration.json
    Pacc,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    pub domain: String,
    #[arg(value_enum)]
    pub kind: AnswerKind,
    /// The address the answer is for
    #[arg(long)]
    pub email: String,
    /// Apply the domain's override, if on, as the server would
    #[arg(long)]
    pub with_override: bool,
    /// For pacc: print the _ua-auto-config TXT record value instead of the document
    #[arg(long)]
    pub txt: bool,
}

// Values are parsed by the model's own parsers, the same ones the API uses.
fn parse_protocol(value: &str) -> Result<ProtocolKind, String> {
    ProtocolKind::parse(value).map_err(|e| e.message)
}

fn parse_encryption(value: &str) -> Result<Encryption, String> {
    Encryption::parse(value).map_err(|e| e.message)
}

fn parse_auth(value: &str) -> Result<AuthPolicy, String> {
    AuthPolicy::parse(value).map_err(|e| e.message)
}

fn parse_override(value: &str) -> Result<OverrideKind, String> {
    OverrideKind::parse(value).map_err(|e| e.message)
}

fn parse_auth_method(value: &str) -> Result<AuthMethod, String> {
    AuthMethod::parse(value).map_err(|e| e.message)
}

fn parse_apple_account(value: &str) -> Result<AppleAccount, String> {
    AppleAccount::parse(value).map_err(|e| e.message)
}

fn parse_on_off(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("'{value}' is not one of on, off")),
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add an administrator (the password is read from standard input)
    #[command(
        after_help = "Examples:\n  printf '%s\\n' \"$PASSWORD\" | signpost admin add alice --password-stdin\n  \
printf '%s\\n' \"$PASSWORD\" | signpost admin add bob --password-stdin --domain example.com"
    )]
    Add {
        name: String,
        /// Read the password from the first line of standard input
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Make a domain administrator of these domains only (repeatable); without it, a system
        /// administrator who manages everything
        #[arg(long = "domain", value_name = "DOMAIN")]
        domains: Vec<String>,
    },
    /// List administrators
    #[command(after_help = "Example:\n  signpost admin list --format json")]
    List,
    /// Set an administrator's password (read from standard input)
    #[command(
        after_help = "Example:\n  printf '%s\\n' \"$PASSWORD\" | signpost admin passwd alice --password-stdin"
    )]
    Passwd {
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Remove an administrator with their tokens and sessions
    #[command(after_help = "Example:\n  signpost admin remove bob")]
    Remove { name: String },
    /// Issue, list and revoke API tokens
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token for scripts; it is printed alone on standard output, once
    #[command(
        after_help = "Example:\n  TOKEN=$(signpost admin token create deploy --admin alice)\n  \
curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8080/api/v1/domains"
    )]
    Create {
        /// A name to tell the token apart (e.g. the script that uses it)
        name: String,
        /// Whose token it is (their role applies) [default: the only administrator]
        #[arg(long = "admin", value_name = "NAME")]
        administrator: Option<String>,
    },
    /// List tokens (never the tokens themselves)
    #[command(after_help = "Example:\n  signpost admin token list")]
    List,
    /// Revoke a token
    #[command(after_help = "Example:\n  signpost admin token revoke deploy --admin alice")]
    Revoke {
        name: String,
        #[arg(long = "admin", value_name = "NAME")]
        administrator: Option<String>,
    },
}
