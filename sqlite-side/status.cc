#include "crbridge/sqlite/status.h"

namespace crbridge {

std::string_view CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kInvalidArgument: return "Invalid argument";
    case Status::Code::kNotFound: return "Not found";
    case Status::Code::kCorruption: return "Corruption";
    case Status::Code::kIOError: return "IO error";
    case Status::Code::kUnavailable: return "Unavailable";
    case Status::Code::kCancelled: return "Cancelled";
    case Status::Code::kAborted: return "Aborted";
    case Status::Code::kPermissionDenied: return "Permission denied";
    case Status::Code::kInternal: return "Internal error";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace crbridge
