// Config: what a user configures in crbridge's YAML file, validated.
//
// LoadConfigFile reads and checks a file; every error names the file, the
// line and column, and the key path ("crbridge.yaml:4:9: server.listen:
// expected host:port"). A Config is an immutable value once loaded and may
// be read from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge {

enum class SourceType { kPostgres, kMysql };

std::string_view SourceTypeName(SourceType type);

struct SourceConfig {
  SourceType type = SourceType::kPostgres;
  // postgresql://... or mysql://...; ${VAR} is replaced by the environment
  // variable VAR when the file is loaded.
  std::string url;
};

struct ServerConfig {
  // The sync WebSocket, /healthz and /metrics share this address.
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
};

struct Config {
  std::string file;  // the path it was loaded from, for messages
  SourceConfig source;
  ServerConfig server;
  LogConfig log;
};

// Reads and validates the YAML file at `path`. On success stores the result
// in *config; on failure returns InvalidArgument (or IOError when the file
// cannot be read) whose message starts with "path:line:column: key.path:".
Status LoadConfigFile(const std::string& path, Config* config);

// Same, for YAML text already in memory; `file_name` is used in messages.
Status ParseConfig(std::string_view yaml_text, const std::string& file_name, Config* config);

}  // namespace crbridge
