// UnpublishedPosition: the source position of the oldest recorded app
// change Kafka has not acknowledged, which capture confirms the source
// (Postgres's replication slot) only before. The sink learns it by reading
// the change log, and a read sees only what committed before it began:
// capture reports each batch it recorded (Recorded, after the commit), and
// that batch holds the position back until a read that began after the
// report has ended. Any thread; each call takes a mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

namespace crbridge {

class UnpublishedPosition {
 public:
  // Capture committed changes whose oldest source position is `position`.
  void Recorded(int64_t position);
  // The sink starts a read of the change log: what was recorded before is in it.
  void BeginRead();
  // That read (and any begun before it) ended: the log's oldest source
  // position of an app change, nullopt when it holds none.
  void EndRead(std::optional<int64_t> oldest_in_log);
  // The oldest position held back; nullopt when none is.
  std::optional<int64_t> Get() const;

 private:
  mutable std::mutex mutex_;
  std::optional<int64_t> in_log_;
  std::optional<int64_t> being_read_;    // recorded before the read under way began
  std::optional<int64_t> not_yet_read_;  // recorded since
};

}  // namespace crbridge
