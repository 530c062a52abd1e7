# syntax=docker/dockerfile:1

# Node.js 24, an LTS line supported until April 2028 (20 reached its end of life on 2026-04-30).
# Not 26: better-sqlite3 12, the last release that also runs on the Node 20 of development
# machines and CI, builds for Node 20 to 25 only.

# --- build: compile TypeScript and the native SQLite driver -------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# whatsapp-web.js pulls in puppeteer: never download its browser, the image's Chromium is used.
ENV PUPPETEER_SKIP_DOWNLOAD=true
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
COPY bin ./bin
COPY rules ./rules
COPY data/corpus ./data/corpus
# Train the classifier once, at build time: the image carries the cached model.
RUN npm run build \
  && CORPUS_DIR=data/corpus MODEL_CACHE_DIR=model node bin/centralita.js train \
  && npm prune --omit=dev

# --- runtime: only what the hub needs, as a non-root user ----------------------------------
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PUPPETEER_SKIP_DOWNLOAD=true \
    PORT=3000 \
    DATABASE_URL=file:/app/data/centralita.db \
    RULES_DIR=/app/rules \
    CORPUS_DIR=/app/corpus \
    MODEL_CACHE_DIR=/app/model
WORKDIR /app
# Chromium for WHATSAPP_MODE=web (whatsapp-web.js drives WhatsApp Web in it). Build with
# --build-arg WITH_CHROMIUM=false for a smaller image when WhatsApp Web is not used.
ARG WITH_CHROMIUM=true
RUN if [ "$WITH_CHROMIUM" = "true" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends chromium fonts-liberation \
      && rm -rf /var/lib/apt/lists/*; \
    fi
ENV WHATSAPP_CHROMIUM_PATH=/usr/bin/chromium \
    WHATSAPP_SESSION_DIR=/app/data/whatsapp-session
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY rules ./rules
COPY src/store/migrations ./src/store/migrations
COPY src/admin/console/assets ./src/admin/console/assets
# The corpus lives outside data/ (a volume): the model's cache key is the corpus hash.
COPY data/corpus ./corpus
COPY --from=build /app/model ./model
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
# The SQLite database (and WhatsApp Web session) live here: keep it on a volume.
VOLUME ["/app/data"]
# 3000: HTTP. 2525: the inbound SMTP receiver, when SMTP_LISTEN_PORT=2525 (a non-root process
# cannot bind 25: map host port 25 to it).
EXPOSE 3000 2525
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The live heap is small (well under 100 MB at a sustained load); without a bound V8 lets the
# old generation grow lazily to several times that. These keep peak RSS under 200 MB.
CMD ["node", "--max-old-space-size=192", "--max-semi-space-size=8", "bin/centralita.js", "serve"]
