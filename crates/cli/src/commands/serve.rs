//! `signpost serve`

use std::io::Write;

use super::Ctx;
use crate::settings::{self, ServeArgs};

pub async fn run(ctx: &Ctx, args: &ServeArgs) -> anyhow::Result<()> {
    let settings = settings::server_config(args)?;
    if args.check_config {
        return check_config(ctx, &settings.server).await;
    }
    let prepared = signpost_server::prepare(ctx.store.clone(), settings.server).await?;
    let administration = match settings.admin {
        Some(admin) => Some(signpost_admin::surface(&prepared, admin).await?),
        None => None,
    };
    signpost_server::serve(
        prepared,
        administration,
        |bound| {
            // One line per listener on standard output, then `ready`, for people and for
            // scripts that start the server on port 0 and need to know where it went.
            let mut stdout = std::io::stdout().lock();
            for address in &bound.http {
                let _ = writeln!(stdout, "signpost: listening on http://{address}");
            }
            for address in &bound.https {
                let _ = writeln!(stdout, "signpost: listening on https://{address}");
            }
            for address in &bound.admin {
                let _ = writeln!(stdout, "signpost: administration on http://{address}/admin");
            }
            for address in &bound.admin_tls {
                let _ = writeln!(
                    stdout,
                    "signpost: administration on https://{address}/admin"
                );
            }
            if let Some(link) = &bound.setup_link {
                let _ = writeln!(
                    stdout,
                    "signpost: no administrator yet; create one at {link}"
                );
            }
            let _ = writeln!(stdout, "signpost: ready");
            let _ = stdout.flush();
            let listeners = bound.http.len() + bound.https.len();
            crate::systemd::notify(&format!(
                "READY=1\nSTATUS=serving on {listeners} listener(s)"
            ));
        },
        {
            let stop = shutdown_signal();
            async move {
                stop.await;
                crate::systemd::notify("STOPPING=1");
            }
        },
    )
    .await
}

/// `serve --check-config`: what would be served, without binding anything.
async fn check_config(ctx: &Ctx, config: &signpost_server::ServerConfig) -> anyhow::Result<()> {
    let version = ctx.store.version().await?;
    let domains = ctx.store.domains().await?.len();
    let listeners = |addresses: &[std::net::SocketAddr]| match addresses {
        [] => "none".to_string(),
        _ => addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    };
    let acme = match &config.acme {
        Some(acme) => format!("{} ({})", acme.directory_url, acme.challenge.name()),
        None => "off".to_string(),
    };
    let signing = &config.profile_signing;
    let signing = format!(
        "{}, {} per-domain",
        if signing.default.is_some() {
            "default certificate"
        } else {
            "no default"
        },
        signing.per_domain.len()
    );
    crate::output::print_fields(&[
        ("Configuration version", version.to_string()),
        ("Domains", domains.to_string()),
        ("HTTP", listeners(&config.listen)),
        ("HTTPS", listeners(&config.listen_tls)),
        ("ACME", acme),
        ("Profile signing", signing),
        ("Result", "configuration OK".to_string()),
    ]);
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: a SIGTERM right after READY must stop the server gracefully too.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        async move {
            let next = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = next(terminate) => {},
                _ = next(interrupt) => {},
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
