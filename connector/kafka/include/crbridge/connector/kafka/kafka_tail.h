// TailKafka: a consumer of the change events crbridge publishes
// (docs/kafka.md) that prints each as one readable line; what
// `crbridge tail` runs, and an example for users writing their own.
//
// It reads the config's topic, or with topic_per_table every topic
// "<topic>.<table>" (new tables' topics are picked up as they appear), in
// a consumer group of its own that commits nothing. Runs on the calling
// thread; `stop` may be set from a signal handler or another thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ostream>

#include "crbridge/mappings/config.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

struct TailOptions {
  bool from_beginning = false;  // false: only events published from now on
  int64_t max_events = 0;       // stop after this many; 0: no limit
  // Stop after this long without an event; zero or less: wait forever.
  std::chrono::milliseconds idle_timeout{0};
};

// Prints every event to `out` (a line each, flushed) and a warning per
// malformed event or passing broker problem to `warnings`, until
// max_events, the idle timeout or `stop`. OK then, with *printed the
// number of events printed; Unavailable when the consumer fails for good,
// InvalidArgument when librdkafka refuses the settings.
Status TailKafka(const KafkaConfig& kafka, const TailOptions& options, const std::atomic<bool>& stop,
                 std::ostream& out, std::ostream& warnings, int64_t* printed);

}  // namespace crbridge
