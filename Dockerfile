# The training and converter programs with the TensorFlow runtime, on a slim
# base. The runtime install and the build are the Makefile targets CI runs
# (make tf, make binaries; build/dockerfile_test.go keeps them the same).
#
#   docker build -t cyclegan .
#   docker run --rm -p 8080:8080 -v "$PWD/runs:/runs" cyclegan convert -serve :8080 -model /runs/woman2man/export
#   docker run --rm -v "$PWD/runs:/runs" cyclegan training -out /runs/woman2man -synthetic /runs/synthetic
#
# GPU: docker build --build-arg TF_WHEEL='tensorflow[and-cuda]' -t cyclegan:gpu .
# (the GPU wheel plus NVIDIA's CUDA and cuDNN wheels, whose libraries are
# copied next to the runtime). The host needs an NVIDIA driver recent enough
# for the CUDA release TensorFlow 2.21 is built with and the NVIDIA Container
# Toolkit; run with `docker run --gpus all ... training -device /device:GPU:0`.

ARG GO_VERSION=1.26
ARG TF_WHEEL=tensorflow-cpu

FROM golang:${GO_VERSION}-bookworm AS build
ARG TF_WHEEL
# Debian's python3 of the pinned base image runs pip for the pinned wheel;
# apt versions are not pinned (a point release would break the build).
# hadolint ignore=DL3008
RUN apt-get update \
	&& apt-get install -y --no-install-recommends python3 python3-venv \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The runtime first, so that a code change does not reinstall it.
COPY Makefile ./
COPY build/install-tf.sh build/
RUN make tf PREFIX=/usr/local TF_WHEEL="${TF_WHEEL}"
COPY . .
RUN make binaries PREFIX=/usr/local
# NVIDIA's libraries, when the wheel brought them (the and-cuda extra).
RUN mkdir -p /out/lib \
	&& for d in .tf/venv/lib/python3*/site-packages/nvidia/*/lib; do \
		if [ -d "$d" ]; then cp -a "$d"/. /out/lib/; fi; \
	done

FROM debian:bookworm-slim
COPY --from=build /usr/local/lib/libtensorflow_cc.so.2 /usr/local/lib/libtensorflow_framework.so.2 /usr/local/lib/
COPY --from=build /out/lib/ /usr/local/lib/nvidia/
COPY --from=build /src/bin/training /src/bin/convert /usr/local/bin/
ENV LD_LIBRARY_PATH=/usr/local/lib/nvidia
RUN ldconfig \
	&& useradd --create-home --uid 10001 cyclegan \
	&& mkdir -p /runs \
	&& chown 10001 /runs
USER 10001
WORKDIR /runs
EXPOSE 8080
CMD ["convert", "-serve", ":8080", "-model", "/runs/woman2man/export"]
