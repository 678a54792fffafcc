#include "cmd/cli_escape.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cmd/cli_commands.h"
#include "cmd/cli_status.h"

namespace keel::cmd {
namespace {

std::vector<std::string> texts(const CliCommandTokens& tokens) {
  std::vector<std::string> out;
  for (const CliToken& token : tokens) out.push_back(token.text);
  return out;
}

CliCommandTokens one_command(std::string_view line) {
  std::vector<CliCommandTokens> commands = parse_cli_line(line);
  EXPECT_EQ(commands.size(), 1u) << line;
  return commands.empty() ? CliCommandTokens{} : commands.front();
}

CliRequest request_of(std::string_view line) { return parse_cli_request(one_command(line)); }

template <class Exception>
std::string message_of(std::string_view line) {
  try {
    request_of(line);
  } catch (const Exception& error) {
    return error.message;
  }
  ADD_FAILURE() << "accepted " << line;
  return "";
}

TEST(CliEscapeTest, PrintableEscapesLikeFdbcli) {
  EXPECT_EQ(printable("hello world~"), "hello world~");
  EXPECT_EQ(printable("a\\b"), "a\\\\b");
  EXPECT_EQ(printable(std::string("\x00\x01\x7f\xff\n", 5)), "\\x00\\x01\\x7f\\xff\\x0a");
  EXPECT_EQ(printable(""), "");
}

TEST(CliEscapeTest, EveryByteRoundTripsThroughPrintable) {
  std::string all;
  for (int byte = 0; byte < 256; ++byte) all.push_back(static_cast<char>(byte));
  // Printed as fdbcli does: `"` stays as is, so it needs `\"` inside a quoted argument.
  std::string typed = "\"";
  for (const char c : printable(all)) typed += c == '"' ? std::string("\\\"") : std::string(1, c);
  typed += "\"";
  const CliCommandTokens tokens = one_command(typed);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].text, all);
}

TEST(CliEscapeTest, SplitsArgumentsAndCommands) {
  std::vector<CliCommandTokens> commands = parse_cli_line("  set a  b ;get a;; getrange \"\" \\xff  ");
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_EQ(texts(commands[0]), (std::vector<std::string>{"set", "a", "b"}));
  EXPECT_EQ(texts(commands[1]), (std::vector<std::string>{"get", "a"}));
  EXPECT_EQ(texts(commands[2]), (std::vector<std::string>{"getrange", "", "\xff"}));
  EXPECT_TRUE(parse_cli_line("   ").empty());
  EXPECT_TRUE(parse_cli_line(" ; ;").empty());
}

TEST(CliEscapeTest, QuotesGroupSpacesAndSemicolons) {
  EXPECT_EQ(texts(one_command("set \"a key\" \"x; y\"")), (std::vector<std::string>{"set", "a key", "x; y"}));
  EXPECT_EQ(texts(one_command("set a\"b c\"d \\\"q\\\"")), (std::vector<std::string>{"set", "ab cd", "\"q\""}));
  EXPECT_EQ(texts(one_command("get \"\\x00\\\\\"")), (std::vector<std::string>{"get", std::string("\0\\", 2)}));
}

TEST(CliEscapeTest, LiteralPrefixStopsAtQuoteOrEscape) {
  const CliCommandTokens tokens = one_command("reverse \"reverse\" ab\\x41c >=\"x\"");
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_TRUE(tokens[0].is_keyword("reverse"));
  EXPECT_FALSE(tokens[1].is_keyword("reverse"));
  EXPECT_EQ(tokens[2].text, "abAc");
  EXPECT_EQ(tokens[2].literal_prefix, 2u);
  EXPECT_EQ(tokens[3].literal_prefix, 2u);
}

TEST(CliEscapeTest, RejectsMalformedLines) {
  for (const char* line : {"get \"abc", "get \\q", "get \\x4", "get \\xzz", "get a\\"}) {
    EXPECT_THROW(parse_cli_line(line), CliSyntaxError) << line;
  }
}

