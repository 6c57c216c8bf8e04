#include "crbridge/connector/kafka/event_printer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <span>
#include <vector>

#include "crbridge/sqlite/text_encoding.h"

namespace crbridge {
namespace {

// ordered_json keeps the columns in the order crbridge wrote them.
using Json = nlohmann::ordered_json;

// Longer text and blobs are cut: a line per event must stay readable.
constexpr size_t kMaxTextBytes = 200;
constexpr size_t kMaxBlobBytes = 32;
constexpr size_t kMaxRawBytes = 1000;

// The length of the UTF-8 sequence at the start of `s`, or 0 when it is
// not one (so that a raw value that is not text is shown byte by byte).
size_t Utf8SequenceLength(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  size_t length = 0;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0 && lead >= 0xC2) length = 2;
  else if ((lead & 0xF0) == 0xE0) length = 3;
  else if ((lead & 0xF8) == 0xF0 && lead <= 0xF4) length = 4;
  else return 0;
  if (s.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// `text` with control characters, backslashes, bytes that are not UTF-8
// and (with `quote`) the quote escaped, cut after about `max_bytes`.
std::string Printable(std::string_view text, size_t max_bytes, char quote) {
  std::string out;
  size_t i = 0;
  while (i < text.size() && i < max_bytes) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const size_t length = Utf8SequenceLength(text.substr(i));
    if (byte == '\\') {
      out += "\\\\";
    } else if (quote != 0 && byte == static_cast<unsigned char>(quote)) {
      out += std::string(2, quote);
    } else if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7f || length == 0) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    ++i;
  }
  if (i < text.size()) out += "...";
  return out;
}

std::string Quoted(std::string_view text) {
  std::string out = "'" + Printable(text, kMaxTextBytes, '\'') + "'";
  if (text.size() > kMaxTextBytes) out += "(" + std::to_string(text.size()) + " bytes)";
  return out;
}

std::string RawJson(const Json& json) { return json.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Collects what is wrong with an event while the line is still written.
class Problems {
 public:
  void Add(std::string problem) {
    if (!text_.empty()) text_ += "; ";
    text_ += std::move(problem);
  }
  Status ToStatus() const { return text_.empty() ? Status::OK() : Status::Corruption(text_); }

 private:
  std::string text_;
};

// A value as clients get it (docs/kafka.md): NULL, a number, text, or a
// blob as {"base64": ...}. Anything else is shown as raw JSON.
std::string FormatValue(const Json& value, const std::string& what, Problems* problems) {
  if (value.is_null()) return "NULL";
  if (value.is_number()) return RawJson(value);
  if (value.is_string()) return Quoted(value.get_ref<const std::string&>());
  if (value.is_object() && value.size() == 1 && value.contains("base64") && value["base64"].is_string()) {
    const std::optional<std::string> bytes = DecodeBase64(value["base64"].get_ref<const std::string&>());
    if (bytes) {
      const auto* data = reinterpret_cast<const uint8_t*>(bytes->data());
      std::string out = "x'" + EncodeHex(std::span(data, std::min(bytes->size(), kMaxBlobBytes)));
      if (bytes->size() > kMaxBlobBytes) out += "...";
      out += "'";
      if (bytes->size() > kMaxBlobBytes) out += "(" + std::to_string(bytes->size()) + " bytes)";
      return out;
    }
    problems->Add(what + ": blob is not base64");
    return RawJson(value);
  }
  problems->Add(what + ": not a value (" + std::string(value.type_name()) + ")");
  return RawJson(value);
}

// The member `name` of `object` when it is there and of the wanted kind.
const Json* Member(const Json& object, const char* name, bool (Json::*is_kind)() const noexcept) {
  const auto it = object.find(name);
  if (it == object.end() || !((*it).*is_kind)()) return nullptr;
  return &*it;
}

std::string FormatKey(const Json& event, Problems* problems) {
  const Json* key = Member(event, "key", &Json::is_object);
  if (key == nullptr || key->empty()) {
    problems->Add("no key");
    const Json* crr = Member(event, "crr", &Json::is_object);
    const Json* pk = crr == nullptr ? nullptr : Member(*crr, "pk", &Json::is_string);
    return pk == nullptr ? "?" : "pk=" + Printable(pk->get_ref<const std::string&>(), kMaxRawBytes, 0);
  }
  if (key->size() == 1) return FormatValue(key->begin().value(), "key " + key->begin().key(), problems);
  std::string out = "(";
  for (auto it = key->begin(); it != key->end(); ++it) {
    if (it != key->begin()) out += ",";
    out += Printable(it.key(), kMaxRawBytes, 0) + "=" + FormatValue(it.value(), "key " + it.key(), problems);
  }
  return out + ")";
}

std::string FormatOp(const Json& event, Problems* problems) {
  const Json* op = Member(event, "op", &Json::is_string);
  if (op != nullptr && *op == "c") return "insert";
  if (op != nullptr && *op == "u") return "update";
  if (op != nullptr && *op == "d") return "delete";
  problems->Add("op is not c, u or d");
  return op == nullptr ? "?" : Printable(op->get_ref<const std::string&>(), kMaxRawBytes, 0);
}

std::string FormatVersion(const Json& event, Problems* problems) {
  const Json* crr = Member(event, "crr", &Json::is_object);
  const Json* version = crr == nullptr ? nullptr : Member(*crr, "db_version", &Json::is_number_integer);
  if (version == nullptr) {
    problems->Add("no crr.db_version");
    return "v?";
  }
  return "v" + RawJson(*version);
}

// " name=value(cvN)" for each changed column.
std::string FormatColumns(const Json& event, Problems* problems) {
  const auto it = event.find("columns");
  if (it == event.end()) {
    problems->Add("no columns");
    return "";
  }
  if (!it->is_object()) {
    problems->Add("columns is not an object");
    return " " + RawJson(*it);
  }
  std::string out;
  for (const auto& [name, column] : it->items()) {
    out += " " + Printable(name, kMaxRawBytes, 0) + "=";
    const Json* value = column.is_object() ? &column : nullptr;
    if (value == nullptr || !value->contains("value")) {
      problems->Add("column " + name + ": no value");
      out += RawJson(column);
      continue;
    }
    out += FormatValue((*value)["value"], "column " + name, problems);
    if (const Json* cv = Member(column, "col_version", &Json::is_number_integer); cv != nullptr) {
      out += "(cv" + RawJson(*cv) + ")";
    } else {
      problems->Add("column " + name + ": no col_version");
    }
  }
  return out;
}

// "[app 0/16B3748]" or "[client <site id>]".
std::string FormatOrigin(const Json& event, Problems* problems) {
  const Json* source = Member(event, "source", &Json::is_object);
  const Json* origin = source == nullptr ? nullptr : Member(*source, "origin", &Json::is_string);
  if (origin == nullptr) {
    problems->Add("no source.origin");
    return "[?]";
  }
  const char* position = *origin == "app" ? "lsn" : *origin == "client" ? "client_site_id" : nullptr;
  if (position == nullptr) {
    problems->Add("source.origin is not app or client");
    return "[" + Printable(origin->get_ref<const std::string&>(), kMaxRawBytes, 0) + "]";
  }
  std::string out = "[" + origin->get<std::string>();
  if (const Json* value = Member(*source, position, &Json::is_string); value != nullptr) {
    out += " " + Printable(value->get_ref<const std::string&>(), kMaxRawBytes, 0);
  } else if (*origin == "client") {
    problems->Add("no source.client_site_id");
  }
  return out + "]";
}

}  // namespace

Status FormatEvent(std::string_view value, std::string* line) {
  const Json event = Json::parse(value.begin(), value.end(), nullptr, false);
  if (event.is_discarded() || !event.is_object()) {
    *line = Printable(value, kMaxRawBytes, 0);
    if (value.size() > kMaxRawBytes) *line += "(" + std::to_string(value.size()) + " bytes)";
    return Status::Corruption(event.is_discarded() ? "not JSON" : "not a JSON object");
  }
  Problems problems;
  std::string table = "?";
  if (const Json* name = Member(event, "table", &Json::is_string); name != nullptr) {
    table = Printable(name->get_ref<const std::string&>(), kMaxRawBytes, 0);
  } else {
    problems.Add("no table");
  }
  // Evaluated in order, so that the problems read left to right.
  const std::string key = FormatKey(event, &problems);
  const std::string op = FormatOp(event, &problems);
  const std::string version = FormatVersion(event, &problems);
  const std::string columns = FormatColumns(event, &problems);
  const std::string origin = FormatOrigin(event, &problems);
  *line = table + " " + key + " " + op + " " + version + columns + "  " + origin;
  return problems.ToStatus();
}

}  // namespace crbridge
