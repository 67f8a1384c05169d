# syntax=docker/dockerfile:1
# The taizhang server image: a build stage with the Rust toolchain, a runtime stage with only the
# binary and CA certificates, run as an unprivileged user. `docker compose build` uses it; the
# configuration comes from the environment (`taizhang serve --help` lists every variable).
# tests/tests/compose.rs checks this file against the server and docker-compose.yml.

# The toolchain CI builds with (the workspace's rust-version is the minimum it supports).
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src
# The whole workspace: cargo needs every member's manifest, and the binary embeds migrations/.
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY tests ./tests
COPY migrations ./migrations
# The registry and target directory are BuildKit cache mounts: a rebuild after a source change
# downloads nothing and recompiles only the crates that changed. The binary is copied out of the
# cache mount, which does not survive the step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p taizhang \
    && install -D -m 0755 target/release/taizhang /out/taizhang

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 taizhang \
    && useradd --system --uid 10001 --gid taizhang --home-dir /var/lib/taizhang \
        --shell /usr/sbin/nologin taizhang \
    && install -d -o taizhang -g taizhang -m 0750 /var/lib/taizhang
COPY --from=builder /out/taizhang /usr/local/bin/taizhang
# The data directory (the home of the unprivileged user): without DATABASE_URL the embedded
# SQLite store lives here (mount a volume on it to keep it); with PostgreSQL nothing is kept here.
WORKDIR /var/lib/taizhang
VOLUME /var/lib/taizhang
# In a container the server must listen on every interface; the port is the one EXPOSEd.
ENV TAIZHANG_LISTEN=0.0.0.0:8080 \
    TAIZHANG_LOG_FORMAT=json \
    TAIZHANG_DATA_DIR=/var/lib/taizhang
EXPOSE 8080
# A numeric user, so that runtimes enforcing "run as non-root" can verify it.
USER 10001:10001
# GET /healthz on TAIZHANG_LISTEN (the runtime image has no curl). Exit 0 healthy, 1 not.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["taizhang", "healthcheck"]
ENTRYPOINT ["taizhang"]
CMD ["serve"]