TEST(CliEscapeTest, ParsesKeySelectors) {
  auto selector = [](std::string_view line) { return parse_key_selector(one_command(line)); };
  EXPECT_EQ(selector("a"), KeySelector::first_greater_or_equal("a"));
  EXPECT_EQ(selector(">=a"), KeySelector::first_greater_or_equal("a"));
  EXPECT_EQ(selector(">a"), KeySelector::first_greater_than("a"));
  EXPECT_EQ(selector("<=a"), KeySelector::last_less_or_equal("a"));
  EXPECT_EQ(selector("<a"), KeySelector::last_less_than("a"));
  EXPECT_EQ(selector("< a"), KeySelector::last_less_than("a"));
  EXPECT_EQ(selector(">= \"\""), KeySelector::first_greater_or_equal(""));
  KeySelector moved = KeySelector::first_greater_than("k");
  moved.offset += 3;
  EXPECT_EQ(selector(">k +3"), moved);
  moved = KeySelector::last_less_or_equal("k");
  moved.offset -= 2;
  EXPECT_EQ(selector("<=k -2"), moved);
  // An escaped or quoted operator is part of the key.
  EXPECT_EQ(selector("\\x3ek"), KeySelector::first_greater_or_equal(">k"));
  EXPECT_EQ(selector("\">=k\""), KeySelector::first_greater_or_equal(">=k"));
  for (const char* line : {">=", "a 3", "a +x", "a +1 +2", "a \"+1\"", "a +99999999999"}) {
    EXPECT_THROW(parse_key_selector(one_command(line)), CliSyntaxError) << line;
  }
}

TEST(CliCommandsTest, ParsesEachCommand) {
  CliRequest request = request_of("set k v");
  EXPECT_EQ(request.verb, CliVerb::set);
  EXPECT_EQ(request.key, "k");
  EXPECT_EQ(request.value, "v");
  request = request_of("clearrange a b");
  EXPECT_EQ(request.verb, CliVerb::clearrange);
  EXPECT_EQ(request.end, "b");
  request = request_of("getkey >a +1");
  EXPECT_EQ(request.verb, CliVerb::getkey);
  EXPECT_EQ(request.selector.offset, 2);
  request = request_of("writemode on");
  EXPECT_TRUE(request.writemode_on);
  EXPECT_FALSE(request_of("writemode off").writemode_on);
  EXPECT_EQ(request_of("quit").verb, CliVerb::exit);
  EXPECT_EQ(request_of("help get").topic, "get");
}

TEST(CliCommandsTest, ParsesAdministrationCommands) {
  CliRequest request = request_of("coordinators auto");
  EXPECT_EQ(request.verb, CliVerb::coordinators);
  EXPECT_TRUE(request.automatic);
  request = request_of("coordinators 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3");
  ASSERT_EQ(request.addresses.size(), 3u);
  EXPECT_EQ(request.addresses[2], NetworkAddress::loopback(3));
  request = request_of("configure logs=3 proxies=2 resolvers=1 double memory");
  EXPECT_EQ(request.verb, CliVerb::configure);
  EXPECT_EQ(request.tlogs, 3);
  EXPECT_EQ(request.proxies, 2);
  EXPECT_EQ(request.resolvers, 1);
  EXPECT_EQ(request.replication, 2);
  EXPECT_EQ(request.engine, "memory");
  EXPECT_FALSE(request.configure_new);
  EXPECT_TRUE(request_of("configure new triple ssd").configure_new);
  EXPECT_EQ(request_of("configure new triple ssd").replication, 3);
  request = request_of("exclude 127.0.0.1:7");
  EXPECT_EQ(request.verb, CliVerb::exclude);
  EXPECT_EQ(request.addresses, std::vector<NetworkAddress>{NetworkAddress::loopback(7)});
  EXPECT_TRUE(request_of("exclude").addresses.empty());
  EXPECT_TRUE(request_of("include all").all);
  EXPECT_EQ(request_of("include 127.0.0.1:7").addresses.size(), 1u);
  EXPECT_TRUE(is_admin(CliVerb::include));
  EXPECT_FALSE(is_admin(CliVerb::status));
}

TEST(CliCommandsTest, GetrangeDefaultsAndOptions) {
  CliRequest request = request_of("getrange a");
  EXPECT_EQ(request.key, "a");
  EXPECT_EQ(request.end, "\xff");
  EXPECT_EQ(request.limit, getrange_limit_default);
  EXPECT_FALSE(request.reverse);
  request = request_of("getrange a z 3 reverse");
  EXPECT_EQ(request.end, "z");
  EXPECT_EQ(request.limit, 3);
  EXPECT_TRUE(request.reverse);
  request = request_of("getrange a reverse");
  EXPECT_EQ(request.end, "\xff");
  EXPECT_TRUE(request.reverse);
  request = request_of("getrange a \"reverse\"");
  EXPECT_EQ(request.end, "reverse");
  EXPECT_FALSE(request.reverse);
}

