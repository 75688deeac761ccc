# FaceDeck's RunPod serverless worker image: `facedeck --headless worker`.
#
#   docker build -t REGISTRY/facedeck-worker:0.1.0 .                        # models from the network volume
#   docker build --build-arg ACCEPT_MODEL_TERMS=yes -t REGISTRY/facedeck-worker:0.1.0 .  # models baked in
#
# Base: plain python:3.11-slim, not nvidia/cuda. The gpu extra installs
# onnxruntime-gpu[cuda,cudnn], which brings the CUDA 13 and cuDNN runtime libraries as PyPI
# wheels (loaded by onnxruntime.preload_dlls(), DESIGN.md section 3); the only thing the
# container needs from the host is the driver (libcuda), which the NVIDIA container runtime
# mounts. A CUDA base image would add a second, unused copy of the same libraries (gigabytes)
# whose version would have to track onnxruntime's. The host driver must support CUDA 13
# (R580 or newer): choose the endpoint's allowed CUDA versions accordingly.
FROM python:3.11-slim-bookworm

# The NVIDIA runtime exposes GPUs and mounts the driver's compute libraries (and nvidia-smi,
# "utility") only into containers that ask; CUDA base images set these, python's does not.
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FACEDECK_MODELS_DIR=/opt/facedeck/models \
    FACEDECK_CONFIG_DIR=/opt/facedeck/config

# Only what the package is built from (.dockerignore keeps tests, caches and weights out).
# README.md: pyproject's readme, read when the wheel's metadata is built.
WORKDIR /opt/facedeck/src
COPY pyproject.toml README.md ./
COPY core ./core
COPY desktop ./desktop
COPY remote ./remote
COPY models ./models
COPY resources ./resources

# gpu (onnxruntime-gpu with CUDA and cuDNN wheels) and worker (runpod, boto3); no gui, so
# no Qt in the image. A plain (non-editable) install: the sources are not needed after it.
RUN pip install ".[gpu,worker]" \
    && cd / && rm -rf /opt/facedeck/src \
    && facedeck --headless --version

# Models. By default none are baked in: the worker reads /runpod-volume/facedeck/models (a
# RunPod network volume) first, else FACEDECK_MODELS_DIR. Baking them in needs the models'
# terms accepted: the InsightFace models are for non-commercial research only and may not
# be redistributed, so an image built with them must stay in a private registry.
# `models download` refuses to run without --accept-terms when no one can be asked (no tty).
ARG ACCEPT_MODEL_TERMS=""
RUN if [ -z "$ACCEPT_MODEL_TERMS" ]; then \
        echo "no models baked in: the worker reads them from the network volume"; \
    elif [ "$ACCEPT_MODEL_TERMS" = "yes" ]; then \
        facedeck --headless models download --all --accept-terms \
        && facedeck --headless models verify; \
    else \
        echo "ACCEPT_MODEL_TERMS must be 'yes' (accept the models' non-commercial terms) or empty" >&2; \
        exit 1; \
    fi

# Off RunPod the SDK runs ./test_input.json once and exits (0 when it succeeds): a health
# job, so `docker run --gpus all IMAGE` is a smoke test of the image. On RunPod it is ignored.
WORKDIR /opt/facedeck/app
COPY test_input.json ./

CMD ["facedeck", "--headless", "worker"]
