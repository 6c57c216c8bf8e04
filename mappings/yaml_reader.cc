#include "yaml_reader.h"

#include <charconv>

#include "env_expansion.h"

namespace crbridge {

std::string FormatConfigError(const std::string& file, const YAML::Mark& mark, std::string_view path,
                              std::string_view message) {
  std::string out = file;
  if (!mark.is_null()) {
    out.append(":").append(std::to_string(mark.line + 1)).append(":").append(std::to_string(mark.column + 1));
  }
  out += ": ";
  if (!path.empty()) {
    out += path;
    out += ": ";
  }
  out += message;
  return out;
}

YamlReader::YamlReader(std::string file, YAML::Node node, std::string path)
    : file_(std::move(file)), node_(std::move(node)), path_(std::move(path)) {}

std::string YamlReader::ChildPath(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

Status YamlReader::ErrorAtNode(const YAML::Node& node, const std::string& path,
                               std::string_view message) const {
  return Status::InvalidArgument(FormatConfigError(file_, node.Mark(), path, message));
}

Status YamlReader::ErrorAt(std::string_view key, std::string_view message) const {
  if (key.empty() || !node_.IsMap() || !node_[std::string(key)]) {
    return ErrorAtNode(node_, key.empty() ? path_ : ChildPath(key), message);
  }
  return ErrorAtNode(node_[std::string(key)], ChildPath(key), message);
}

Status YamlReader::ExpectMap() const {
  if (node_.IsNull() || node_.IsMap()) return Status::OK();
  return ErrorAtNode(node_, path_, "expected a mapping of keys to values");
}

YAML::Node YamlReader::Lookup(std::string_view key) {
  consumed_.emplace(key);
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Null);
  YAML::Node value = node_[std::string(key)];
  return value ? value : YAML::Node(YAML::NodeType::Null);
}

Status YamlReader::ReadString(std::string_view key, bool required, std::string* out) {
  const YAML::Node value = Lookup(key);
  if (value.IsNull()) {
    if (required) return ErrorAtNode(node_, ChildPath(key), "required key is missing");
    return Status::OK();
  }
  if (!value.IsScalar()) return ErrorAtNode(value, ChildPath(key), "expected a single value");
  if (Status s = ExpandEnvironment(value.Scalar(), out); !s.ok()) {
    return ErrorAtNode(value, ChildPath(key), s.message());
  }
  return Status::OK();
}

Status YamlReader::ReadInteger(std::string_view key, bool required, int64_t min, int64_t max,
                               int64_t* out) {
  if (Lookup(key).IsNull()) {
    std::string ignored;
    return ReadString(key, required, &ignored);
  }
  std::string text;
  if (Status s = ReadString(key, required, &text); !s.ok()) return s;
  int64_t parsed = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (error != std::errc() || end != text.data() + text.size()) {
    return ErrorAt(key, "expected an integer, got \"" + text + "\"");
  }
  if (parsed < min || parsed > max) {
    return ErrorAt(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                            ", got " + text);
  }
  *out = parsed;
  return Status::OK();
}

Status YamlReader::ReadMap(std::string_view key, YamlReader* out, bool* present) {
  const YAML::Node value = Lookup(key);
  *present = !value.IsNull();
  *out = YamlReader(file_, value, ChildPath(key));
  return out->ExpectMap();
}

Status YamlReader::RejectUnknownKeys() const {
  if (!node_.IsMap()) return Status::OK();
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (!consumed_.contains(key)) return ErrorAtNode(entry.first, ChildPath(key), "unknown key");
  }
  return Status::OK();
}

}  // namespace crbridge
