// YamlReader: reads one YAML mapping of a config file, key by key, keeping
// the key path and source position so that every error can say exactly
// where it is, and recording the position of every key it reads (for errors
// found later, such as a column missing from the live database).
// Not thread-safe; one reader per mapping being parsed.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

class YamlReader {
 public:
  YamlReader() = default;
  // `file` names the config file in messages; `path` is the key path of
  // `node` ("" for the document root); positions of keys read are added to
  // `positions`, which must outlive the reader.
  YamlReader(std::string file, YAML::Node node, std::string path, std::map<std::string, ConfigPosition>* positions);

  // Fails unless the node is a mapping (or absent/null, read as empty).
  Status ExpectMap() const;

  // Each getter leaves *out unchanged when the key is absent and not
  // required. String values have ${VAR} references expanded (env_expansion.h).
  Status ReadString(std::string_view key, bool required, std::string* out);
  Status ReadInteger(std::string_view key, bool required, int64_t min, int64_t max, int64_t* out);
  Status ReadBool(std::string_view key, bool* out);
  // A nested mapping; *present tells whether the key was there.
  Status ReadMap(std::string_view key, YamlReader* out, bool* present);
  // A nested mapping whose keys must be among `known` (ExpectKeys).
  Status ReadSection(std::string_view key, std::initializer_list<std::string_view> known, YamlReader* out,
                     bool* present);
  // One of `choices`; *index is left unchanged when the key is absent.
  // The error lists them: "expected postgres or mysql, got \"oracle\"".
  Status ReadChoice(std::string_view key, bool required, std::initializer_list<std::string_view> choices,
                    size_t* index);
  // A sequence; `item` is called with each entry's node and key path
  // ("tables[0]"). An absent key is an empty sequence.
  Status ReadSequence(std::string_view key,
                      const std::function<Status(const YAML::Node& node, const std::string& path)>& item);
  // A reader for a node found in a sequence.
  YamlReader Child(const YAML::Node& node, const std::string& path) const;

  // An error about the value of `key` (or about this mapping when key is
  // empty), positioned at that value.
  Status ErrorAt(std::string_view key, std::string_view message) const;
  // An error positioned at `node`, naming `path`.
  Status ErrorAtNode(const YAML::Node& node, const std::string& path, std::string_view message) const;

  // Fails on the first key of this mapping that is not in `known`, with a
  // suggestion when a known key is spelled alike. Call before reading, so
  // that a misspelt key is reported rather than the key it was meant to be.
  Status ExpectKeys(std::initializer_list<std::string_view> known) const;

  const std::string& path() const { return path_; }

 private:
  // Marks `key` as read and returns its value; null when absent or null.
  YAML::Node Lookup(std::string_view key);
  std::string ChildPath(std::string_view key) const;

  std::string file_;
  YAML::Node node_;
  std::string path_;
  std::map<std::string, ConfigPosition>* positions_ = nullptr;
};

// "file:line:column: path: message" with 1-based line and column.
std::string FormatConfigError(const std::string& file, const YAML::Mark& mark, std::string_view path,
                              std::string_view message);

}  // namespace crbridge
