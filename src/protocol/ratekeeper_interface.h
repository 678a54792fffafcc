// The ratekeeper's interface: admission control. Proxies ask it, a few times a second, how many
// transactions per second the cluster may start (read versions handed out, and blind commits
// that start without one), reporting how many they released since they last asked. The
// ratekeeper lowers the rate when storage servers fall behind (docs/fault_tolerance.md,
// "Admission control").
#pragma once

#include <cstdint>
#include <string>

#include "protocol/wait_failure.h"
#include "rpc/request_stream.h"

namespace keel {

struct GetRateInfoReply {
  // For the whole cluster; each proxy takes its share. Negative: no limit.
  double transactions_per_second = -1;
  int32_t proxies = 1;  // proxies asking lately, among which the rate is shared
  template <class Archive>
  void serialize(Archive& archive) {
    archive(transactions_per_second, proxies);
  }
};

struct GetRateInfoRequest {
  uint64_t proxy_id = 0;
  int64_t released = 0;  // transactions admitted since this proxy's previous request
  ReplyPromise<GetRateInfoReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(proxy_id, released, reply);
  }
};

// What `status` shows about admission control.
struct RateStatus {
  bool known = false;  // a ratekeeper answered
  double transactions_per_second_limit = -1;  // negative: not limited
  double released_per_second = 0;             // transactions started, smoothed
  std::string limited_by;                     // what sets the limit ("" when not limited)
  int64_t worst_window_bytes = 0;             // the largest storage server MVCC window
  template <class Archive>
  void serialize(Archive& archive) {
    archive(known, transactions_per_second_limit, released_per_second, limited_by, worst_window_bytes);
  }
};

struct GetRateStatusRequest {
  ReplyPromise<RateStatus> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(reply);
  }
};

struct RatekeeperInterface {
  RequestStream<GetRateInfoRequest> get_rate_info;
  RequestStream<GetRateStatusRequest> get_status;
  RequestStream<WaitFailureRequest> wait_failure;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(get_rate_info, get_status, wait_failure);
  }
};

}  // namespace keel
