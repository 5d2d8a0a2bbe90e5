# Build: the offline sqlx metadata in .sqlx/ lets this compile without a database.
#
# By default the image is the production gateway: no Diia emulator, test CA or sample cabinet.
# docker-compose.yml builds it with the demo commands (`kepgate demo`, `kepgate emulator`,
# `kepgate cabinet`) that its services run:
#   docker build --build-arg DEMO=true -t kepgate-demo .
FROM rust:1-slim-bookworm AS build
ARG DEMO=false
WORKDIR /src
ENV SQLX_OFFLINE=true
COPY Cargo.toml Cargo.lock ./
# Build flags (x86-64: the carry-less multiply for DSTU 4145).
COPY .cargo .cargo
COPY .sqlx .sqlx
COPY migrations migrations
COPY templates templates
COPY static static
COPY crates crates
COPY src src
RUN if [ "$DEMO" = true ]; then features="--features demo"; else features=""; fi \
 && cargo build --release --locked --bin kepgate $features

# Run: a small image, no shell tools beyond what the healthcheck needs, not root.
FROM debian:bookworm-slim
ARG DEMO=false
# The demo's folders exist owned by kepgate, so the named volumes docker-compose.yml mounts there
# start writable by it (the emulator's CA and keys).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin kepgate \
 && if [ "$DEMO" = true ]; then \
      install -d -o kepgate -g kepgate /var/lib/kepgate/demo /var/lib/kepgate/emulator; \
    fi
COPY --from=build /src/target/release/kepgate /usr/local/bin/kepgate
USER kepgate
EXPOSE 8080 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/.kepgate/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/kepgate"]
CMD ["serve"]
