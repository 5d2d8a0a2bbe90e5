# Build: the offline sqlx metadata in .sqlx/ lets this compile without a database.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true
COPY Cargo.toml Cargo.lock ./
COPY .sqlx .sqlx
COPY migrations migrations
COPY templates templates
COPY static static
COPY src src
RUN cargo build --release --locked --bin kepgate

# Run: a small image, no shell tools beyond what the healthcheck needs, not root.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin kepgate
COPY --from=build /src/target/release/kepgate /usr/local/bin/kepgate
USER kepgate
EXPOSE 8080 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/.kepgate/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/kepgate"]
CMD ["serve"]
