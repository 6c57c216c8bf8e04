#include "crbridge/connector/kafka/unpublished_position.h"

#include <algorithm>

namespace crbridge {
namespace {

std::optional<int64_t> Oldest(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

}  // namespace

void UnpublishedPosition::Recorded(int64_t position) {
  std::lock_guard lock(mutex_);
  not_yet_read_ = Oldest(not_yet_read_, position);
}

void UnpublishedPosition::BeginRead() {
  std::lock_guard lock(mutex_);
  being_read_ = Oldest(being_read_, not_yet_read_);
  not_yet_read_.reset();
}

void UnpublishedPosition::EndRead(std::optional<int64_t> oldest_in_log) {
  std::lock_guard lock(mutex_);
  in_log_ = oldest_in_log;
  being_read_.reset();
}

std::optional<int64_t> UnpublishedPosition::Get() const {
  std::lock_guard lock(mutex_);
  return Oldest(in_log_, Oldest(being_read_, not_yet_read_));
}

}  // namespace crbridge
