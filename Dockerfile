# syntax=docker/dockerfile:1
#
# Switchyard: build with the dev toolchain, run with production dependencies only.
#   docker build -t switchyard .
#   docker run -p 3000:3000 -e SLACK_BOT_TOKEN=… -e SLACK_SIGNING_SECRET=… \
#     -v switchyard-state:/var/lib/switchyard switchyard

# ---- build: compile TypeScript to dist/, then drop dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm ci` runs the `prepare` script (scripts/build.mjs), which skips the build while src/ is absent.
COPY scripts/build.mjs ./scripts/build.mjs
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
# One bundled module, where tsconfig.build.json would put it too: src/main.ts → dist/src/main.js
RUN npm run build && npm prune --omit=dev

# ---- runtime: dist/, production node_modules, package.json ("type": "module") ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production STATE_DIR=/var/lib/switchyard PORT=3000
WORKDIR /app
# The state (flags, confirmations, audit log) lives in STATE_DIR: the only place the bot writes.
RUN mkdir -p /var/lib/switchyard && chown node:node /var/lib/switchyard
# The application files stay owned by root: the bot's user can read them, not change them.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# No curl in the slim image: Node's own fetch asks the liveness route.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
# main.ts handles SIGTERM itself: it stops taking requests and finishes in-flight work before exiting.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
