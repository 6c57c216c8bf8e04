#include "crbridge/connector/capture/added_columns.h"

#include <algorithm>

namespace crbridge {

std::optional<std::string> AddedColumn(const ResolvedTable& t, const std::vector<std::string>& columns) {
  const TableMapping& mapping = *t.mapping;
  if (!mapping.columns.empty()) return std::nullopt;
  for (const std::string& name : columns) {
    const bool mapped = std::any_of(t.columns.begin(), t.columns.end(),
                                    [&](const ResolvedColumn& c) { return c.server.name == name; });
    const bool excluded = std::find(mapping.exclude.begin(), mapping.exclude.end(), name) != mapping.exclude.end();
    if (!mapped && !excluded) return name;
  }
  return std::nullopt;
}

Status ColumnAdded(const ResolvedTable& t, const std::string& column) {
  return MappingsChanged("the app added column " + column + " to " + t.mapping->QualifiedSource() + " (mapped as " +
                         t.mapping->name + ")");
}

}  // namespace crbridge
