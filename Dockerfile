# faildex in a container: a static binary, run as a non-root user, with the
# bundled corpus indexed into the image so that it serves at once.
#
#   docker build -t faildex .
#   docker run -p 8080:8080 faildex                        # the bundled corpus
#   docker run faildex serve --index-from http://artifacts/latest.sha256 --poll 30s \
#       --index /var/lib/faildex/index --addr 0.0.0.0:8080 --drain 5s   # a replica
#
# See docs/deploy.md and deploy/compose.yaml.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/faildex ./cmd/faildex
# The bundled corpus, indexed once here (the index is checked when opened).
RUN /out/faildex index --index /out/index data

FROM alpine:3.22
# busybox's wget answers the health check; nothing else is added.
RUN adduser -D -H -u 10001 faildex \
 && mkdir -p /var/lib/faildex \
 && chown faildex:faildex /var/lib/faildex
COPY --from=build /out/faildex /usr/local/bin/faildex
COPY --from=build --chown=faildex:faildex /out/index /var/lib/faildex/index
COPY --from=build /src/data /usr/share/faildex/data
USER faildex
WORKDIR /var/lib/faildex
ENV FAILDEX_INDEX=/var/lib/faildex/index
EXPOSE 8080
# Liveness only: /readyz (a verified generation open, not draining) is for
# load balancers and orchestrators, which must not restart a replica that is
# still fetching its first artifact.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["faildex"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--drain", "5s"]
