#include "crbridge/mappings/config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "yaml_reader.h"

namespace crbridge {
namespace {

Status ReadSource(YamlReader& root, SourceConfig* source) {
  YamlReader reader;
  bool present = false;
  if (Status s = root.ReadMap("source", &reader, &present); !s.ok()) return s;
  if (!present) return root.ErrorAt("source", "required key is missing");

  std::string type;
  if (Status s = reader.ReadString("type", true, &type); !s.ok()) return s;
  if (type == "postgres") {
    source->type = SourceType::kPostgres;
  } else if (type == "mysql") {
    source->type = SourceType::kMysql;
  } else {
    return reader.ErrorAt("type", "expected postgres or mysql, got \"" + type + "\"");
  }

  if (Status s = reader.ReadString("url", true, &source->url); !s.ok()) return s;
  const std::string_view scheme = source->type == SourceType::kPostgres ? "postgres" : "mysql://";
  if (!source->url.starts_with(scheme)) {
    return reader.ErrorAt("url", "a " + type + " source needs a " + std::string(scheme) + "... url");
  }
  return reader.RejectUnknownKeys();
}

Status ReadServer(YamlReader& root, ServerConfig* server) {
  YamlReader reader;
  bool present = false;
  if (Status s = root.ReadMap("server", &reader, &present); !s.ok() || !present) return s;

  std::string listen;
  if (Status s = reader.ReadString("listen", false, &listen); !s.ok()) return s;
  if (!listen.empty()) {
    const size_t colon = listen.rfind(':');
    const std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
    char* end = nullptr;
    const long number = port.empty() ? -1 : std::strtol(port.c_str(), &end, 10);
    if (colon == 0 || colon == std::string::npos || *end != '\0' || number < 0 || number > 65535) {
      return reader.ErrorAt("listen", "expected host:port with a port from 0 to 65535, got \"" + listen + "\"");
    }
    server->listen_host = listen.substr(0, colon);
    if (server->listen_host.size() > 2 && server->listen_host.front() == '[') {
      server->listen_host = server->listen_host.substr(1, server->listen_host.size() - 2);
    }
    server->listen_port = static_cast<uint16_t>(number);
  }
  return reader.RejectUnknownKeys();
}

Status ReadLog(YamlReader& root, LogConfig* log) {
  YamlReader reader;
  bool present = false;
  if (Status s = root.ReadMap("log", &reader, &present); !s.ok() || !present) return s;

  std::string level = "info";
  if (Status s = reader.ReadString("level", false, &level); !s.ok()) return s;
  if (level == "debug") {
    log->level = LogLevel::kDebug;
  } else if (level == "info") {
    log->level = LogLevel::kInfo;
  } else if (level == "warn") {
    log->level = LogLevel::kWarn;
  } else if (level == "error") {
    log->level = LogLevel::kError;
  } else {
    return reader.ErrorAt("level", "expected debug, info, warn or error, got \"" + level + "\"");
  }
  return reader.RejectUnknownKeys();
}

}  // namespace

std::string_view SourceTypeName(SourceType type) {
  return type == SourceType::kPostgres ? "postgres" : "mysql";
}

Status ParseConfig(std::string_view yaml_text, const std::string& file_name, Config* config) {
  YAML::Node document;
  try {
    document = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    return Status::InvalidArgument(FormatConfigError(file_name, e.mark, "", "YAML syntax error: " + e.msg));
  }
  if (document.IsNull()) {
    return Status::InvalidArgument(file_name + ": the file is empty; it needs at least a source section");
  }

  Config result;
  result.file = file_name;
  YamlReader root(result.file, document, "");
  if (Status s = root.ExpectMap(); !s.ok()) return s;
  if (Status s = ReadSource(root, &result.source); !s.ok()) return s;
  if (Status s = ReadServer(root, &result.server); !s.ok()) return s;
  if (Status s = ReadLog(root, &result.log); !s.ok()) return s;
  if (Status s = root.RejectUnknownKeys(); !s.ok()) return s;
  *config = std::move(result);
  return Status::OK();
}

Status LoadConfigFile(const std::string& path, Config* config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": cannot read: " + std::strerror(errno));
  return ParseConfig(text.str(), path, config);
}

}  // namespace crbridge
