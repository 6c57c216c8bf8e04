#include "crbridge/server/mysql/binlog_position.h"

#include <charconv>

namespace crbridge::mysql {

Status EncodeBinlogOffset(const BinlogPosition& position, int64_t* offset) {
  const size_t dot = position.file.rfind('.');
  const std::string_view digits =
      dot == std::string::npos ? std::string_view() : std::string_view(position.file).substr(dot + 1);
  uint64_t number = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return Status::InvalidArgument("binlog file \"" + position.file + "\" has no numeric extension");
  }
  if (number >= (uint64_t{1} << 31)) {
    return Status::InvalidArgument("binlog file \"" + position.file + "\": its number does not fit 31 bits");
  }
  if (position.position >= (uint64_t{1} << 32)) {
    return Status::InvalidArgument("binlog position " + std::to_string(position.position) + " in " + position.file +
                                   " does not fit 32 bits");
  }
  *offset = static_cast<int64_t>((number << 32) | position.position);
  return Status::OK();
}

Status DecodeBinlogOffset(std::string_view base_name, int64_t offset, BinlogPosition* position) {
  if (offset < 0) return Status::InvalidArgument("binlog offset " + std::to_string(offset) + " is negative");
  std::string number = std::to_string(static_cast<uint64_t>(offset) >> 32);
  if (number.size() < 6) number.insert(0, 6 - number.size(), '0');
  *position = BinlogPosition{std::string(base_name) + "." + number, static_cast<uint64_t>(offset) & 0xffffffffu};
  return Status::OK();
}

}  // namespace crbridge::mysql
