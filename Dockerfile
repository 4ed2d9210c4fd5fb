# The crkg API. Neo4j runs in its own container (see docker-compose.yml).

# 1. The browser assets, from npm through the committed lock file: GraphiQL's files and the
#    explorer page (TypeScript type-checked and bundled by esbuild). Only the built files go on.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY api/static/build.mjs ./api/static/build.mjs
COPY explorer ./explorer
RUN npm run build

# 2. The API itself.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# the runtime dependencies pinned and hash-checked (requirements.lock: no dev tools), then
# crkg itself without resolving again
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY api ./api
COPY --from=assets /build/api/static/vendor ./api/static/vendor
COPY --from=assets /build/api/explorer/static ./api/explorer/static
COPY loaders ./loaders
COPY algorithms ./algorithms
COPY synthbank ./synthbank
COPY cli ./cli
RUN pip install --no-deps . && useradd --system --uid 10001 crkg

USER crkg
EXPOSE 8000
CMD ["sh", "-c", "crkg init && crkg serve --host 0.0.0.0 --port 8000"]