TEST(CliCommandsTest, ReportsUsage) {
  // Every refusal names its error and code.
  EXPECT_EQ(message_of<CliUsageError>("get"), "ERROR: invalid_command (2149): wrong arguments for `get'\nUsage: get KEY");
  EXPECT_EQ(message_of<CliUsageError>("set a"), "ERROR: invalid_command (2149): wrong arguments for `set'\nUsage: set KEY VALUE");
  EXPECT_EQ(message_of<CliUsageError>("writemode maybe"),
            "ERROR: invalid_command (2149): wrong arguments for `writemode'\nUsage: writemode on|off");
  EXPECT_EQ(message_of<CliUsageError>("frobnicate x"), "ERROR: invalid_command (2149): Unknown command `frobnicate'. Try `help'?");
  EXPECT_NE(message_of<CliUsageError>("getrange a b 0").find("LIMIT must be a number"), std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("getrange a b 99999999").find("LIMIT"), std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("getkey a junk").find("Usage: getkey"), std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("commit now").find("\nUsage: commit"), std::string::npos);
  EXPECT_FALSE(request_of("status").json);
  EXPECT_TRUE(request_of("status json").json);
  EXPECT_NE(message_of<CliUsageError>("status xml").find("not `xml'"), std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("status json more").find("\nUsage: status [json]"), std::string::npos);
  EXPECT_EQ(message_of<CliUsageError>("configure logs=0"),
            "ERROR: configuration_invalid (2142): logs must be a number from 1 to 16, got `0'\n"
                                                           "Usage: configure [logs=N] [proxies=N] [resolvers=N] "
                                                           "[single|double|triple] [memory|ssd|rocksdb]");
  EXPECT_NE(message_of<CliUsageError>("configure quadruple").find("unknown configuration `quadruple'"), std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("configure proxies=x").find("proxies must be a number"), std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("configure").find("Usage: configure"), std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("include").find("Usage: include"), std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("coordinators 127.0.0.1:1 127.0.0.1:2")
                .find("coordinators_invalid (2141): name 1, 3 or 5 coordinators, got 2"),
            std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("coordinators 127.0.0.1:1 127.0.0.1:2 127.0.0.1:1").find("`127.0.0.1:1' is named twice"),
            std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("coordinators 127.0.0.1:1 127.0.0.1:1").find("`127.0.0.1:1' is named twice"),
            std::string::npos);
  EXPECT_NE(message_of<CliUsageError>("exclude nowhere").find("`nowhere' is not an address"), std::string::npos);
}

TEST(CliCommandsTest, HelpListsEveryCommand) {
  const std::string help = cli_help_text("");
  for (const CliCommandInfo& info : cli_command_table()) EXPECT_NE(help.find(info.usage), std::string::npos);
  EXPECT_EQ(cli_help_text("get"), "get KEY\n  Shows the value of KEY.\n");
  EXPECT_THROW(cli_help_text("nope"), CliUsageError);
  EXPECT_TRUE(is_write(CliVerb::clearrange));
  EXPECT_FALSE(is_write(CliVerb::get));
}

