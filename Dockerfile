# The crkg API. Neo4j runs in its own container (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY graph ./graph
COPY api ./api
COPY loaders ./loaders
COPY algorithms ./algorithms
RUN pip install . && useradd --system --uid 10001 crkg

USER crkg
EXPOSE 8000
CMD ["sh", "-c", "crkg init && crkg serve --host 0.0.0.0 --port 8000"]
