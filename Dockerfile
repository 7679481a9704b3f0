# Serving image: the API, the page and the shipped ONNX model. No torch: training happens elsewhere.
#   docker build -t moodfeed .
#   docker run --rm -p 8000:8000 moodfeed
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user, and the one folder it may write: the feed store (SQLite) lives there.
RUN groupadd --system --gid 10001 moodfeed \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/moodfeed --create-home moodfeed

WORKDIR /src
COPY pyproject.toml README.md ./
COPY model ./model
COPY service ./service
COPY web ./web
# The serving dependencies only (no [train] extra); model/emotion.onnx and emotion.json are package data.
# The page's templates and static files are not: they stay here, where MOODFEED_WEB_DIR points.
# The check runs isolated (-I), so it sees the installed package, not the sources in this folder.
ENV MOODFEED_WEB_DIR=/src/web \
    MOODFEED_FEED_DB_PATH=/var/lib/moodfeed/feeds.db
RUN pip install . \
    && python -I -c "from service.config import Settings as S; s = S(); \
assert s.model_path.is_file() and s.model_card_path.is_file(), 'no model'; \
assert (s.web_dir / 'templates' / 'index.html').is_file(), 'no page'"

# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
WORKDIR /var/lib/moodfeed
EXPOSE 8000

# slim has no curl: ask the liveness probe with the Python that is already here.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('MOODFEED_PORT', '8000')}/healthz\", timeout=4)"]

CMD ["moodfeed", "serve", "--host", "0.0.0.0"]