TEST(CliStatusTest, FormatsBytes) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(999), "999 B");
  EXPECT_EQ(format_bytes(1500), "1.5 kB");
  EXPECT_EQ(format_bytes(2'500'000'000), "2.5 GB");
}

// A storage server on 127.0.0.1:4501 that applied version 8,500,000 and made 3,500,000 durable.
StorageServerStatus storage_server_status(uint16_t tag, const std::string& engine, int64_t logical_bytes) {
  StorageServerStatus server;
  server.tag = tag;
  server.address = NetworkAddress::loopback(4501);
  server.engine = engine;
  server.latest_version = 8'500'000;
  server.durable_version = 3'500'000;
  server.logical_bytes = logical_bytes;
  return server;
}

TEST(CliStatusTest, ShowsRolesAndStorageServers) {
  ClusterStatus status;
  status.generation = 7;
  status.live_committed_version = 9'000'000;
  status.coordinator = NetworkAddress::loopback(4500);
  status.coordinators = {NetworkAddress::loopback(4500), NetworkAddress::loopback(4501),
                         NetworkAddress::loopback(4502)};
  status.recovery_state = "accepting_commits";
  status.recovery_seconds = 0.25;
  status.recoveries = 2;
  status.workers = {{NetworkAddress::loopback(4500), "unset", false},
                    {NetworkAddress::loopback(4501), "storage", true}};
  status.roles = {{"sequencer", NetworkAddress::loopback(4500)},
                  {"storage", NetworkAddress::loopback(4501)},
                  {"storage", NetworkAddress::loopback(4501)}};
  StorageServerStatus server = storage_server_status(3, "memory", 2048);
  StorageServerStatus lost = server;
  lost.tag = 4;
  lost.reachable = false;
  status.storage = {server, lost};
  const std::string text = format_cluster_status(status);
  EXPECT_NE(text.find("Generation             - 7"), std::string::npos) << text;
  EXPECT_NE(text.find("Recovery state         - accepting_commits (last recovery took 0.25 s)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Recoveries             - 2"), std::string::npos) << text;
  EXPECT_NE(text.find("Cluster controller     - 127.0.0.1:4500"), std::string::npos) << text;
  EXPECT_NE(text.find("Coordinators           - 127.0.0.1:4500, 127.0.0.1:4501, 127.0.0.1:4502"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Workers (2, 1 failed):"), std::string::npos) << text;
  EXPECT_NE(text.find("  127.0.0.1:4500        unset\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  127.0.0.1:4501        storage    failed\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Live committed version - 9000000"), std::string::npos) << text;
  EXPECT_NE(text.find("storage    127.0.0.1:4501 (x2)"), std::string::npos) << text;
  EXPECT_NE(text.find("8500000"), std::string::npos) << text;
  EXPECT_NE(text.find("0.50"), std::string::npos) << text;  // lag: 0.5 s behind the committed version
  EXPECT_NE(text.find("5.00"), std::string::npos) << text;  // durability lag
  EXPECT_NE(text.find("2.0 kB"), std::string::npos) << text;
  EXPECT_NE(text.find("memory"), std::string::npos) << text;
  EXPECT_LT(text.rfind("4    127.0.0.1:4501"), text.find("unreachable")) << text;
  EXPECT_NE(text.find("unreachable"), std::string::npos) << text;
  EXPECT_NE(text.find("Replication            - -\n"), std::string::npos) << text;  // not reported
}

// The engines' table ends each line with the row cache's hit ratio, "-" for an engine without one.
TEST(CliStatusTest, ShowsTheRowCacheHitRatioPerEngine) {
  ClusterStatus status;
  StorageServerStatus cached = storage_server_status(3, "rocksdb", 2048);
  cached.cache_hits = 3;
  cached.cache_misses = 1;
  StorageServerStatus uncached = storage_server_status(4, "memory", 2048);
  status.storage = {cached, uncached};
  const std::string text = format_cluster_status(status);
  const size_t engines = text.find("Storage engines:");
  ASSERT_NE(engines, std::string::npos) << text;
  EXPECT_NE(text.find("cache hits\n", engines), std::string::npos) << text;
  const size_t rocksdb_line = text.find("  3    rocksdb", engines);
  ASSERT_NE(rocksdb_line, std::string::npos) << text;
  EXPECT_EQ(text.substr(text.find('\n', rocksdb_line) - 6, 6), " 75.0%") << text;
  const size_t memory_line = text.find("  4    memory", engines);
  ASSERT_NE(memory_line, std::string::npos) << text;
  EXPECT_EQ(text.substr(text.find('\n', memory_line) - 2, 2), " -") << text;
}

TEST(CliStatusTest, ShowsEachStorageProcessMemoryOnce) {
  ClusterStatus status;
  StorageServerStatus server;
  server.address = NetworkAddress::loopback(4501);
  server.memory_used_bytes = 300'000'000;
  server.memory_budget_bytes = 500'000'000;
  StorageServerStatus same_process = server;
  same_process.tag = 1;
  StorageServerStatus no_budget = server;  // e.g. an older server that does not report memory
  no_budget.address = NetworkAddress::loopback(4502);
  no_budget.memory_budget_bytes = 0;
  status.storage = {server, same_process, no_budget};
  std::string text = format_cluster_status(status);
  const std::string line = "  127.0.0.1:4501          300.0 MB of   500.0 MB (60%)\n";
  ASSERT_NE(text.find("Memory (processes hosting storage servers):\n" + line), std::string::npos) << text;
  EXPECT_EQ(text.find(line), text.rfind(line)) << text;
  EXPECT_EQ(text.find("127.0.0.1:4502", text.find("Memory (")), std::string::npos) << text;
  status.storage = {no_budget};
  text = format_cluster_status(status);
  EXPECT_EQ(text.find("Memory ("), std::string::npos) << text;
}

TEST(CliStatusTest, JsonCarriesTheFiguresWithNullForUnknownOnes) {
  ClusterStatus status;
  status.generation = 7;
  status.live_committed_version = 9'000'000;
  status.recovery_state = "accepting_commits";
  status.coordinators = {NetworkAddress::loopback(4500)};
  status.storage_replicas = 2;
  status.replicas_reachable_min = 1;
  status.degraded_shards = {{KeyRange{"\x01", "b"}, 1}};
  status.rate.known = true;
  status.rate.transactions_per_second_limit = 120;
  status.rate.limited_by = "storage server 3: MVCC window";
  StorageServerStatus server = storage_server_status(3, "rocksdb", 1000);
  server.disk_bytes = 1500;
  server.logical_bytes_written = 2000;
  server.device_bytes_written = 5000;
  server.memory_used_bytes = 300;
  server.memory_budget_bytes = 1000;
  server.cache_hits = 9;
  server.cache_misses = 1;
  StorageServerStatus unknown_device = server;
  unknown_device.tag = 4;
  unknown_device.device_bytes_written = -1;
  unknown_device.cache_hits = -1;
  unknown_device.cache_misses = -1;
  StorageServerStatus lost = server;
  lost.tag = 5;
  lost.reachable = false;
  status.storage = {server, unknown_device, lost};
  const auto json = nlohmann::json::parse(cluster_status_json(status));
  EXPECT_EQ(json["generation"], 7);
  EXPECT_EQ(json["recovery_state"], "accepting_commits");
  EXPECT_EQ(json["coordinators"][0], "127.0.0.1:4500");
  EXPECT_EQ(json["replication"]["replicas"], 2);
  EXPECT_EQ(json["replication"]["healthy"], false);
  EXPECT_EQ(json["replication"]["degraded_shards"][0]["begin"], "\\x01");
  EXPECT_EQ(json["admission"]["limited"], true);
  EXPECT_EQ(json["admission"]["transactions_per_second_limit"], 120.0);
  const auto& servers = json["storage_servers"];
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_EQ(servers[0]["engine"], "rocksdb");
  EXPECT_DOUBLE_EQ(servers[0]["lag_seconds"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(servers[0]["durability_lag_seconds"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(servers[0]["write_amplification"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(servers[0]["space_amplification"].get<double>(), 1.5);
  EXPECT_EQ(servers[0]["memory_budget_bytes"], 1000);
  EXPECT_EQ(servers[0]["cache_hits"], 9);
  EXPECT_EQ(servers[0]["cache_misses"], 1);
  EXPECT_DOUBLE_EQ(servers[0]["cache_hit_ratio"].get<double>(), 0.9);
  EXPECT_TRUE(servers[1]["device_bytes_written"].is_null());
  EXPECT_TRUE(servers[1]["cache_hits"].is_null());
  EXPECT_TRUE(servers[1]["cache_hit_ratio"].is_null());
  EXPECT_TRUE(servers[1]["write_amplification"].is_null());
  EXPECT_EQ(servers[2]["reachable"], false);
  EXPECT_FALSE(servers[2].contains("engine"));

  status = ClusterStatus{};  // nothing reported: no limit, no replication mode
  const auto empty = nlohmann::json::parse(cluster_status_json(status));
  EXPECT_EQ(empty["admission"]["limited"], false);
  EXPECT_TRUE(empty["admission"]["transactions_per_second_limit"].is_null());
  EXPECT_TRUE(empty["replication"]["replicas"].is_null());
  EXPECT_TRUE(empty["storage_servers"].empty());
}

TEST(CliStatusTest, ShowsReplicationHealth) {
  ClusterStatus status;
  status.storage_replicas = 2;
  status.replicas_reachable_min = 2;
  std::string text = format_cluster_status(status);
  EXPECT_NE(text.find("  Replication            - double (2 of 2 replicas reachable for every shard)\n"),
            std::string::npos)
      << text;
  status.replicas_reachable_min = 0;
  status.degraded_shards = {{KeyRange{"", "U"}, 1}, {KeyRange{"\xff", "\xff\xff"}, 0}};
  text = format_cluster_status(status);
  EXPECT_NE(text.find("  Replication            - double - UNAVAILABLE (1 shard with no replica reachable: reads of "
                      "their keys wait until one comes back; writes commit, kept in the logs for it): 2 shards with "
                      "fewer than 2 replicas reachable "
                      "(fewest: 0): [..U) 1 of 2, [\\xff..\\xff\\xff) 0 of 2\n"),
            std::string::npos)
      << text;
  status.storage_replicas = 3;
  status.degraded_shards.assign(10, ShardReplicationStatus{KeyRange{"a", "b"}, 2});
  text = format_cluster_status(status);
  EXPECT_NE(text.find("triple - DEGRADED: 10 shards"), std::string::npos) << text;
  EXPECT_NE(text.find("[a..b) 2 of 3, and 2 more\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace keel::cmd
