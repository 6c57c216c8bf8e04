// Status: the result of an operation that crosses a module boundary.
//
// Either OK or an error code with a human-readable message. Errors travel
// between crbridge's libraries as Status values; exceptions thrown by
// third-party libraries are caught and converted at the boundary.
// A Status is a plain value: copy it, return it, compare its code; it is
// safe to use from any thread as long as a single object is not written
// concurrently.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace crbridge {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // bad input from a user, a config file or a peer
    kNotFound,
    kCorruption,       // stored or received bytes that cannot be decoded
    kIOError,          // files, sockets
    kUnavailable,      // a server that cannot be reached right now
    kCancelled,        // stopped on request (shutdown)
    kAborted,          // lost a race with a concurrent writer: nothing done, try again
    kPermissionDenied, // the caller may not do this (a site id bound to another owner): nothing done
    kInternal,
  };

  Status() = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string message) { return {Code::kInvalidArgument, std::move(message)}; }
  static Status NotFound(std::string message) { return {Code::kNotFound, std::move(message)}; }
  static Status Corruption(std::string message) { return {Code::kCorruption, std::move(message)}; }
  static Status IOError(std::string message) { return {Code::kIOError, std::move(message)}; }
  static Status Unavailable(std::string message) { return {Code::kUnavailable, std::move(message)}; }
  static Status Cancelled(std::string message) { return {Code::kCancelled, std::move(message)}; }
  static Status Aborted(std::string message) { return {Code::kAborted, std::move(message)}; }
  static Status PermissionDenied(std::string message) { return {Code::kPermissionDenied, std::move(message)}; }
  static Status Internal(std::string message) { return {Code::kInternal, std::move(message)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK", or the code's name and the message: "Corruption: truncated varint".
  std::string ToString() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Status::Code code);

// Returns from the enclosing function with the status of `expr` unless it
// is OK.
#define CRBRIDGE_RETURN_IF_ERROR(expr)              \
  do {                                              \
    if (::crbridge::Status _status = (expr); !_status.ok()) return _status; \
  } while (0)

}  // namespace crbridge
