# daneel sensor node as a Balena block (or any Docker host). Multi-arch: the node image is a manifest list
# (linux/arm64 for raspberrypi*-64, linux/arm/v7 for 32-bit, linux/amd64), and balena builds on the target arch.
# Two stages: the builder has a compiler for onoff's epoll addon; the runtime holds only the bundles + that addon.
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# The sources go in before `npm ci`: its `prepare` script runs tsc, and epoll's install script compiles the addon
# here, on the target architecture (a node_modules copied from another arch fails with "invalid ELF header").
COPY . .
RUN npm ci --no-audit --no-fund
# tsc to build/, then esbuild to dist/ (daneel.js: the CLI; daneel-device.js: the runtime; package.json: type
# module), natives external; it prints the bundle sizes and cold-start times into the build log.
RUN npm run build \
  && mkdir -p /out/node_modules \
  && cp -r dist/. /out/ \
  && for m in onoff epoll bindings file-uri-to-path lodash.debounce better-sqlite3; do cp -r "node_modules/$m" /out/node_modules/; done \
  && rm -rf /out/node_modules/epoll/build/Release/obj.target /out/node_modules/epoll/src \
  && rm -rf /out/node_modules/better-sqlite3/deps /out/node_modules/better-sqlite3/src /out/node_modules/better-sqlite3/build/Release/obj.target

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    CRYPTO_PATH=/data/crypto \
    DANEEL_STATE=/data/state \
    DANEEL_CONFIG=/data/device.json
WORKDIR /opt/daneel
COPY --from=build /out/ ./
COPY scripts/balena-start.sh scripts/adopt-identity.sh ./
COPY scripts/balena-gateway.sh ./balena-gateway.sh
# Non-root: the image's `node` user (uid 1000). /data is created here, owned by it, so the named `identity`
# volume (populated from the image on first mount) is writable without root.
RUN chmod 0755 ./balena-start.sh ./adopt-identity.sh ./balena-gateway.sh \
  && mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
CMD ["/opt/daneel/balena-start.sh"]
