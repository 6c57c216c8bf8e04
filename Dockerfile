# crbridge in a container. Build: docker build -t crbridge .
# Run:   docker run -v $PWD/crbridge.yaml:/etc/crbridge/crbridge.yaml -p 8080:8080 crbridge
FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --build-only
COPY . .
RUN cmake --preset release -DCRBRIDGE_BUILD_TESTS=OFF \
 && cmake --build --preset release -j"$(nproc)" --target crbridge

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libpq5 libmariadb3 libyaml-cpp0.7 \
      libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home crbridge
COPY --from=build /src/build/release/connector/crbridge /usr/local/bin/crbridge
USER crbridge
EXPOSE 8080
ENTRYPOINT ["crbridge"]
CMD ["run", "--config", "/etc/crbridge/crbridge.yaml"]
