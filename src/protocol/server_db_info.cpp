#include "protocol/server_db_info.h"

namespace keel {

const char* recovery_state_name(RecoveryState state) {
  switch (state) {
    case RecoveryState::reading_core_state:
      return "reading_core_state";
    case RecoveryState::locking_old_logs:
      return "locking_old_logs";
    case RecoveryState::recruiting:
      return "recruiting";
    case RecoveryState::writing_core_state:
      return "writing_core_state";
    case RecoveryState::accepting_commits:
      return "accepting_commits";
  }
  return "unknown";
}

}  // namespace keel
