// The one table of KeelDB error codes: stable numbers, names and user-facing messages.
//
// Numbers follow FoundationDB's where the concept matches, so operators and client authors who
// know that system read ours without a lookup. Codes are part of the wire protocol and the client
// API: never renumber or reuse one. Add a code only when a caller would react to it differently.
//
// Each row: KEEL_ERROR(name, code, message). The macro builds a table, it hides no control flow.
#pragma once

#define KEEL_ERROR_TABLE(KEEL_ERROR)                                                                \
  KEEL_ERROR(success, 0, "Success")                                                                \
  KEEL_ERROR(end_of_stream, 1, "End of stream")                                                    \
  KEEL_ERROR(operation_failed, 1000, "Operation failed")                                           \
  KEEL_ERROR(wrong_shard_server, 1001, "Shard is not available from this server")                  \
  KEEL_ERROR(timed_out, 1004, "Operation timed out")                                               \
  KEEL_ERROR(coordinated_state_conflict, 1005, "Conflict occurred while changing coordination information") \
  KEEL_ERROR(transaction_too_old, 1007, "Transaction is too old to perform reads or be committed") \
  KEEL_ERROR(future_version, 1009, "Request for future version")                                   \
  KEEL_ERROR(not_committed, 1020, "Transaction not committed due to conflict with another transaction") \
  KEEL_ERROR(commit_unknown_result, 1021, "Transaction may or may not have committed")             \
  KEEL_ERROR(transaction_cancelled, 1025, "Operation aborted because the transaction was cancelled") \
  KEEL_ERROR(connection_failed, 1026, "Network connection failed")                                 \
  KEEL_ERROR(request_maybe_delivered, 1030, "Request may or may not have been delivered")          \
  KEEL_ERROR(too_many_watches, 1032, "Too many watches are set: wait for some to fire or cancel them") \
  KEEL_ERROR(read_version_unavailable, 1040, "The storage server could not get a read version from a proxy for a read; the client asks a proxy itself") \
  KEEL_ERROR(broken_promise, 1100, "Broken promise: the other side dropped the request")           \
  KEEL_ERROR(operation_cancelled, 1101, "Asynchronous operation cancelled")                        \
  KEEL_ERROR(process_killed, 1110, "The process was killed")                                       \
  KEEL_ERROR(tlog_stopped, 1011, "The transaction log was locked by a recovery: its generation has ended; retry") \
  KEEL_ERROR(coordinators_changed, 1203, "The cluster's coordinators changed: the process follows them to the new set") \
  KEEL_ERROR(coordinators_unreachable, 1204, "Too few of the new coordinators answered: name running keel server processes of this cluster") \
  KEEL_ERROR(recovery_failed, 1206, "A recovery step failed; the cluster controller starts another recovery") \
  KEEL_ERROR(leadership_lost, 1290, "This process is no longer the elected leader of the cluster")    \
  KEEL_ERROR(io_error, 1510, "Disk i/o operation failed")                                          \
  KEEL_ERROR(file_not_found, 1511, "File not found")                                               \
  KEEL_ERROR(bind_failed, 1512, "Unable to bind to network")                                       \
  KEEL_ERROR(file_exists, 1517, "File already exists")                                             \
  KEEL_ERROR(disk_full, 1518, "The disk is full (keel server keeps 32 MB free on its data directory's disk): free space, then restart") \
  KEEL_ERROR(serialization_failed, 1530, "Message could not be decoded")                           \
  KEEL_ERROR(frame_too_large, 1531, "Network frame exceeds the maximum frame size")                \
  KEEL_ERROR(checksum_failed, 1532, "Checksum mismatch: data is corrupt")                          \
  KEEL_ERROR(incompatible_protocol_version, 1533, "Peer speaks an incompatible protocol version")   \
  KEEL_ERROR(invalid_address, 1534, "Network address is not of the form IP:PORT")                  \
  KEEL_ERROR(client_invalid_operation, 2000, "Invalid API call")                                   \
  KEEL_ERROR(test_specification_invalid, 2003, "Simulation test specification is invalid")         \
  KEEL_ERROR(key_outside_legal_range, 2004, "Key outside legal range (system keys need the access_system_keys option)") \
  KEEL_ERROR(inverted_range, 2005, "Range begin key larger than end key")                         \
  KEEL_ERROR(invalid_option_value, 2006, "Option set with an invalid value")                       \
  KEEL_ERROR(read_version_already_set, 2010, "Transaction already has a read version set")         \
  KEEL_ERROR(used_during_commit, 2017, "Operation issued while a commit was outstanding")           \
  KEEL_ERROR(transaction_committed, 2018, "The transaction's writes went to a commit already: reset it (or call on_error after a failed commit) before writing or committing again") \
  KEEL_ERROR(no_cluster_file_found, 1515, "No cluster file found: pass -C or start keel server first") \
  KEEL_ERROR(shard_map_mismatch, 2140, "The cluster's shard map names a storage server this configuration lacks: start with the --storage-servers or --config the cluster was created with") \
  KEEL_ERROR(coordinators_invalid, 2141, "Invalid coordinators: name 1, 3 or 5 distinct addresses of keel server processes registered with the cluster") \
  KEEL_ERROR(configuration_invalid, 2142, "Invalid configuration: the counts of logs, proxies and resolvers are 1 to 16") \
  KEEL_ERROR(configuration_unsupported, 2143, "The storage engine of a running cluster cannot change online: start a new cluster with that --engine (or --config)") \
  KEEL_ERROR(engine_mismatch, 2144, "The storage directory holds another storage engine's data: start the server with the --engine its data was created with (the server's trace event StorageEngineMismatch names it)") \
  KEEL_ERROR(replication_needs_zones, 2145, "The replication asked for needs more zones with storage servers than the cluster has: add storage processes in other zones first") \
  KEEL_ERROR(no_transaction_host_left, 2146, "That exclusion would leave no live process to host the transaction roles: add or include a process first") \
  KEEL_ERROR(resp_record_invalid, 2147, "A record under the Redis front end's prefix is not in its format (written through the native API?): DEL removes the key, SET replaces it") \
  KEEL_ERROR(database_exists, 2148, "The database already exists (a cluster is created by `keel server': replication in its --config, engine with --engine): leave out `new' to change its configuration") \
  KEEL_ERROR(invalid_command, 2149, "The cli command is not valid as typed: `help' lists the commands and their arguments") \
  KEEL_ERROR(transaction_state_invalid, 2150, "Not possible in the cli's transaction state: `begin' starts a transaction, `commit' or `rollback' ends it") \
  KEEL_ERROR(writemode_off, 2151, "Writes are off in this cli session: `writemode on' enables them") \
  KEEL_ERROR(data_directory_locked, 2152, "The data directory is in use by another keel server process: stop it, or pass another --data") \
  KEEL_ERROR(data_directory_mismatch, 2153, "The data directory belongs to a cluster at other addresses: start with the --listen it names, or pass another --data") \
  KEEL_ERROR(cluster_config_invalid, 2154, "The cluster configuration file (--config) is not valid: fix what the message names") \
  KEEL_ERROR(connection_string_invalid, 2104, "Cluster file contents are invalid")                 \
  KEEL_ERROR(transaction_too_large, 2101, "Transaction exceeds byte limit")                        \
  KEEL_ERROR(key_too_large, 2102, "Key length exceeds limit")                                      \
  KEEL_ERROR(value_too_large, 2103, "Value length exceeds limit")                                  \
  KEEL_ERROR(unknown_error, 4000, "An unknown error occurred")                                     \
  KEEL_ERROR(internal_error, 4100, "An internal error occurred")
