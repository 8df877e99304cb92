FROM python:3.11-slim

# FriBiDi shapes right-to-left names; the Noto CJK and colour emoji fonts cover what the bundled fonts do not.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libfribidi0 fonts-noto-cjk fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
RUN pip install --no-cache-dir .

RUN useradd --create-home figurebot && mkdir -p /data && chown figurebot /data
USER figurebot
ENV FIGUREBOT_DATA_DIR=/data
VOLUME /data
# Telegram's webhook mode listens here (TELEGRAM_WEBHOOK_PORT); polling and Discord need no port.
EXPOSE 8443
CMD ["figurebot", "run"]
