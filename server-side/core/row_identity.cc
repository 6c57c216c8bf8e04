#include "row_identity.h"

#include "crbridge/mappings/type_mapping.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/sqlite/packed_pk.h"

namespace crbridge {

std::string KeyBytes(const Blob& key) { return std::string(key.begin(), key.end()); }

std::string RoomText(const Value& value) {
  switch (value.storage_class()) {
    case StorageClass::kText: return value.text();
    case StorageClass::kInteger: return std::to_string(value.integer());
    default: return value.ToSql();
  }
}

Status KeyParametersOf(SourceType source, const ResolvedTable& t, const Blob& pk, KeyParameters* params) {
  std::vector<Value> values;
  CRBRIDGE_RETURN_IF_ERROR(DecodePackedPk(pk, &values));
  if (values.size() != t.pk_count) return Status::InvalidArgument("a key of " + t.mapping->name + " does not decode");
  params->clear();
  for (size_t i = 0; i < values.size(); ++i) {
    CRBRIDGE_RETURN_IF_ERROR(ToServerParameter(source, t.columns[i].type, values[i],
                                               t.mapping->name + "." + t.columns[i].name, &params->emplace_back()));
  }
  return Status::OK();
}

Status DecodeKeys(SourceType source, const ResolvedTable& t, const std::vector<Blob>& keys, DecodedKeys* decoded) {
  decoded->params.assign(keys.size(), {});
  decoded->pointers.clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    CRBRIDGE_RETURN_IF_ERROR(KeyParametersOf(source, t, keys[i], &decoded->params[i]));
    decoded->pointers.push_back(&decoded->params[i]);
  }
  return Status::OK();
}

}  // namespace crbridge
