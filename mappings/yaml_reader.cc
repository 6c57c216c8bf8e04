#include "yaml_reader.h"

#include <algorithm>
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

YamlReader::YamlReader(std::string file, YAML::Node node, std::string path,
                       std::map<std::string, ConfigPosition>* positions)
    : file_(std::move(file)), node_(std::move(node)), path_(std::move(path)), positions_(positions) {
  if (positions_ != nullptr && !node_.Mark().is_null()) {
    (*positions_)[path_] = ConfigPosition{node_.Mark().line + 1, node_.Mark().column + 1};
  }
}

YamlReader YamlReader::Child(const YAML::Node& node, const std::string& path) const {
  return YamlReader(file_, node, path, positions_);
}

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
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Null);
  YAML::Node value = node_[std::string(key)];
  if (!value) return YAML::Node(YAML::NodeType::Null);
  if (positions_ != nullptr) (*positions_)[ChildPath(key)] = ConfigPosition{value.Mark().line + 1, value.Mark().column + 1};
  return value;
}

Status YamlReader::ReadBool(std::string_view key, bool* out) {
  const YAML::Node value = Lookup(key);
  if (value.IsNull()) return Status::OK();
  std::string text;
  CRBRIDGE_RETURN_IF_ERROR(ReadString(key, false, &text));
  if (text == "true") {
    *out = true;
  } else if (text == "false") {
    *out = false;
  } else {
    return ErrorAt(key, "expected true or false, got \"" + text + "\"");
  }
  return Status::OK();
}

Status YamlReader::ReadSequence(std::string_view key,
                                const std::function<Status(const YAML::Node& node, const std::string& path)>& item) {
  const YAML::Node value = Lookup(key);
  if (value.IsNull()) return Status::OK();
  if (!value.IsSequence()) return ErrorAtNode(value, ChildPath(key), "expected a list");
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string path = ChildPath(key) + "[" + std::to_string(i) + "]";
    if (positions_ != nullptr) (*positions_)[path] = ConfigPosition{value[i].Mark().line + 1, value[i].Mark().column + 1};
    CRBRIDGE_RETURN_IF_ERROR(item(value[i], path));
  }
  return Status::OK();
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
  *out = YamlReader(file_, value, ChildPath(key), positions_);
  return out->ExpectMap();
}

Status YamlReader::ReadSection(std::string_view key, std::initializer_list<std::string_view> known, YamlReader* out,
                               bool* present) {
  CRBRIDGE_RETURN_IF_ERROR(ReadMap(key, out, present));
  return *present ? out->ExpectKeys(known) : Status::OK();
}

Status YamlReader::ReadChoice(std::string_view key, bool required, std::initializer_list<std::string_view> choices,
                              size_t* index) {
  std::string value;
  CRBRIDGE_RETURN_IF_ERROR(ReadString(key, required, &value));
  if (value.empty() && !required) return Status::OK();
  std::string expected;
  size_t i = 0;
  for (const std::string_view choice : choices) {
    if (choice == value) {
      *index = i;
      return Status::OK();
    }
    expected += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + std::string(choice);
    ++i;
  }
  return ErrorAt(key, "expected " + expected + ", got \"" + value + "\"");
}

namespace {

// Edits (insertions, deletions, substitutions) between two short keys.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

Status YamlReader::ExpectKeys(std::initializer_list<std::string_view> known) const {
  if (!node_.IsMap()) return Status::OK();
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown key";
    for (const std::string_view candidate : known) {
      const bool prefix = key.starts_with(candidate) || candidate.starts_with(key);
      if (prefix || EditDistance(key, candidate) <= std::max<size_t>(2, candidate.size() / 2)) {
        message += "; did you mean " + std::string(candidate) + "?";
        break;
      }
    }
    return ErrorAtNode(entry.first, ChildPath(key), message);
  }
  return Status::OK();
}

}  // namespace crbridge
