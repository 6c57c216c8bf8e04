#include "crbridge/connector/capture/column_changes.h"

#include <algorithm>

namespace crbridge {

Status CheckColumnsFollowed(const ResolvedTable& t, const std::vector<std::string>& columns) {
  const TableMapping& mapping = *t.mapping;
  const auto has = [&](const std::string& name) { return std::find(columns.begin(), columns.end(), name) != columns.end(); };
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const ResolvedColumn& column = t.columns[i];
    if (has(column.server.name)) continue;
    if (i >= t.pk_count && mapping.columns.empty()) {
      return MappingsChanged("the app dropped column " + column.server.name + " of " + mapping.QualifiedSource() +
                             " (mapped as " + mapping.name + "." + column.name + ")");
    }
    return Status::InvalidArgument("table " + mapping.QualifiedSource() + " no longer has column " + column.server.name +
                                   " (mapped as " + mapping.name + "." + column.name + ")");
  }
  if (!mapping.columns.empty()) return Status::OK();
  for (const std::string& name : columns) {
    const bool mapped = std::any_of(t.columns.begin(), t.columns.end(),
                                    [&](const ResolvedColumn& c) { return c.server.name == name; });
    const bool excluded = std::find(mapping.exclude.begin(), mapping.exclude.end(), name) != mapping.exclude.end();
    if (!mapped && !excluded) {
      return MappingsChanged("the app added column " + name + " to " + mapping.QualifiedSource() + " (mapped as " +
                             mapping.name + ")");
    }
  }
  return Status::OK();
}

}  // namespace crbridge
