// What the client commands share (cli/client_commands.cpp, cli/chain_commands.cpp): the options
// that find the daemon, one request with a timeout, and how a reply becomes an exit code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "coworker/security.hpp"

namespace coworker::cli {

struct client_args {
  std::string requests = "tcp://127.0.0.1:5570";
  std::string events = "tcp://127.0.0.1:5571";
  std::vector<std::string> requests_list, events_list;  ///< watch: one pair per node followed
  bool cluster = false;  ///< watch --cluster: every node the daemon at --requests lists
  int timeout_ms = 10000;
  std::string file, key, input, run_id, status, chain, payload;
  bool wait = false;
  bool dry_run = false;
  std::string chain_ref, name, input_schema, output_schema;  ///< publish, chains, submit --chain
  std::string db;      ///< publish/chains --db: the store file, in process instead of the daemon
  bool local = false;  ///< publish/chains --local: the default store file, in process
  int limit = 20;
  std::int64_t start_at = 0, start_delay = 0;
  std::string curve_server_key;  ///< the daemon's public key, or a file holding it
  std::string curve_key_file;    ///< this client's secret key file
  curve_keypair curve;           ///< resolved from the two above; empty: plain
};

/// One request, one reply, with a timeout: a daemon that is not there is an error, not a hang.
expected<json> request(const client_args& a, const json& req, int timeout_ms);
/// Prints a failed reply (or no reply) as `path code: message`; 0, or the exit code (1 not_found).
int report(const expected<json>& r);
/// A subcommand with the options that find the daemon.
/// `several`: --requests and --events may be given once per node (watch).
CLI::App* client_command(CLI::App& app, const char* name, const char* help, client_args& a, bool several = false);
/// Runs a command once its CURVE keys are read.
int with_keys(client_args& a, int (*command)(const client_args&));
/// A socket to the daemon, a CURVE client when keys were given. A daemon that refuses the key
/// answers nothing at all: the request times out.
void secure(zmq::socket_t& s, const client_args& a);

/// cli/cluster_commands.cpp: the live run tree of a daemon or of every node of a cluster; the live
/// nodes of a cluster.
int watch(const client_args& a);
int nodes(const client_args& a);

}  // namespace coworker::cli
