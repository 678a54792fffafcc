// The coordinators' interface: a generation register (the two phases of single-decree Paxos
// over the core state) and leader election of the cluster controller (docs/coordination.md).
//
// Every request names the cluster id of the coordinator set it is meant for (the cluster file's
// id): a coordinator keeps one register and one leader register per id. Once a set's core state
// has moved to a new set (`keel cli coordinators`), each of its coordinators is told the new
// connection string (ForwardRequest) and from then on answers that id's register and candidacy
// requests with coordinators_changed and its leader queries with the forward, so every process
// finds the new set.
//
// Register requests name a Generation; a coordinator orders them lexicographically. A proposer
// draws `proposer` at random once and raises `counter` past every generation it has seen, so
// two proposers never share a generation; `sequence` numbers the writes one proposer makes
// after one read (each write needs a generation of its own).
//
// Wire format: fields in serialize() order; never reorder them.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <vector>

#include "rpc/request_stream.h"

namespace keel {

// The coordinated state is small (the core state: where the logs of the last generations are).
inline constexpr size_t coordinated_value_bytes_max = 1024 * 1024;

struct Generation {
  uint64_t counter = 0;
  uint64_t proposer = 0;
  uint64_t sequence = 0;
  auto operator<=>(const Generation&) const = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(counter, proposer, sequence);
  }
};

// Phase 1: promise to reject writes below `generation`; report what was last accepted.
struct RegisterReadReply {
  std::string value;              // the value last accepted ("" if none)
  Generation write_generation;    // its generation (all zero if none)
  Generation read_generation;     // the highest generation promised, this request's included
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value, write_generation, read_generation);
  }
};

struct RegisterReadRequest {
  std::string cluster_id;
  Generation generation;
  ReplyPromise<RegisterReadReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(cluster_id, generation, reply);
  }
};

// Phase 2: accept `value` at `generation` unless a higher generation was promised.
struct RegisterWriteReply {
  bool accepted = false;
  Generation read_generation;  // the highest generation promised (why a write was rejected)
  template <class Archive>
  void serialize(Archive& archive) {
    archive(accepted, read_generation);
  }
};

struct RegisterWriteRequest {
  std::string cluster_id;
  Generation generation;
  std::string value;
  ReplyPromise<RegisterWriteReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(cluster_id, generation, value, reply);
  }
};

// A candidate for cluster controller. Better candidates have a higher priority, then a higher
// candidate id; `change_id` is redrawn whenever the candidate's description changes.
// `description` is opaque to the coordinators: the leader publishes there what clients need to
// find the cluster (its interface, later the current proxies).
struct LeaderInfo {
  uint64_t candidate_id = 0;
  uint64_t change_id = 0;
  int32_t priority = 0;
  std::string description;
  bool operator==(const LeaderInfo&) const = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(candidate_id, change_id, priority, description);
  }
};

struct CandidacyReply {
  std::optional<LeaderInfo> nominee;  // whom this coordinator nominates now (none: no candidate yet)
  bool confirmed = false;             // a claim was granted: the coordinator holds to this candidate for a lease
  template <class Archive>
  void serialize(Archive& archive) {
    archive(nominee, confirmed);
  }
};

// A candidate's heartbeat. With `claim`, the candidate (nominated by a majority at its last
// round) asks the coordinator to commit to it for one lease.
struct CandidacyRequest {
  std::string cluster_id;
  LeaderInfo candidate;
  bool claim = false;
  ReplyPromise<CandidacyReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(cluster_id, candidate, claim, reply);
  }
};

struct GetLeaderReply {
  std::optional<LeaderInfo> leader;  // the candidate this coordinator is committed to, if any
  std::string forward;               // the new set's connection string once the set moved, else ""
  // When this coordinator holds nothing under the id asked: the ids of the sets it serves (not
  // forwarded), so a client whose cluster file names another cluster can be told so.
  std::vector<std::string> clusters_held;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(leader, forward, clusters_held);
  }
};

struct GetLeaderRequest {
  std::string cluster_id;
  ReplyPromise<GetLeaderReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(cluster_id, reply);
  }
};

// Retires the set `cluster_id` names: from now on this coordinator forwards it to `forward` (a
// connection string). Answered once durable. A set is forwarded at most once; a second,
// different forward is ignored.
struct ForwardRequest {
  std::string cluster_id;
  std::string forward;
  ReplyPromise<Void> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(cluster_id, forward, reply);
  }
};

struct CoordinatorInterface {
  RequestStream<RegisterReadRequest> read;
  RequestStream<RegisterWriteRequest> write;
  RequestStream<CandidacyRequest> candidacy;
  RequestStream<GetLeaderRequest> get_leader;
  RequestStream<ForwardRequest> forward;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(read, write, candidacy, get_leader, forward);
  }
};

// A set of coordinators as requests address it: its cluster id and one interface per member.
struct CoordinatorSet {
  std::string cluster_id;
  std::vector<CoordinatorInterface> coordinators;
};

}  // namespace keel
