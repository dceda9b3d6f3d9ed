# mvsep-mcp for automation hosts: the MCP server over stdio (the default) or streamable HTTP.
#   docker build -t mvsep-mcp .
#   stdio: docker run -i --rm -e MVSEP_API_TOKEN -v "$PWD/stems:/stems" mvsep-mcp
#   HTTP:  docker run --rm -p 8000:8000 -e MVSEP_API_TOKEN -v "$PWD/stems:/stems" mvsep-mcp \
#            serve --transport http --host 0.0.0.0 --port 8000        (endpoint http://localhost:8000/mcp)
# Only the server is installed by default (no extra). The hosted server of deploy/compose.yaml is this image built
# with `--build-arg EXTRAS=hosted,postgres` and the HTTP command. Stems go to /stems, the job journal and caches to
# /data: mount both to keep them. The token comes from the environment, never from the image.
FROM python:3.12-slim

# extras of the project to install, comma-separated (e.g. hosted,postgres); empty: the server alone
ARG EXTRAS=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MVSEP_OUTPUT_DIR=/stems \
    MVSEP_DATA_DIR=/data

WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY server ./server
COPY tools ./tools
RUN pip install ".${EXTRAS:+[$EXTRAS]}" \
    && useradd --create-home --uid 10001 mvsep \
    && mkdir -p /stems /data \
    && chown mvsep:mvsep /stems /data

USER mvsep
WORKDIR /home/mvsep
VOLUME ["/stems", "/data"]
EXPOSE 8000
ENTRYPOINT ["mvsep-mcp"]
CMD ["serve"]
