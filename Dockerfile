# syntax=docker/dockerfile:1
# Airlock's image: `airlock serve` by default; the same image runs `airlock agent` (the outbound tunnel agent) and
# every other subcommand (`docker run IMAGE agent --gateway URL --cluster NAME --join-token-file F`).
#
# Node runs the TypeScript sources directly (erasable syntax only): there is no compile step for the gateway, only
# the console (React, bundled by vite) is built. test/deploy/packaging.test.ts performs both stages' COPY and RUN
# lines below, as written, in temp folders (only the build stage's `npm ci` is replaced by the checkout's own dev
# install) and starts `serve` from the result, so a runtime dependency missing from "dependencies", or a path missing
# from a COPY line, fails CI even where no container builder exists.
#
# The Node version is the one pinned by the `node` dev dependency in package.json (the test checks they agree).

# ---- build: the console, with dev dependencies (vite, React) -------------------------------------------------------
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/sim/package.json packages/sim/
# --ignore-scripts: the only install script is the `node` dev dependency's binary download, which the image's own
# Node makes unnecessary.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --ignore-scripts
COPY console/ console/
# The console shares the gateway's rendering of untrusted text (console/src imports src/shared/render.ts).
COPY src/ src/
RUN npx vite build console

# ---- runtime: production dependencies only, non-root, read-only root filesystem -----------------------------------
FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/sim/package.json packages/sim/
# The npm cache is a build cache mount, so it never lands in a layer.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund --ignore-scripts
COPY bin/ bin/
COPY src/ src/
# The simulator (`airlock sim`, `airlock demo`) is an npm workspace with no dependencies beyond the gateway's own
# (ws, yaml); keeping it makes `docker run IMAGE demo` work. The gateway never loads it.
COPY packages/sim/src/ packages/sim/src/
COPY examples/ examples/
COPY --from=build /app/console/dist/ console/dist/
# Writable paths are volumes only: the data directory (keys, TLS, SQLite store, recordings; the configuration's
# dataDir, /var/lib/airlock in deploy/kubernetes) and /tmp. Nothing under /app is written at run time, so the root
# filesystem can be read-only (readOnlyRootFilesystem: true in deploy/kubernetes; `docker run --read-only`).
# The `node` user of the official image, by number so Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 8443
ENTRYPOINT ["node", "bin/airlock.ts"]
CMD ["serve", "--config", "/etc/airlock/airlock.yaml"]
