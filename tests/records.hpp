// A run record with every member set to something other than its default: for the tests that
// check a form of a record (a store row, event text) keeps all of it.
#pragma once

#include "coworker/run_record.hpp"

namespace coworker::test {

inline run_record record_with_every_member() {
  run_record r;
  r.id = "run-A";
  r.operation = "create";
  r.doctype = "Task";
  r.step_id = "make";
  r.step_index = 0;  // 0 is a position, not the default
  r.status = run_status::failed;
  r.created = 1;
  r.started = 2;
  r.finished = 3;
  r.attempt_started = 4;
  r.retry_at = 5;
  r.start_at = 6;
  r.input = share(json{{"a", 1}});
  r.output = share(json::array({1, 2}));
  r.err = run_error{"invalid_input", "bad", "run-A", "create", "/children/0/input"};
  r.success = true;
  r.recovered = true;
  r.attempts = 3;
  r.redrives = 2;
  r.chain_name = "triage";
  r.chain_version = 9;
  r.chain_sha256 = "abc";
  r.trace_id = "0af7651916cd43dd8448eb211c80319c";
  r.parent_span_id = "b7ad6b7169203331";
  r.parent_run_id = "run-P";
  r.owner_run_id = "run-C";
  r.child_run_ids = {"run-X", "run-Y"};
  r.chain_id = "run-C";
  r.role = "assistant";
  r.keep_alive = true;
  return r;
}

}  // namespace coworker::test
