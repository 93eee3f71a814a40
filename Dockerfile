# Signpost in a container: a release build on Debian, run as an unprivileged user.
#   docker build -t signpost .
#   docker run -d -p 80:8080 -p 443:8443 -v signpost:/var/lib/signpost signpost
#   docker exec <container> signpost domain add example.com --hostname mail.example.com
# Configuration: SIGNPOST_* environment variables, or a TOML file mounted at
# /etc/signpost/signpost.toml and named with SIGNPOST_CONFIG.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY bench bench
RUN cargo build --release --locked --package signpost --bin signpost

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/signpost --create-home --shell /usr/sbin/nologin signpost
COPY --from=build /src/target/release/signpost /usr/local/bin/signpost
USER signpost
# The data directory holds the store (and ACME accounts and certificates): keep it on a volume.
ENV SIGNPOST_DATA=/var/lib/signpost
VOLUME ["/var/lib/signpost"]
# Unprivileged ports inside; publish them as 80 and 443.
ENV SIGNPOST_LISTEN=0.0.0.0:8080
ENV SIGNPOST_LISTEN_TLS=0.0.0.0:8443
# Redirects name the https port clients see, not the one inside.
ENV SIGNPOST_PUBLIC_HTTPS_PORT=443
EXPOSE 8080 8443
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/signpost"]
CMD ["serve"]
