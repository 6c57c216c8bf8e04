#include "crsqlite_peer.h"

#include <stdexcept>

namespace crbridge::testing {
namespace {

std::string Hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Blob Unhex(const std::string& hex) {
  Blob bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

SiteId SiteFromHex(const std::string& hex) {
  const Blob bytes = Unhex(hex);
  if (bytes.size() != 16) throw std::runtime_error("bad site id " + hex);
  SiteId site;
  std::copy(bytes.begin(), bytes.end(), site.begin());
  return site;
}

}  // namespace

nlohmann::json ValueToJson(const Value& value) {
  switch (value.storage_class()) {
    case StorageClass::kNull: return nullptr;
    case StorageClass::kInteger: return {{"i", std::to_string(value.integer())}};
    case StorageClass::kFloat: return {{"f", value.real()}};
    case StorageClass::kText: return {{"s", value.text()}};
    case StorageClass::kBlob: return {{"b", Hex(value.blob())}};
  }
  return nullptr;
}

Value ValueFromJson(const nlohmann::json& json) {
  if (json.is_null()) return Value::Null();
  if (json.contains("i")) return Value::Integer(std::stoll(json["i"].get<std::string>()));
  if (json.contains("f")) return Value::Float(json["f"].get<double>());
  if (json.contains("s")) return Value::Text(json["s"].get<std::string>());
  if (json.contains("b")) return Value::BlobValue(Unhex(json["b"].get<std::string>()));
  throw std::runtime_error("bad value " + json.dump());
}

nlohmann::json ChangeToJson(const Change& c) {
  return {c.table, Hex(c.pk), c.cid, ValueToJson(c.val), std::to_string(c.col_version), std::to_string(c.db_version),
          c.site_id ? nlohmann::json(Hex(*c.site_id)) : nlohmann::json(nullptr), std::to_string(c.cl),
          std::to_string(c.seq)};
}

CrSqlitePeer::CrSqlitePeer() {
  const std::string script = std::string(CRBRIDGE_INTEROP_DIR) + "/crsqlite_peer.mjs";
  node_ = std::make_unique<Subprocess>(std::vector<std::string>{"node", script},
                                       Subprocess::Options{.pipe_stdin = true, .separate_stderr = true});
}

CrSqlitePeer::~CrSqlitePeer() {
  try {
    Call({{"op", "quit"}});
  } catch (const std::exception&) {
    // Already gone; the Subprocess destructor makes sure.
  }
}

nlohmann::json CrSqlitePeer::Call(nlohmann::json request) {
  std::string line;
  try {
    node_->WriteLine(request.dump());
    line = node_->ReadLine(std::chrono::seconds(60));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(e.what()) + "; the peer's stderr: " + node_->Errors());
  }
  nlohmann::json reply = nlohmann::json::parse(line);
  if (!reply.value("ok", false)) {
    throw std::runtime_error("cr-sqlite peer: " + reply.value("error", line) + " (request: " + request.dump().substr(0, 300) + ")");
  }
  return reply;
}

void CrSqlitePeer::Exec(const std::string& sql) { Call({{"op", "exec"}, {"sql", sql}}); }

std::vector<std::vector<Value>> CrSqlitePeer::Query(const std::string& sql) {
  std::vector<std::vector<Value>> rows;
  const nlohmann::json reply = Call({{"op", "query"}, {"sql", sql}});
  for (const auto& row : reply["rows"]) {
    std::vector<Value> values;
    for (const auto& v : row) values.push_back(ValueFromJson(v));
    rows.push_back(std::move(values));
  }
  return rows;
}

Changeset CrSqlitePeer::Changes(int64_t since, const std::optional<SiteId>& exclude) {
  nlohmann::json request = {{"op", "changes"}, {"since", since}};
  if (exclude) request["exclude"] = Hex(*exclude);
  Changeset changes;
  const nlohmann::json reply = Call(request);
  for (const auto& c : reply["changes"]) {
    Change change;
    change.table = c[0].get<std::string>();
    change.pk = Unhex(c[1].get<std::string>());
    change.cid = c[2].get<std::string>();
    change.val = ValueFromJson(c[3]);
    change.col_version = std::stoll(c[4].get<std::string>());
    change.db_version = std::stoll(c[5].get<std::string>());
    if (!c[6].is_null()) change.site_id = SiteFromHex(c[6].get<std::string>());
    change.cl = std::stoll(c[7].get<std::string>());
    change.seq = std::stoll(c[8].get<std::string>());
    changes.push_back(std::move(change));
  }
  return changes;
}

void CrSqlitePeer::Apply(const Changeset& changes) {
  nlohmann::json list = nlohmann::json::array();
  for (const Change& c : changes) list.push_back(ChangeToJson(c));
  Call({{"op", "apply"}, {"changes", list}});
}

std::pair<std::string, int64_t> CrSqlitePeer::Automigrate(const std::string& schema_name, const std::string& schema) {
  const nlohmann::json reply = Call({{"op", "automigrate"}, {"schema_name", schema_name}, {"schema", schema}});
  return {reply["schema_name"].get<std::string>(), std::stoll(reply["schema_version"].get<std::string>())};
}

void CrSqlitePeer::Connect(const std::string& url, const std::string& room, const std::optional<std::string>& token) {
  nlohmann::json request = {{"op", "connect"}, {"url", url}, {"room", room}};
  if (token) request["token"] = *token;
  Call(request);
}

void CrSqlitePeer::Disconnect() { Call({{"op", "disconnect"}}); }

SiteId CrSqlitePeer::site_id() { return SiteFromHex(Call({{"op", "site"}})["site_id"].get<std::string>()); }

}  // namespace crbridge::testing
