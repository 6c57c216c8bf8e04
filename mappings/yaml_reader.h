// YamlReader: reads one YAML mapping of a config file, key by key, keeping
// the key path and source position so that every error can say exactly
// where it is. Keys that no reader asked for are reported by
// RejectUnknownKeys. Not thread-safe; one reader per mapping being parsed.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge {

class YamlReader {
 public:
  YamlReader() = default;
  // `file` names the config file in messages; `path` is the key path of
  // `node` ("" for the document root).
  YamlReader(std::string file, YAML::Node node, std::string path);

  // Fails unless the node is a mapping (or absent/null, read as empty).
  Status ExpectMap() const;

  // Each getter leaves *out unchanged when the key is absent and not
  // required. String values have ${VAR} references expanded (env_expansion.h).
  Status ReadString(std::string_view key, bool required, std::string* out);
  Status ReadInteger(std::string_view key, bool required, int64_t min, int64_t max, int64_t* out);
  // A nested mapping; *present tells whether the key was there.
  Status ReadMap(std::string_view key, YamlReader* out, bool* present);

  // An error about the value of `key` (or about this mapping when key is
  // empty), positioned at that value.
  Status ErrorAt(std::string_view key, std::string_view message) const;

  Status RejectUnknownKeys() const;

  const std::string& path() const { return path_; }

 private:
  // Marks `key` as read and returns its value; null when absent or null.
  YAML::Node Lookup(std::string_view key);
  std::string ChildPath(std::string_view key) const;
  Status ErrorAtNode(const YAML::Node& node, const std::string& path, std::string_view message) const;

  std::string file_;
  YAML::Node node_;
  std::string path_;
  std::set<std::string, std::less<>> consumed_;
};

// "file:line:column: path: message" with 1-based line and column.
std::string FormatConfigError(const std::string& file, const YAML::Mark& mark, std::string_view path,
                              std::string_view message);

}  // namespace crbridge
